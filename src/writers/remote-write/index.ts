// PrometheusRemoteWrite: pushes the samples to a Prometheus remote_write 1.0 endpoint (Prometheus
// with --web.enable-remote-write-receiver, Mimir, Cortex, Thanos Receive, VictoriaMetrics),
// protobuf + snappy, named as the Prometheus writer names them. Small batches (several executors
// ticking together) are held for up to `batchWait` and sent together, up to `maxSamplesPerSend`
// per request. Retrying is the core's: a failed send fails write(), and the core tries the same
// batch again after its backoff (or the backend's Retry-After).
import {
  Writer,
  type Batch,
  type JsonSchema,
  type Logger,
  type PluginContext,
  type Point,
  type WriteOutcome,
  type WriterContext,
  type WriterParams,
} from '../../sdk/index.js';
import { createNamer } from '../prometheus/naming.js';
import { HttpPush, httpPushKeys } from '../http-push.js';
import { RemoteWriteEncoder } from './encode.js';
import { remoteTypes } from './proto.js';
import { loadSnappy } from './snappy.js';

const schema = {
  type: 'object',
  properties: {
    ...httpPushKeys,
    url: { type: 'string', minLength: 1, description: 'remote_write endpoint, e.g. http://prometheus:9090/api/v1/write' },
    naming: {
      enum: ['pollect', 'prometheus'],
      default: 'pollect',
      description: "Names as the Prometheus writer's: pollect (as the Python pollect) or prometheus (snake_case, base units, _total)",
    },
    maxSamplesPerSend: { type: 'integer', minimum: 1, default: 2000, description: 'Samples per request at most' },
    batchWait: {
      type: 'number',
      minimum: 0,
      default: 1,
      description: 'Seconds a sample may wait for others to share its request (0: send each batch at once)',
    },
  },
  required: ['url'],
} as const satisfies JsonSchema;

export type RemoteWriteConfig = WriterParams<typeof schema>;

const HEADERS = {
  'Content-Type': 'application/x-protobuf',
  'Content-Encoding': 'snappy',
  'User-Agent': 'pollect',
  'X-Prometheus-Remote-Write-Version': '0.1.0',
};

export class RemoteWriteWriter extends Writer<RemoteWriteConfig> {
  static override description = 'Pushes the samples to a Prometheus remote_write endpoint (Prometheus, Mimir, VictoriaMetrics ...)';
  static override schema = schema;

  private readonly http: HttpPush;
  private log: Logger;
  private reportDropped: (count: number) => void = () => {};
  private encoder: RemoteWriteEncoder | undefined;
  private compress: ((b: Uint8Array) => Uint8Array) | undefined;
  /** Points taken and not yet sent, oldest first; the last `current` belong to the batch being written. */
  private held: Point[] = [];
  /** When the oldest held point was taken (ms). */
  private heldSince = 0;
  /** The batch write() is working on (appended to `held` once, even when the core retries it). */
  private taking: Batch | undefined;
  private current = 0;
  /** Of `taking`'s points, those the backend refused for good so far. */
  private currentRefused = 0;
  /** The last send of held points failed: the next write sends them first. */
  private failing = false;
  private timer: NodeJS.Timeout | undefined;
  /** Sends run one at a time, in order: write(), the batchWait timer and flush() queue here. */
  private busy: Promise<unknown> = Promise.resolve();
  private readonly warned = new Set<number>();

  constructor(config: RemoteWriteConfig, context?: PluginContext) {
    super(config, context);
    this.log = this.context.log;
    this.http = new HttpPush(config, this.context, config.url);
  }

  override async start(ctx: WriterContext): Promise<void> {
    this.log = ctx.log;
    this.reportDropped = ctx.reportDropped;
    await this.load();
  }

  /** protobufjs and snappyjs, imported when a writer first needs them. */
  private async load(): Promise<void> {
    if (this.encoder) return;
    const [types, pb, snappy] = await Promise.all([remoteTypes(), import('protobufjs'), loadSnappy()]);
    this.encoder = new RemoteWriteEncoder(createNamer(this.config.naming), types.Label, pb.default);
    this.compress = snappy.compress;
  }

