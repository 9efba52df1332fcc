// One connection a source keeps open to its peer (a websocket, a device session): opened at init,
// opened again after a loss once a backoff has passed (1 s doubling to a minute), and a probe
// waits for the first one within its budget. The source opens the connection and reports what
// becomes of it (up(), lost()); this class owns the state, the timer and the waiting.
import { SourceError, type Logger, type ProbeContext } from './index.js';
import { formatDelay } from './child.js';
import { Wakeup } from './wakeup.js';
import { backoffDelay } from '../core/backoff.js';

export interface ReconnectOptions {
  /** The peer, for messages: `wss://charger/ws`, `esp:6053`. */
  peer: string;
  /** What a probe's error says before the peer (default `not connected to`). */
  notConnected?: string;
  log: Logger;
  /** Opens the connection; calls up() when it is ready and lost() when it fails or ends. */
  open: () => void | Promise<void>;
  minDelayMs?: number;
  maxDelayMs?: number;
}

export class Reconnect {
  /** Wakes probes waiting for the connection, or for anything else the source hands them. */
  readonly arrivals = new Wakeup();
  /** Why there is no connection (or what the peer last sent wrong); undefined while all is well. */
  problem: string | undefined;
  private opening = false;
  private isUp = false;
  private failures = 0;
  private timer: NodeJS.Timeout | undefined;
  private ended = false;

  constructor(private readonly opts: ReconnectOptions) {}

  get connected(): boolean {
    return this.isUp;
  }

  /** After stop(): a connection opened late (its module still loading) is closed at once. */
  get stopped(): boolean {
    return this.ended;
  }

  /** Opens the connection unless it is open, opening, or waiting for its backoff. */
  start(): void {
    if (this.ended || this.opening || this.isUp || this.timer) return;
    this.opening = true;
    Promise.resolve()
      .then(() => this.opts.open())
      .catch((err: unknown) => this.lost(err instanceof Error ? err.message : String(err)));
  }

  /**
   * For a probe: resolves when connected. The first connection may still be on its way (waited
   * for within the probe's budget); a lost one waits for its backoff, so the probe fails at once.
   */
  async ready(ctx: ProbeContext): Promise<void> {
    if (this.ended) throw new SourceError(`the connection to ${this.opts.peer} is shut down`);
    this.start();
    if (this.isUp) return;
    const not = `${this.opts.notConnected ?? 'not connected to'} ${this.opts.peer}`;
    if (this.problem === undefined) await this.arrivals.wait(ctx, `${not} within ${ctx.timeoutMs} ms`);
    this.assertUp();
  }

  /** Throws, with the reason, unless connected (after a wait that may have lost it). */
  assertUp(): void {
    if (!this.isUp) throw new SourceError(`${this.opts.notConnected ?? 'not connected to'} ${this.opts.peer}: ${this.problem ?? 'connection closed'}`);
  }

  /** The connection is ready. */
  up(): void {
    this.opening = false;
    this.isUp = true;
    this.failures = 0;
    this.problem = undefined;
    this.arrivals.wake();
  }

  /** The connection failed or ended: opened again after a backoff. */
  lost(reason: string): void {
    this.opening = false;
    this.isUp = false;
    if (this.ended) return;
    this.failures++;
    const delay = backoffDelay(this.failures, { min: this.opts.minDelayMs ?? 1000, max: this.opts.maxDelayMs ?? 60_000 });
    this.problem = `${reason}; reconnecting in ${formatDelay(delay)}`;
    this.opts.log.debug(`${this.opts.peer}: ${this.problem}`);
    this.arrivals.wake();
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.start();
    }, delay);
  }

  /** No more connections; waiting probes go on (and fail). */
  stop(): void {
    this.ended = true;
    this.isUp = false;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.arrivals.wake();
  }
}
