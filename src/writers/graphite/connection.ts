// One TCP connection to carbon, kept open: connect with a timeout, reconnect with the core's
// backoff, keepalive, a write timeout for a carbon that stops reading, and events instead of
// polling. It knows nothing of messages; the writer decides what to send.
import net from 'node:net';
import { backoffDelay } from '../../core/backoff.js';
import { systemClock, type Clock, type ClockTimer } from '../../core/clock.js';
import { errorMessage } from '../../log.js';

export interface ConnectionOptions {
  host: string;
  port: number;
  connectTimeoutMs: number;
  /** A connection with bytes waiting that takes none for this long is dropped. */
  writeTimeoutMs: number;
  /** First and longest wait between connect attempts. */
  reconnectMinMs: number;
  reconnectMaxMs: number;
  clock?: Clock;
  random?: () => number;
  /** Called whenever a connection is up. */
  onConnect(): void;
  /** Called once per lost connection (`upMs`: how long it had been up) or failed attempt (`upMs` undefined). */
  onLost(reason: string, upMs: number | undefined): void;
  /** Called when the socket's own buffer has emptied after it was full. */
  onDrain(): void;
}

/**
 * - `connecting`: an attempt is under way;
 * - `connected`: bytes can be written;
 * - `waiting`: the last attempt failed, the next one waits out its backoff;
 * - `closed`: close() or end() was called; no more attempts.
 */
export type ConnectionState = 'connecting' | 'connected' | 'waiting' | 'closed';

/** Stop handing bytes to the socket while this much waits in Node's own buffer. */
export const HIGH_WATER_BYTES = 1 << 20;
/** A connection that lived this long counts as a success: the backoff starts over. */
export const STABLE_MS = 5_000;
const KEEPALIVE_MS = 10_000;

export class Connection {
  private readonly opts: ConnectionOptions;
  private readonly clock: Clock;
  private socket: net.Socket | undefined;
  private timer: ClockTimer | undefined;
  private connectedAt = 0;
  /** Failed attempts and short-lived connections in a row. */
  private failures = 0;
  /** Resolved when the attempt under way settles (connected or failed). */
  private settledWaiters: (() => void)[] = [];
  state: ConnectionState = 'closed';
  /** Why the last attempt or connection failed. */
  lastError = '';

  constructor(opts: ConnectionOptions) {
    this.opts = opts;
    this.clock = opts.clock ?? systemClock;
  }

  get target(): string {
    const { host, port } = this.opts;
    return `${host.includes(':') ? `[${host}]` : host}:${port}`;
  }

  /** Starts connecting, and reconnecting after every loss, until close(). */
  open(): void {
    if (this.state !== 'closed') return;
    this.connect();
  }

  /** Bytes the socket holds that the kernel has not taken yet. */
  get buffered(): number {
    return this.socket?.writableLength ?? 0;
  }

  /** Connected, with room in the socket's buffer. */
  get writable(): boolean {
    return this.state === 'connected' && this.buffered < HIGH_WATER_BYTES;
  }

  /**
   * Writes `bytes`; `done(true)` once the kernel has taken all of them, `done(false)` if the
   * connection went first.
   */
  write(bytes: Buffer, done: (handed: boolean) => void): void {
    const sock = this.socket;
    if (!sock || this.state !== 'connected') return done(false);
    // Node calls back without an error for a write cut short by destroy(): check the socket too.
    sock.write(bytes, (err) => done(!err && !sock.destroyed));
  }

  /**
   * In `waiting`: tries now instead of after the backoff (someone has data to send). Resolves
   * once the attempt under way has settled (at once when connected or closed).
   */
  retryNow(): Promise<void> {
    if (this.state === 'waiting') {
      this.clearTimer();
      this.connect();
    }
    if (this.state !== 'connecting') return Promise.resolve();
    return new Promise((resolve) => this.settledWaiters.push(resolve));
  }

  /**
   * Half-closes the connection and waits for carbon to close its side: it does so only after
   * reading every byte before our FIN, the one delivery receipt the protocol has. Resolves true
   * then; false when the connection fails or carbon does not close within writeTimeout.
   */
  end(): Promise<boolean> {
    const sock = this.socket;
    const up = this.state === 'connected';
    this.state = 'closed';
    this.clearTimer();
    if (!sock || !up) {
      this.close();
      return Promise.resolve(false);
    }
    return new Promise((resolve) => {
      const t = this.clock.setTimeout(() => sock.destroy(), this.opts.writeTimeoutMs);
      let confirmed = false;
      sock.once('end', () => (confirmed = true));
      sock.once('close', () => {
        this.clock.clearTimeout(t);
        resolve(confirmed);
      });
      sock.end();
    });
  }

  /** Drops the connection at once; no more attempts. */
  close(): void {
    this.state = 'closed';
    this.clearTimer();
    this.socket?.destroy();
    this.socket = undefined;
    this.settle();
  }

  private connect(): void {
    this.state = 'connecting';
    const sock = net.connect({ host: this.opts.host, port: this.opts.port });
    this.socket = sock;
    let failure: unknown;
    const timer = this.clock.setTimeout(() => sock.destroy(Object.assign(new Error('connect timed out'), { code: 'ETIMEDOUT' })), this.opts.connectTimeoutMs);
    sock.once('connect', () => {
      this.clock.clearTimeout(timer);
      sock.setKeepAlive(true, KEEPALIVE_MS);
      // Inactivity with bytes waiting means carbon stopped reading; idle with nothing to send is fine.
      sock.setTimeout(this.opts.writeTimeoutMs);
      this.state = 'connected';
      this.connectedAt = this.clock.now();
      this.settle();
      this.opts.onConnect();
    });
    sock.on('timeout', () => {
      if (sock.writableLength > 0) sock.destroy(new Error(`carbon took no data for ${this.opts.writeTimeoutMs / 1000} s`));
    });
    // Carbon sends nothing; reading keeps its FIN or RST visible.
    sock.on('data', () => {});
    sock.on('drain', () => this.opts.onDrain());
    sock.on('error', (err) => (failure ??= err));
    sock.once('end', () => (failure ??= new Error('carbon closed the connection')));
    // Whatever the cause (error, FIN, RST, destroy), 'close' comes last and once.
    sock.once('close', () => {
      this.clock.clearTimeout(timer);
      if (this.socket !== sock) return;
      this.socket = undefined;
      if (this.state === 'closed') return;
      this.lost(failureReason(failure, this.opts.host));
    });
  }

  private lost(reason: string): void {
    const upMs = this.state === 'connected' ? this.clock.now() - this.connectedAt : undefined;
    this.lastError = reason;
    if (upMs !== undefined && upMs >= STABLE_MS) {
      // A connection that had been fine: try again at once, and back off only if that fails.
      this.failures = 0;
      this.connect();
    } else {
      // A failed attempt, or a connection carbon closed soon after accepting it.
      this.failures++;
      this.state = 'waiting';
      const wait = backoffDelay(this.failures, {
        min: this.opts.reconnectMinMs,
        max: this.opts.reconnectMaxMs,
        jitter: 0.5,
        random: this.opts.random,
      });
      this.timer = this.clock.setTimeout(() => {
        this.timer = undefined;
        this.connect();
      }, wait);
    }
    this.settle();
    this.opts.onLost(reason, upMs);
  }

  private settle(): void {
    if (this.state === 'connecting') return;
    const w = this.settledWaiters;
    this.settledWaiters = [];
    for (const f of w) f();
  }

  private clearTimer(): void {
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }
}

/** A clear reason for a socket failure. */
function failureReason(err: unknown, host: string): string {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
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
