// Graphite: sends datapoints to carbon over one persistent TCP connection, pickle or plaintext.
// write() only queues; a pump sends when the socket takes data. Outages are ridden out with a
// bounded buffer, reconnects with backoff and jitter, and a resend of what was recently sent.
import net from 'node:net';
import { Writer, type Batch, type WriterConfig, type WriterContext, type WriterStats } from '../../sdk/index.js';
import type { JsonSchema } from '../../sdk/index.js';
import { createLogger, errorMessage, type Logger } from '../../log.js';
import { PathBuilder } from './path.js';
import { PickleEncoder, type EncodeResult } from './pickle.js';
import { encodePlaintext } from './plaintext.js';
import { PointRing } from './ring.js';

export interface GraphiteConfig extends WriterConfig {
  host?: string;
  port?: number;
  /** The Python pollect's name for the port. */
  picklePort?: number;
  protocol?: 'pickle' | 'plaintext';
  prefix?: string;
  tags?: boolean;
  /** Datapoints kept while carbon is unreachable. */
  bufferSize?: number;
  /** Seconds. */
  reconnectMin?: number;
  reconnectMax?: number;
  connectTimeout?: number;
  writeTimeout?: number;
  resendWindow?: number;
  flushTimeout?: number;
}

export interface GraphiteStats extends WriterStats {
  /** NaN values (carbon discards them) and datapoints too long for any message. */
  skipped: number;
  /** Datapoints sent again after a connection was lost. */
  resent: number;
  connected: boolean;
}

/** A message on its way: its bytes are kept so it can be sent again. */
interface Message {
  bytes: Buffer;
  count: number;
  /** When it was last written to a socket (ms); 0 if never. */
  sentAt: number;
  /** The kernel has taken it (write callback without error). */
  handed: boolean;
}

const DEFAULTS = {
  host: 'localhost',
  protocol: 'pickle' as const,
  bufferSize: 100_000,
  reconnectMin: 0.5,
  reconnectMax: 30,
  connectTimeout: 5,
  writeTimeout: 30,
  resendWindow: 30,
  flushTimeout: 10,
};

/** Stop handing messages to the socket when this much waits in Node's own buffer. */
const HIGH_WATER_BYTES = 1 << 20;
/** Messages per event-loop turn: a big backlog after an outage must not block the executors. */
const MESSAGES_PER_TURN = 20;
/** A connection that lived this long counts as a success: the backoff starts over. */
const STABLE_MS = 5_000;

export class GraphiteWriter extends Writer<GraphiteConfig> {
  static override description = 'Sends samples to Graphite carbon (pickle or plaintext), buffering through outages';
  static override schema: JsonSchema = {
    type: 'object',
    properties: {
      host: { type: 'string', minLength: 1, default: 'localhost', description: 'carbon host name or address' },
      port: { type: 'integer', minimum: 1, maximum: 65535, description: 'carbon port (default 2004 pickle, 2003 plaintext)' },
      picklePort: { type: 'integer', minimum: 1, maximum: 65535, description: "Alias of port (the Python pollect's key)" },
      protocol: { enum: ['pickle', 'plaintext'], default: 'pickle', description: 'Wire protocol' },
      prefix: { type: 'string', description: 'Prepended to every path, e.g. "servers.web01"' },
      tags: { type: 'boolean', default: false, description: 'Send labels as Graphite 1.1 tags instead of path segments' },
      bufferSize: { type: 'integer', minimum: 1, default: 100_000, description: 'Datapoints kept while carbon is unreachable; the oldest go first' },
      reconnectMin: { type: 'number', exclusiveMinimum: 0, default: 0.5, description: 'First reconnect delay (s)' },
      reconnectMax: { type: 'number', exclusiveMinimum: 0, default: 30, description: 'Longest reconnect delay (s)' },
      connectTimeout: { type: 'number', exclusiveMinimum: 0, default: 5, description: 'Connect timeout (s)' },
      writeTimeout: { type: 'number', exclusiveMinimum: 0, default: 30, description: 'A connection that takes no data for this long is dropped (s)' },
      resendWindow: { type: 'number', minimum: 0, default: 30, description: 'Sent datapoints kept this long and sent again if the connection fails (s)' },
      flushTimeout: { type: 'number', minimum: 0, default: 10, description: 'How long stop() may take to deliver the buffer (s)' },
    },
  };

