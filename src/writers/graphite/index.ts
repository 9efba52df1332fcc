// Graphite: sends datapoints to carbon, pickle or plaintext, over one persistent TCP connection.
// Three parts: the connection (connect, reconnect with backoff, timeouts), the send queue (what
// waits, and what was sent recently and is sent again if the connection is lost) and this thin
// writer, which encodes batches into the queue. The core's writer runtime buffers the batches
// this writer refuses while carbon is unreachable.
import {
  ParamError,
  Writer,
  type Batch,
  type JsonSchema,
  type Logger,
  type PluginContext,
  type WriteOutcome,
  type WriterContext,
  type WriterParams,
} from '../../sdk/index.js';
import { diskQueueParam } from '../../sdk/params.js';
import { Connection, STABLE_MS } from './connection.js';
import { PathBuilder } from './path.js';
import { PickleEncoder, type EncodeResult } from './pickle.js';
import { encodePlaintext } from './plaintext.js';
import { SendQueue } from './send-queue.js';

const schema = {
  type: 'object',
  properties: {
    host: { type: 'string', minLength: 1, default: 'localhost', description: "carbon's host name or address" },
    port: { type: 'integer', minimum: 1, maximum: 65535, description: "carbon's port (default 2004 for pickle, 2003 for plaintext)" },
    picklePort: { type: 'integer', minimum: 1, maximum: 65535, description: "The Python pollect's name for port (pickle only)" },
    protocol: { enum: ['pickle', 'plaintext'], default: 'pickle', description: 'Wire protocol' },
    prefix: { type: 'string', description: 'Prepended to every path, e.g. "servers.web01"' },
    tags: { type: 'boolean', default: false, description: 'Send labels as Graphite 1.1 tags (name;label=value) instead of path segments' },
    reconnectMin: { type: 'number', exclusiveMinimum: 0, default: 0.5, description: 'First wait before reconnecting, in seconds; doubles after each failure' },
    reconnectMax: { type: 'number', exclusiveMinimum: 0, default: 30, description: 'Longest wait before reconnecting, in seconds' },
    connectTimeout: { type: 'number', exclusiveMinimum: 0, default: 5, description: 'Seconds a connect attempt may take' },
    writeTimeout: {
      type: 'number',
      exclusiveMinimum: 0,
      default: 30,
      description: 'A connection that takes no bytes for this many seconds is dropped and replaced',
    },
    diskQueue: diskQueueParam,
    resendWindow: {
      type: 'number',
      minimum: 0,
      default: 30,
      description: 'Seconds a sent datapoint is kept to be sent again if its connection is lost; 0: never',
    },
  },
} as const satisfies JsonSchema;

export type GraphiteConfig = WriterParams<typeof schema>;

/** Datapoints the send queue takes before write() waits for the socket; the rest waits in the core's buffer. */
export const QUEUE_POINTS = 10_000;
/** A message is written to at most this many connections (issue 17: a reset loop must not resend for ever). */
export const MAX_SENDS = 4;
/** Messages written per event-loop turn: a backlog after an outage must not hold up the executors. */
const MESSAGES_PER_TURN = 100;

/** What the writer tells about its connection, besides the core's counters. */
export interface GraphiteStatus {
  connected: boolean;
  /** Datapoints sent again after a connection was lost. */
  resent: number;
  /** Datapoints no longer sent again after MAX_SENDS writes on connections that were lost (most were delivered). */
  givenUp: number;
  /** Datapoints written to the current connection within resendWindow. */
  unconfirmed: number;
}

export class GraphiteWriter extends Writer<GraphiteConfig> {
  static override description = 'Sends samples to Graphite carbon (pickle or plaintext), riding out outages';
  static override schema = schema;

  private readonly protocol: 'pickle' | 'plaintext';
  private readonly paths: PathBuilder;
  private readonly encoder = new PickleEncoder();
  private readonly queue: SendQueue;
  private readonly conn: Connection;
  private log: Logger;
  /** write() calls waiting for room in the send queue. */
  private roomWaiters: { resolve: () => void; reject: (err: Error) => void }[] = [];
  /** flush() calls waiting until the kernel has taken everything. */
  private drainWaiters: (() => void)[] = [];
  private pumpScheduled = false;
  /**
   * From a failure until a connection stays up for STABLE_MS, so that a carbon (or a proxy) that
   * drops every connection soon after accepting it is one outage: one warning, one recovery line.
   */
  private outage: { since: number; warned: boolean; recovered: boolean; resent: number } | undefined;
  private warned = new Set<string>();

