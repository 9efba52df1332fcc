// PrometheusRemoteWrite: pushes the samples to a Prometheus remote_write 1.0 endpoint (Prometheus
// with --web.enable-remote-write-receiver, Mimir, Cortex, Thanos Receive, VictoriaMetrics),
// protobuf + snappy, named as the Prometheus writer names them, up to `maxSamplesPerSend` per
// request. Batching is the core's (`batchWait`, on by default here: several executors ticking
// together share a request), and so is retrying: a failed send fails write(), and the core tries
// the same batch again after its backoff (or the backend's Retry-After).
import {
  Writer,
  type Batch,
  type JsonSchema,
  type Logger,
  type PluginContext,
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
      description: 'Seconds a sample may wait in the core for others to share its request (0: send each batch at once)',
    },
    batchSize: { type: 'integer', minimum: 1, default: 2000, description: 'Samples of one write at most; once this many wait they go out at once' },
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
  private encoder: RemoteWriteEncoder | undefined;
  private compress: ((b: Uint8Array) => Uint8Array) | undefined;
  /** A batch whose first requests were taken before a later one failed: the retry sends only the rest. */
  private resume: { batch: Batch; sent: number; refused: number } | undefined;
  private readonly warned = new Set<number>();

  constructor(config: RemoteWriteConfig, context?: PluginContext) {
    super(config, context);
    this.log = this.context.log;
    this.http = new HttpPush(config, this.context, config.url);
  }

  override async start(ctx: WriterContext): Promise<void> {
    this.log = ctx.log;
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
   * Sends the batch in requests of maxSamplesPerSend, oldest first. Throws (the core retries the
   * batch) when the backend cannot be reached or answers 5xx or 429; a retry skips the requests
   * already taken. Samples refused for good (another 4xx) are returned as dropped.
   */
  override async write(batch: Batch): Promise<WriteOutcome> {
    await this.load();
    const resumed = this.resume?.batch === batch ? this.resume : undefined;
    this.resume = undefined;
    let sent = resumed?.sent ?? 0;
    let refused = resumed?.refused ?? 0;
    const points = batch.points;
    while (sent < points.length) {
      const n = Math.min(points.length - sent, this.config.maxSamplesPerSend);
      const body = this.compress!(this.encoder!.encode(points, sent, sent + n));
      let result;
      try {
        result = await this.http.post(Buffer.from(body.buffer, body.byteOffset, body.byteLength), HEADERS);
      } catch (err) {
        if (sent > 0) this.resume = { batch, sent, refused };
        throw err;
      }
      if (!result.taken) {
        refused += n;
        this.refused(n, result.status, result.message);
      }
      sent += n;
    }
    return refused > 0 ? { dropped: refused } : undefined;
  }

  override stop(): void {
    this.http.close();
  }

  /** n samples were refused for good: logged once per status. */
  private refused(n: number, status: number, message: string): void {
    if (this.warned.has(status)) return;
    this.warned.add(status);
    this.log.warn(`writer ${this.id}: ${this.http.target} refused ${n} sample(s): ${message}; counted as dropped`);
  }
}