  private readonly host: string;
  private readonly port: number;
  private readonly protocol: 'pickle' | 'plaintext';
  private readonly bufferSize: number;
  private readonly opts: typeof DEFAULTS;
  private readonly paths: PathBuilder;
  private readonly ring: PointRing;
  private readonly encoder = new PickleEncoder();
  private log: Logger = createLogger('Graphite');

  /** Messages to send before the ring: what a lost connection may not have delivered. */
  private resend: Message[] = [];
  private resendPoints = 0;
  /** Messages written on the current connection within resendWindow. */
  private unconfirmed: Message[] = [];
  private unconfirmedPoints = 0;

  private socket: net.Socket | null = null;
  private connected = false;
  private connectedAt = 0;
  private lastProgress = 0;
  private attempt = 0;
  private reconnectTimer: NodeJS.Timeout | null = null;
  private tickTimer: NodeJS.Timeout | null = null;
  private pumpScheduled = false;
  private running = false;
  /**
   * An outage lasts from a failure until a connection took the whole backlog or stayed up for
   * STABLE_MS, so a carbon that accepts and then drops each connection is one outage, logged once.
   */
  private outageSince = 0;
  private outageErrorLogged = false;
  private outageDropped = 0;
  private outageSent = 0;
  private warned = new Set<string>();

  private written = 0;
  private dropped = 0;
  private errors = 0;
  private skipped = 0;
  private resent = 0;

  constructor(config: GraphiteConfig) {
    super(config);
    const o = { ...DEFAULTS };
    for (const k of Object.keys(DEFAULTS) as (keyof typeof DEFAULTS)[]) {
      const v = config[k];
      if (v !== undefined) (o as Record<string, unknown>)[k] = v;
    }
    this.opts = o;
    this.host = o.host;
    this.protocol = o.protocol;
    if (this.protocol !== 'pickle' && this.protocol !== 'plaintext') {
      throw new Error(`Graphite writer: protocol must be "pickle" or "plaintext", not ${JSON.stringify(this.protocol)}`);
    }
    if (config.port !== undefined && config.picklePort !== undefined && config.port !== config.picklePort) {
      throw new Error(`Graphite writer: port (${config.port}) and picklePort (${config.picklePort}) disagree; give one`);
    }
    if (config.picklePort !== undefined && config.port === undefined && this.protocol !== 'pickle') {
      throw new Error('Graphite writer: picklePort given with protocol "plaintext"; use port');
    }
    this.port = config.port ?? config.picklePort ?? (this.protocol === 'pickle' ? 2004 : 2003);
    if (!Number.isInteger(this.port) || this.port < 1 || this.port > 65535) {
      throw new Error(`Graphite writer: port must be an integer 1..65535, not ${this.port}`);
    }
    this.bufferSize = o.bufferSize;
    if (!Number.isInteger(this.bufferSize) || this.bufferSize < 1) {
      throw new Error(`Graphite writer: bufferSize must be a positive integer, not ${this.bufferSize}`);
    }
    this.paths = new PathBuilder({ prefix: config.prefix, tags: config.tags });
    this.ring = new PointRing(this.bufferSize);
  }

  private get name(): string {
    return this.id || 'Graphite';
  }

  private get target(): string {
    return `${this.host.includes(':') ? `[${this.host}]` : this.host}:${this.port} (${this.protocol})`;
  }

  override start(ctx: WriterContext): void {
    this.log = ctx.log;
    this.running = true;
    this.tickTimer = setInterval(() => this.tick(), 1000);
    this.tickTimer.unref();
    this.connect();
  }