  constructor(config: GraphiteConfig, context?: PluginContext) {
    super(config, context);
    const { port, picklePort, protocol } = config;
    if (picklePort !== undefined && port !== undefined && port !== picklePort) {
      throw new ParamError('picklePort', `port (${port}) and picklePort (${picklePort}) disagree; give one`);
    }
    if (picklePort !== undefined && protocol !== 'pickle') {
      throw new ParamError('picklePort', `picklePort is for protocol "pickle", not "${protocol}"; use port`);
    }
    this.protocol = protocol;
    this.log = this.context.log;
    this.paths = new PathBuilder({ prefix: config.prefix, tags: config.tags });
    this.queue = new SendQueue({
      resendWindowMs: config.resendWindow * 1000,
      maxSends: MAX_SENDS,
      // Without the core's bufferSize (a writer built by hand), the window alone bounds it.
      maxUnconfirmedPoints: config.bufferSize ?? Infinity,
      now: Date.now,
    });
    this.conn = new Connection({
      host: config.host,
      port: port ?? picklePort ?? (protocol === 'pickle' ? 2004 : 2003),
      connectTimeoutMs: config.connectTimeout * 1000,
      writeTimeoutMs: config.writeTimeout * 1000,
      reconnectMinMs: config.reconnectMin * 1000,
      reconnectMaxMs: config.reconnectMax * 1000,
      onConnect: () => this.onConnect(),
      onLost: (reason, upMs) => this.onLost(reason, upMs),
      onDrain: () => this.pump(),
    });
  }

  private get target(): string {
    return `${this.conn.target} (${this.protocol})`;
  }

  override start(ctx: WriterContext): void {
    this.log = ctx.log;
    this.reportDropped = ctx.reportDropped;
    this.conn.open();
  }

  /** Counts points lost after write() took them; the core's until start() hands it over. */
  private reportDropped: (count: number) => void = () => {};

  /**
   * Encodes the batch into the send queue, once carbon is connected. While it is not, tries to
   * connect now (not after the backoff) and throws if that fails: the core then keeps the batch
   * in its buffer and tries again with its own backoff. While the queue is full, waits for the
   * socket to take data. NaN values (carbon discards them) and datapoints too long for any
   * message are returned as dropped.
   */
  override async write(batch: Batch): Promise<WriteOutcome> {
    if (this.conn.state !== 'connected') await this.conn.retryNow();
    if (this.conn.state === 'closed') throw new Error('the writer is stopped');
    if (this.conn.state !== 'connected') throw this.unreachable();
    if (this.queue.pendingPoints >= QUEUE_POINTS) {
      await this.room();
      // Stopped while waiting: the core has counted the batch as not written.
      if (this.stopped()) return;
    }
    const { dropped, delivered } = this.enqueue(batch);
    this.schedulePump();
    return { dropped, delivered };
  }

  /** Resolves once the kernel has taken everything queued (reconnecting now if carbon is down). */
  override flush(): Promise<void> {
    if (this.drained()) return Promise.resolve();
    void this.conn.retryNow();
    return new Promise((resolve) => this.drainWaiters.push(resolve));
  }

  /**
   * Half-closes the connection and waits for carbon to close its side, which confirms that it read
   * everything. The core calls flush() first and bounds both by its shutdown deadline.
   */
  override async stop(): Promise<void> {
    // A write waiting for room is given up: the core has counted its batch as not written.
    for (const w of this.roomWaiters.splice(0)) w.resolve();
    // With data still unsent, carbon is not reading (flush ran to the deadline): a half-close would
    // wait for it behind that data, so the connection is dropped and what is left is counted now.
    if (!this.drained()) this.conn.close();
    else if (await this.conn.end()) this.queue.confirmAll();
    const left = this.queue.clear();
    if (left.pending > 0) {
      this.reportDropped(left.pending);
      this.log.warn(`writer ${this.id}: stopped with ${left.pending} datapoint(s) not sent to ${this.target}`);
    } else if (left.unconfirmed > 0) {
      this.log.warn(`writer ${this.id}: stopped; carbon did not confirm the last ${left.unconfirmed} datapoint(s) by closing the connection`);
    }
    for (const w of this.drainWaiters.splice(0)) w();
  }

  /** Datapoints in the send queue not yet written to a connection. */
  override pending(): number {
    return this.queue.pendingPoints;
  }

  status(): GraphiteStatus {
    return {
      connected: this.conn.state === 'connected',
      resent: this.queue.resent,
      givenUp: this.queue.givenUp,
      unconfirmed: this.queue.unconfirmedPoints,
    };
  }

