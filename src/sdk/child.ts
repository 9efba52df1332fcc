// A long-running child process that prints lines as it goes (collectd's exec model, tegrastats):
// its stdout is split into lines as bytes arrive, and it is started again when it exits, soon
// after a clean exit and with the core's doubling backoff after a failure. A line with binary
// bytes or longer than the cap is reported, not passed on. stop() ends the child (SIGKILL after a
// grace period) and waits until it is reaped.
import { spawn as nodeSpawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { backoffDelay } from '../core/backoff.js';
import { systemClock, type Clock, type ClockTimer } from '../core/clock.js';
import { firstLine, isText } from './command.js';

export type SpawnFn = (file: string, args: readonly string[], options: SpawnOptions) => ChildProcess;

/** Restart waits after a failure, unless a source sets its own: 1 s, doubling up to a minute. */
const MIN_RESTART_MS = 1000;
const MAX_RESTART_MS = 60_000;

export interface LineChildOptions {
  file: string;
  args?: readonly string[];
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Longest line accepted, in bytes. Default 64 KiB. */
  maxLineBytes?: number;
  /** Wait before the first restart after a failure, ms; it doubles with each failure in a row. Default 1 s. */
  minRestartMs?: number;
  /** Longest wait before a restart, ms. A child that ran this long before failing starts the backoff over. Default 1 min. */
  maxRestartMs?: number;
  /** Wait after a clean exit (code 0), ms. Without it, a clean exit counts as a failure. */
  cleanRestartMs?: number;
  /** How long after SIGTERM the child (and what it started) gets SIGKILL. Default 2 s. */
  killGraceMs?: number;
  /** A new child runs: line numbers start again at 1. */
  onStart?: (pid: number | undefined) => void;
  /** A complete line, without its line end. An exception it throws is reported as a bad line. */
  onLine: (line: string, lineNo: number) => void;
  /** A line that was not passed on: `binary data, not text`, `longer than 65536 bytes`. */
  onBadLine: (lineNo: number, reason: string) => void;
  /** The child ended on its own (not through stop()), or a restart could not start it. */
  onExit: (exit: ChildExit) => void;
  clock?: Clock;
  /** How the child is started (tests hand in a fake). */
  spawn?: SpawnFn;
}

export interface ChildExit {
  /** `<file> exited with code 3: <first stderr line>`, `<file> was killed by SIGSEGV`, `<file>: command not found`. */
  message: string;
  /** It exited with code 0. */
  clean: boolean;
  /** When it is started again. */
  restartInMs: number;
}

const DEFAULT_MAX_LINE = 64 * 1024;
const DEFAULT_KILL_GRACE_MS = 2000;

export class LineChild {
  private readonly opts: LineChildOptions;
  private readonly clock: Clock;
  private child: ChildProcess | undefined;
  private closed: Promise<void> = Promise.resolve();
  private restartTimer: ClockTimer | undefined;
  /** Between start() and stop(). */
  private active = false;
  /** Failures in a row, for the backoff. */
  private failures = 0;

  constructor(opts: LineChildOptions) {
    this.opts = opts;
    this.clock = opts.clock ?? systemClock;
  }

  /** The pid of the running child, if any. */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  /**
   * Starts the child (once; again only after stop()). Resolves once it runs; rejects when it
   * cannot be started (a missing command), and then a retry is already scheduled as after any
   * failure: call stop() to give up.
   */
  start(): Promise<void> {
    if (this.active) return Promise.resolve();
    this.active = true;
    return this.spawnChild().catch((err: unknown) => {
      this.scheduleRestart(this.failed(0));
      throw err;
    });
  }

  /** Terminates the child (SIGTERM, SIGKILL after the grace period), cancels any restart and waits until it is gone. */
  async stop(): Promise<void> {
    this.active = false;
    if (this.restartTimer !== undefined) this.clock.clearTimeout(this.restartTimer);
    this.restartTimer = undefined;
    if (this.child) this.terminate(this.child);
    // Also a child still starting: it is terminated as soon as it runs.
    await this.closed;
  }

  private terminate(child: ChildProcess): void {
    signalGroup(child, 'SIGTERM');
    const killer = this.clock.setTimeout(() => signalGroup(child, 'SIGKILL'), this.opts.killGraceMs ?? DEFAULT_KILL_GRACE_MS);
    child.once('close', () => this.clock.clearTimeout(killer));
  }

  private spawnChild(): Promise<void> {
    const { file, args = [], env, cwd } = this.opts;
    return new Promise((resolve, reject) => {
      let child: ChildProcess;
      try {
        // Its own process group: stop() and an exit end what a script started too.
        child = (this.opts.spawn ?? nodeSpawn)(file, args, { env, cwd, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
      } catch (err) {
        reject(new Error(`cannot run ${file}: ${(err as Error).message}`));
        return;
      }
      let running = false;
      let startedAt = 0;
      let stderrTail = '';
      const lines = new LineSplitter(this.opts.maxLineBytes ?? DEFAULT_MAX_LINE, (line, no) => this.deliver(line, no), this.opts.onBadLine);
      let onClosed!: () => void;
      this.closed = new Promise<void>((r) => (onClosed = r));

      child.stdout!.on('data', (chunk: Buffer) => lines.push(chunk));
      child.stderr!.on('data', (chunk: Buffer) => {
        stderrTail = (stderrTail + chunk.toString('utf8')).slice(-4096);
      });
      child.once('spawn', () => {
        running = true;
        startedAt = this.clock.now();
        this.child = child;
        if (!this.active) this.terminate(child);
        else this.opts.onStart?.(child.pid);
        resolve();
      });
      child.once('error', (err: NodeJS.ErrnoException) => {
        if (running) return; // 'close' follows and reports the exit
        onClosed();
        reject(new Error(err.code === 'ENOENT' ? `${file}: command not found` : `cannot run ${file}: ${err.message}`));
      });
      // What the child left running in its group would hold stdout open: 'close' would never come.
      child.once('exit', () => {
        signalGroup(child, 'SIGTERM');
        this.clock.setTimeout(() => signalGroup(child, 'SIGKILL'), this.opts.killGraceMs ?? DEFAULT_KILL_GRACE_MS);
      });
      child.once('close', (code: number | null, signal: NodeJS.Signals | null) => {
        if (!running) return;
        lines.end();
        this.child = undefined;
        onClosed();
        if (!this.active) return;
        const clean = code === 0;
        const delay = clean && this.opts.cleanRestartMs !== undefined ? this.opts.cleanRestartMs : this.failed(this.clock.now() - startedAt);
        const err = firstLine(stderrTail).replace(/[^\x20-\x7e]+/g, '?');
        const how = signal ? `was killed by ${signal}` : `exited with code ${code}`;
        this.opts.onExit({ message: `${file} ${how}${err ? `: ${err}` : ''}`, clean, restartInMs: delay });
        this.scheduleRestart(delay);
      });
    });
  }

  private deliver(line: string, lineNo: number): void {
    // Called from a stream event: nothing may escape, whatever the line holds.
    try {
      this.opts.onLine(line, lineNo);
    } catch (err) {
      this.opts.onBadLine(lineNo, err instanceof Error ? err.message : String(err));
    }
  }

  /** Counts a failure after a child ran `ranMs`, and returns the wait before the next start. */
  private failed(ranMs: number): number {
    const { minRestartMs: min = MIN_RESTART_MS, maxRestartMs: max = MAX_RESTART_MS } = this.opts;
    if (ranMs >= max) this.failures = 0;
    this.failures++;
    return backoffDelay(this.failures, { min, max });
  }

  private scheduleRestart(delay: number): void {
    if (!this.active) return;
    this.restartTimer = this.clock.setTimeout(() => {
      this.restartTimer = undefined;
      if (!this.active) return;
      this.spawnChild().catch((err: unknown) => {
        const next = this.failed(0);
        this.opts.onExit({ message: (err as Error).message, clean: false, restartInMs: next });
        this.scheduleRestart(next);
      });
    }, delay);
  }
}

/**
 * Splits bytes into lines on LF (a CR before it is dropped). A line over `max` bytes is reported
 * and skipped up to its end without being buffered; so is a line that is not UTF-8 text.
 */
export class LineSplitter {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  /** In the middle of a line already reported as too long. */
  private discarding = false;
  private lineNo = 0;

  constructor(
    private readonly max: number,
    private readonly onLine: (line: string, lineNo: number) => void,
    private readonly onBadLine: (lineNo: number, reason: string) => void,
  ) {}

  push(chunk: Buffer): void {
    let start = 0;
    for (let nl = chunk.indexOf(0x0a); nl >= 0; nl = chunk.indexOf(0x0a, start)) {
      this.endLine(chunk.subarray(start, nl));
      start = nl + 1;
    }
    if (start < chunk.length && !this.discarding) {
      this.pending.push(chunk.subarray(start));
      this.pendingBytes += chunk.length - start;
      if (this.pendingBytes > this.max) {
        this.reset();
        this.discarding = true;
        this.onBadLine(this.lineNo + 1, `longer than ${this.max} bytes`);
      }
    }
  }

  /** The stream ended: a last line without LF is still a line. */
  end(): void {
    if (this.pendingBytes > 0 && !this.discarding) this.endLine(Buffer.alloc(0));
    this.reset();
  }

  private endLine(piece: Buffer): void {
    this.lineNo++;
    if (this.discarding) {
      // The tail of a line already reported.
      this.discarding = false;
      return this.reset();
    }
    if (this.pendingBytes + piece.length > this.max) {
      this.reset();
      return this.onBadLine(this.lineNo, `longer than ${this.max} bytes`);
    }
    let line = this.pending.length > 0 ? Buffer.concat([...this.pending, piece]) : piece;
    this.reset();
    if (line.at(-1) === 0x0d) line = line.subarray(0, -1);
    if (!isText(line)) return this.onBadLine(this.lineNo, 'binary data, not text');
    this.onLine(line.toString('utf8'), this.lineNo);
  }

  private reset(): void {
    this.pending = [];
    this.pendingBytes = 0;
  }
}

/** Signals the child's process group, or the child alone when the group is gone. */
function signalGroup(child: ChildProcess, sig: NodeJS.Signals): void {
  if (child.pid !== undefined) {
    try {
      process.kill(-child.pid, sig);
      return;
    } catch {
      // no such group any more
    }
  }
  child.kill(sig);
}

/** A wait for messages: `100 ms`, `1.6 s`. */
export function formatDelay(ms: number): string {
  return ms >= 1000 ? `${+(ms / 1000).toFixed(1)} s` : `${Math.round(ms)} ms`;
}