  override write(batch: Batch): void {
    const ring = this.ring;
    for (const p of batch.points) {
      const v = p.value;
      if (Number.isNaN(v)) {
        // Carbon drops NaN on arrival; not sending it is the same outcome, but counted.
        this.skipped++;
        this.warnOnce('nan', `${this.name}: NaN values are not sent (carbon discards them); counted in stats().skipped`);
        continue;
      }
      const path = this.paths.path(p.name.id, p.labels);
      // Carbon wants whole seconds; the point's stamp is in milliseconds.
      const ts = Math.floor(p.timestamp / 1000);
      if (this.resendPoints > 0 && this.resendPoints + ring.length >= this.bufferSize) this.dropOldestResend();
      if (ring.push(path, ts, v)) this.countDropped(1);
    }
    this.schedulePump();
  }

  override async flush(): Promise<void> {
    this.pump();
    const until = Date.now() + this.opts.flushTimeout * 1000;
    while (this.connected && !this.drained() && Date.now() < until) await sleep(20);
  }

  override async stop(): Promise<void> {
    if (!this.running) return;
    const until = Date.now() + this.opts.flushTimeout * 1000;
    // Down at the moment: try once more now rather than after the backoff delay.
    if (!this.socket && this.pending() > 0 && this.reconnectTimer) {
      clearTimeout(this.reconnectTimer);
      this.reconnectTimer = null;
      this.connect();
    }
    // Keep reconnecting until the deadline, but never wait past it.
    while (!this.drained() && Date.now() < until) {
      this.pump();
      await sleep(20);
    }
    this.running = false;
    if (this.tickTimer) clearInterval(this.tickTimer);
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.tickTimer = this.reconnectTimer = null;
    const sock = this.socket;
    let confirmed = false;
    if (sock && this.connected) {
      // Half-close and wait for carbon to close too: it does so only after reading every byte
      // before our FIN, which is the only delivery receipt the protocol offers.
      confirmed = await new Promise<boolean>((resolve) => {
        const t = setTimeout(() => resolve(false), Math.max(0, until - Date.now()));
        sock.once('end', () => {
          clearTimeout(t);
          resolve(true);
        });
        sock.once('close', () => {
          clearTimeout(t);
          resolve(false);
        });
        sock.end();
      });
    }
    sock?.destroy();
    this.socket = null;
    this.connected = false;
    if (confirmed) this.confirmAll();
    const lost = this.pending();
    if (lost > 0) {
      this.dropped += lost;
      this.log.warn(`${this.name}: stopped with ${lost} datapoints not delivered to ${this.target} within ${this.opts.flushTimeout} s`);
    } else if (!confirmed && this.unconfirmedPoints > 0) {
      this.log.warn(`${this.name}: stopped; carbon did not confirm the last ${this.unconfirmedPoints} datapoints by closing the connection`);
    }
    this.ring.shift(this.ring.length);
    this.resend = [];
    this.resendPoints = 0;
    this.unconfirmed = [];
    this.unconfirmedPoints = 0;
  }

  stats(): GraphiteStats {
    return {
      writer: this.id,
      queueLength: this.pending(),
      written: this.written,
      dropped: this.dropped,
      errors: this.errors,
      skipped: this.skipped,
      resent: this.resent,
      connected: this.connected,
    };
  }

  /** Datapoints not yet written to a socket. */
  override pending(): number {
    return this.ring.length + this.resendPoints;
  }

  /** Everything queued has been taken by the kernel. */
  private drained(): boolean {
    return this.pending() === 0 && (this.socket?.writableLength ?? 0) === 0;
  }

  private connect(): void {
    if (!this.running || this.socket) return;
    const sock = net.connect({ host: this.host, port: this.port });
    this.socket = sock;
    sock.setKeepAlive(true, 10_000);
    // Carbon sends nothing; reading keeps an eventual FIN or RST visible.
    sock.on('data', () => {});
    const timer = setTimeout(() => sock.destroy(Object.assign(new Error('connect timed out'), { code: 'ETIMEDOUT' })), this.opts.connectTimeout * 1000);
    sock.once('connect', () => {
      clearTimeout(timer);
      this.onConnected();
    });
    sock.on('drain', () => this.pump());
    let failure: unknown = null;
    sock.on('error', (err) => (failure = err));
    // Whatever the cause (error, FIN, RST), 'close' comes last and exactly once.
    sock.once('close', () => {
      clearTimeout(timer);
      if (this.socket === sock) this.onLost(failure, sock);
    });
    sock.once('end', () => {
      if (!failure) failure = new Error('carbon closed the connection');
    });
  }