  /**
   * Takes the batch. Its points are sent with what is held once there are maxSamplesPerSend of
   * them, or the oldest has waited batchWait, or an earlier send failed; else the batchWait timer
   * sends them. A failed send throws: the core calls write() again with the same batch, which is
   * not taken twice.
   */
  override write(batch: Batch): Promise<WriteOutcome> {
    return this.exclusive(async () => {
      await this.load();
      if (this.taking !== batch) {
        if (this.held.length === 0) this.heldSince = Date.now();
        for (const p of batch.points) this.held.push(p);
        this.taking = batch;
        this.current = batch.points.length;
        this.currentRefused = 0;
      }
      const due = this.failing || this.held.length >= this.config.maxSamplesPerSend || Date.now() - this.heldSince >= this.config.batchWait * 1000;
      if (due) await this.sendHeld();
      const dropped = this.currentRefused;
      this.taking = undefined;
      this.current = 0;
      this.arm();
      return dropped > 0 ? { dropped } : undefined;
    });
  }

  /** Sends what is held (the core calls it at shutdown, bounded by its deadline). */
  override flush(): Promise<void> {
    return this.exclusive(() => this.sendHeld());
  }

  override stop(): void {
    clearTimeout(this.timer);
    // The batch being written is the core's to count; the points taken before it are lost here.
    const lost = this.held.length - this.current;
    if (lost > 0) {
      this.reportDropped(lost);
      this.log.warn(`writer ${this.id}: stopped with ${lost} sample(s) not sent to ${this.http.target}`);
    }
    this.held = [];
    this.http.close();
  }

  /** Samples taken and not yet sent (the core counts the batch it is writing itself). */
  override pending(): number {
    return this.held.length - this.current;
  }

  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.busy.then(fn);
    this.busy = run.catch(() => {});
    return run;
  }

  /** Starts the batchWait timer for what is held, if it is not running. */
  private arm(): void {
    if (this.held.length === 0 || this.timer !== undefined) return;
    const wait = Math.max(0, this.heldSince + this.config.batchWait * 1000 - Date.now());
    this.timer = setTimeout(() => {
      this.timer = undefined;
      // A failure waits for the next write(), which throws it to the core (logged once, backed off).
      void this.exclusive(() => this.sendHeld()).catch(() => {});
    }, wait);
    this.timer.unref();
  }

  /** Sends every held point in requests of maxSamplesPerSend, oldest first; throws at the first failure. */
  private async sendHeld(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    const held = this.held;
    let sent = 0;
    try {
      while (sent < held.length) {
        const n = Math.min(held.length - sent, this.config.maxSamplesPerSend);
        const body = this.compress!(this.encoder!.encode(held, sent, sent + n));
        const result = await this.http.post(Buffer.from(body.buffer, body.byteOffset, body.byteLength), HEADERS);
        // Of these n, those of the batch being written are the core's to count; the rest it counted as written.
        const earlier = Math.max(0, Math.min(n, held.length - sent - this.current));
        this.current -= n - earlier;
        if (!result.taken) this.refused(n, earlier, result.status, result.message);
        sent += n;
      }
      this.failing = false;
    } catch (err) {
      this.failing = true;
      throw err;
    } finally {
      if (sent > 0) {
        this.held = held.slice(sent);
        this.heldSince = Date.now();
      }
    }
  }

  /** n samples were refused for good; `earlier` of them belong to batches the core counted as written. */
  private refused(n: number, earlier: number, status: number, message: string): void {
    if (earlier > 0) this.reportDropped(earlier);
    this.currentRefused += n - earlier;
    if (this.warned.has(status)) return;
    this.warned.add(status);
    this.log.warn(`writer ${this.id}: ${this.http.target} refused ${n} sample(s): ${message}; counted as dropped`);
  }
}