  /**
   * Encodes the batch's points into messages; returns how many it refused, and when all its
   * messages count as delivered (carbon acknowledges nothing: once they left the resend window).
   */
  private enqueue(batch: Batch): { dropped: number; delivered: Promise<void> } {
    const paths: string[] = [];
    const stamps: number[] = [];
    const values: number[] = [];
    let nan = 0;
    for (const p of batch.points) {
      if (Number.isNaN(p.value)) {
        nan++;
        continue;
      }
      paths.push(this.paths.path(p.name, p.labels));
      // Carbon stores whole seconds; the point's stamp is in milliseconds.
      stamps.push(Math.floor(p.timestamp / 1000));
      values.push(p.value);
    }
    if (nan) this.warnOnce('nan', `writer ${this.id}: NaN values are not sent (carbon discards them); counted as dropped`);
    let oversize = 0;
    let left = 1;
    let resolve: () => void = () => {};
    const delivered = new Promise<void>((r) => (resolve = r));
    const done = () => {
      if (--left === 0) resolve();
    };
    for (let i = 0; i < paths.length; ) {
      const r: EncodeResult =
        this.protocol === 'pickle' ? this.encoder.encode(paths, stamps, values, i, paths.length) : encodePlaintext(paths, stamps, values, i, paths.length);
      if (r.count === 0) {
        oversize++;
        i++;
        continue;
      }
      left++;
      this.queue.add(r.bytes, r.count, done);
      i += r.count;
    }
    done();
    if (oversize) this.warnOnce('oversize', `writer ${this.id}: a datapoint with a path too long for carbon was not sent; counted as dropped`);
    return { dropped: nan + oversize, delivered };
  }

  private schedulePump(): void {
    if (this.pumpScheduled) return;
    this.pumpScheduled = true;
    setImmediate(() => {
      this.pumpScheduled = false;
      this.pump();
    });
  }

  /** Writes queued messages while the socket has room. */
  private pump(): void {
    for (let sent = 0; this.conn.writable; sent++) {
      if (sent === MESSAGES_PER_TURN) {
        this.schedulePump();
        break;
      }
      const m = this.queue.next();
      if (!m) break;
      this.conn.write(m.bytes, (handed) => {
        if (handed) this.queue.handed(m);
        this.checkDrained();
      });
    }
    this.queue.prune();
    if (this.queue.pendingPoints < QUEUE_POINTS) for (const w of this.roomWaiters.splice(0)) w.resolve();
    this.checkDrained();
  }

  /** Waits for room in the send queue; throws when carbon becomes unreachable meanwhile. */
  private room(): Promise<void> {
    return new Promise((resolve, reject) => this.roomWaiters.push({ resolve, reject }));
  }

  private stopped(): boolean {
    return this.conn.state === 'closed';
  }

  private drained(): boolean {
    return this.queue.pendingPoints === 0 && this.conn.buffered === 0;
  }

  private checkDrained(): void {
    if (!this.drained() || this.conn.state !== 'connected') return;
    for (const w of this.drainWaiters.splice(0)) w();
    const o = this.outage;
    if (!o || o.recovered) return;
    o.recovered = true;
    if (!o.warned) return;
    this.log.info(
      `writer ${this.id}: connected to ${this.target} again after ${((Date.now() - o.since) / 1000).toFixed(1)} s; ` +
        `${this.queue.resent - o.resent} datapoint(s) sent again`,
    );
  }

  private onConnect(): void {
    this.log.debug(`writer ${this.id}: connected to ${this.target}`);
    this.pump();
  }

  private onLost(reason: string, upMs: number | undefined): void {
    const wasConnected = upMs !== undefined;
    // Nothing says what carbon read before the connection went: send it again.
    // Whisper keeps one value per timestamp, so a duplicate overwrites itself.
    const again = this.queue.lost();
    if (wasConnected && upMs >= STABLE_MS) this.outage = undefined;
    this.outage ??= { since: Date.now(), warned: false, recovered: false, resent: this.queue.resent };
    if (wasConnected && !this.outage.warned) {
      this.outage.warned = true;
      this.log.warn(
        `writer ${this.id}: lost the connection to ${this.target}: ${reason}; reconnecting, ${again} recently sent datapoint(s) will be sent again`,
      );
    } else {
      this.log.debug(`writer ${this.id}: ${wasConnected ? 'lost the connection' : 'cannot connect'} to ${this.target}: ${reason}`);
    }
    if (this.conn.state === 'waiting') {
      const err = this.unreachable();
      for (const w of this.roomWaiters.splice(0)) w.reject(err);
    }
    this.pump();
  }

  private unreachable(): Error {
    return new Error(`cannot reach carbon at ${this.target}: ${this.conn.lastError}`);
  }

  private warnOnce(key: string, msg: string): void {
    if (this.warned.has(key)) return;
    this.warned.add(key);
    this.log.warn(msg);
  }
}