  private onConnected(): void {
    this.connected = true;
    this.connectedAt = Date.now();
    this.lastProgress = this.connectedAt;
    this.log.debug(`${this.name}: connected to ${this.target}${this.outageSince ? `, ${this.pending()} datapoints to send` : ''}`);
    this.pump();
  }

  /** The outage is over once a connection took the whole backlog, or stayed up for STABLE_MS. */
  private endOutageIfRecovered(): void {
    if (!this.outageSince || !this.connected) return;
    if (!this.drained() && Date.now() - this.connectedAt < STABLE_MS) return;
    const secs = ((Date.now() - this.outageSince) / 1000).toFixed(1);
    const dropped = this.dropped - this.outageDropped;
    this.log.info(
      `${this.name}: connected to ${this.target} again after ${secs} s; ` +
        `${this.written + this.resent - this.outageSent} datapoints sent since` +
        (dropped ? `, ${dropped} dropped (buffer full)` : ''),
    );
    this.outageSince = 0;
  }

  private onLost(failure: unknown, sock: net.Socket): void {
    const wasConnected = this.connected;
    this.socket = null;
    this.connected = false;
    sock.removeAllListeners('drain');
    if (!this.running) return;
    this.errors++;
    // Nothing tells us what carbon read before the connection went: send it all again.
    // Whisper keeps one value per timestamp, so a duplicate overwrites itself.
    if (this.unconfirmed.length) {
      this.resend = this.unconfirmed.concat(this.resend);
      this.resendPoints += this.unconfirmedPoints;
      this.unconfirmed = [];
      this.unconfirmedPoints = 0;
      while (this.resendPoints + this.ring.length > this.bufferSize && this.resend.length) this.dropOldestResend();
    }
    const why = describe(failure, this.host);
    const newOutage = !this.outageSince;
    if (newOutage) {
      this.outageSince = Date.now();
      this.outageDropped = this.dropped;
      this.outageSent = this.written + this.resent;
      this.outageErrorLogged = false;
    }
    if (wasConnected && newOutage) {
      this.log.warn(
        `${this.name}: lost the connection to carbon at ${this.target}: ${why}; reconnecting, ` +
          `${this.resendPoints} recently sent datapoints will be sent again`,
      );
    } else if (!wasConnected && !this.outageErrorLogged) {
      // Once per outage: a retry every few seconds must not flood the log.
      this.outageErrorLogged = true;
      this.log.error(
        `${this.name}: cannot connect to carbon at ${this.target}: ${why}; retrying with backoff, ` +
          `datapoints wait in the buffer (${this.pending()} now, at most ${this.bufferSize})`,
      );
    } else {
      this.log.debug(`${this.name}: ${wasConnected ? 'lost the connection' : 'cannot connect'} to ${this.target} again: ${why}`);
    }
    if (wasConnected && Date.now() - this.connectedAt >= STABLE_MS) this.attempt = 0;
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    if (!this.running || this.reconnectTimer) return;
    const base = Math.min(this.opts.reconnectMax, this.opts.reconnectMin * 2 ** Math.min(this.attempt, 30));
    this.attempt++;
    // Equal jitter: half fixed, half random, so many pollects do not reconnect in step.
    const delay = base * 1000 * (0.5 + Math.random() * 0.5);
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      this.connect();
    }, delay);
    this.reconnectTimer.unref();
  }

  private schedulePump(): void {
    if (this.pumpScheduled || !this.connected) return;
    this.pumpScheduled = true;
    setImmediate(() => {
      this.pumpScheduled = false;
      this.pump();
    });
  }

  /** Writes queued messages while the socket takes them. */
  private pump(): void {
    const sock = this.socket;
    if (!sock || !this.connected) return;
    // The stall clock starts when data starts waiting, not at the last write long ago.
    if (sock.writableLength === 0) this.lastProgress = Date.now();
    let sent = 0;
    while (sock.writableLength < HIGH_WATER_BYTES) {
      if (sent++ === MESSAGES_PER_TURN) {
        this.schedulePump();
        break;
      }
      let msg = this.resend.shift();
      if (msg) {
        this.resendPoints -= msg.count;
        this.resent += msg.count;
      } else {
        msg = this.nextMessage() ?? undefined;
        if (!msg) break;
        this.written += msg.count;
      }
      msg.sentAt = Date.now();
      msg.handed = false;
      const m = msg;
      sock.write(m.bytes, (err) => {
        if (err) return;
        m.handed = true;
        this.lastProgress = Date.now();
        if (this.outageSince) this.endOutageIfRecovered();
      });
      this.unconfirmed.push(m);
      this.unconfirmedPoints += m.count;
    }
    this.prune();
  }

  /** Encodes the next message from the ring, skipping datapoints that fit in no message. */
  private nextMessage(): Message | null {
    const ring = this.ring;
    while (ring.length > 0) {
      const start = ring.head;
      const end = start + ring.contiguous();
      const r: EncodeResult =
        this.protocol === 'pickle'
          ? this.encoder.encode(ring.paths, ring.timestamps, ring.values, start, end)
          : encodePlaintext(ring.paths, ring.timestamps, ring.values, start, end);
      if (r.count > 0) {
        ring.shift(r.count);
        return { bytes: r.bytes, count: r.count, sentAt: 0, handed: false };
      }
      ring.shift(1);
      this.skipped++;
      this.warnOnce('oversize', `${this.name}: a datapoint with a path too long for carbon was skipped (counted in stats().skipped)`);
    }
    return null;
  }

  /** Forgets sent messages older than resendWindow, and the oldest beyond bufferSize. */
  private prune(): void {
    const horizon = Date.now() - this.opts.resendWindow * 1000;
    const u = this.unconfirmed;
    let n = 0;
    while (n < u.length && u[n]!.handed && (u[n]!.sentAt <= horizon || this.unconfirmedPoints > this.bufferSize)) {
      this.unconfirmedPoints -= u[n]!.count;
      n++;
    }
    if (n) this.unconfirmed = u.slice(n);
  }

  private confirmAll(): void {
    this.unconfirmed = [];
    this.unconfirmedPoints = 0;
  }

  /** Once a second: prune, and drop a connection carbon has stopped reading from. */
  private tick(): void {
    const sock = this.socket;
    if (!sock || !this.connected) return;
    this.endOutageIfRecovered();
    if (sock.writableLength > 0 && Date.now() - this.lastProgress > this.opts.writeTimeout * 1000) {
      sock.destroy(new Error(`carbon took no data for ${this.opts.writeTimeout} s`));
      return;
    }
    this.pump();
  }

  private dropOldestResend(): void {
    const m = this.resend.shift();
    if (!m) return;
    this.resendPoints -= m.count;
    this.countDropped(m.count);
  }

  private countDropped(n: number): void {
    this.dropped += n;
    this.warnOnce('dropped', `${this.name}: buffer full (${this.bufferSize} datapoints): dropping the oldest; counted in stats().dropped`);
  }

  private warnOnce(key: string, msg: string): void {
    if (this.warned.has(key)) return;
    this.warned.add(key);
    this.log.warn(msg);
  }
}

/** A clear reason for a socket failure. */
function describe(err: unknown, host: string): string {
  const code = (err as NodeJS.ErrnoException | null)?.code;
  switch (code) {
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `unknown host "${host}" (${code})`;
    case 'ECONNREFUSED':
      return 'connection refused (ECONNREFUSED): is carbon running on that port?';
    case 'ECONNRESET':
      return 'connection reset by carbon (ECONNRESET)';
    case 'EPIPE':
      return 'carbon closed the connection (EPIPE)';
    case 'ETIMEDOUT':
      return 'timed out (ETIMEDOUT)';
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return `host unreachable (${code})`;
    default:
      return err ? errorMessage(err) : 'connection closed';
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
