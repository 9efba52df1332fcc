// One child that runs for a long time and prints lines as it goes (collectd's exec model). It is
// restarted when it exits: soon after a clean exit, with a doubling backoff after a crash. Lines
// are split on LF as bytes arrive; a line with binary bytes or longer than the cap is reported,
// not parsed. stop() terminates it (SIGKILL after a grace period) and waits until it is reaped.
import { spawn, type ChildProcess } from 'node:child_process';
import { SourceError } from '../../sdk/index.js';
import { isText, firstLine } from '../lib/exec.js';
import { errorMessage, type Logger } from '../../sdk/index.js';

export interface LongRunOptions {
  file: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  log: Logger;
  /** Longest line accepted, in bytes. */
  maxLineBytes: number;
  /** Wait after a clean exit (code 0) before starting again. */
  cleanRestartMs: number;
  /** A new child started: line numbers start again at 1. */
  onStart?: () => void;
  onLine: (line: string, lineNo: number) => void;
  onBadLine: (lineNo: number, message: string) => void;
  /** The child exited on its own (not through stop()). */
  onExit: (message: string, clean: boolean, restartInMs: number) => void;
}

const MIN_BACKOFF_MS = 1000;
const MAX_BACKOFF_MS = 60_000;
const KILL_GRACE_MS = 2000;

export class LongRunningCommand {
  private child: ChildProcess | undefined;
  private stopping = false;
  private restartTimer: NodeJS.Timeout | undefined;
  private backoffMs = MIN_BACKOFF_MS;
  private closed: Promise<void> = Promise.resolve();
  private pid: number | undefined;

  constructor(private readonly opts: LongRunOptions) {}

  get running(): boolean {
    return this.child !== undefined;
  }

  /** The pid of the running child, if any (for tests and logs). */
  get childPid(): number | undefined {
    return this.child ? this.pid : undefined;
  }

  /** Starts the child; rejects with a SourceError when it cannot be started at all. */
  start(): Promise<void> {
    this.stopping = false;
    return this.spawnOnce();
  }

  private spawnOnce(): Promise<void> {
    const { file, args, env, cwd, log } = this.opts;
    return new Promise((resolve, reject) => {
      let started = false;
      let child: ChildProcess;
      try {
        // Its own process group: stop() and a crash end what a script started too.
        child = spawn(file, args, { env, cwd, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
      } catch (err) {
        reject(new SourceError(`cannot run ${file}: ${errorMessage(err)}`));
        return;
      }
      const startedAt = Date.now();
      let stderrTail = '';
      let lineNo = 0;
      let pending: Buffer[] = [];
      let pendingBytes = 0;
      let discarding = false;

      const emit = (buf: Buffer): void => {
        lineNo++;
        if (discarding) {
          discarding = false;
          return; // the tail of a line already reported as too long
        }
        const line = buf.length > 0 && buf[buf.length - 1] === 0x0d ? buf.subarray(0, -1) : buf;
        if (!isText(line)) return this.opts.onBadLine(lineNo, 'binary data, not text');
        this.opts.onLine(line.toString('utf8'), lineNo);
      };

      child.stdout!.on('data', (chunk: Buffer) => {
        let start = 0;
        for (let nl = chunk.indexOf(0x0a); nl >= 0; nl = chunk.indexOf(0x0a, start)) {
          pending.push(chunk.subarray(start, nl));
          emit(Buffer.concat(pending));
          pending = [];
          pendingBytes = 0;
          start = nl + 1;
        }
        if (start < chunk.length) {
          const rest = chunk.subarray(start);
          if (discarding) return;
          pending.push(rest);
          pendingBytes += rest.length;
          if (pendingBytes > this.opts.maxLineBytes) {
            this.opts.onBadLine(lineNo + 1, `longer than ${this.opts.maxLineBytes} bytes`);
            pending = [];
            pendingBytes = 0;
            discarding = true;
          }
        }
      });
      child.stderr!.on('data', (chunk: Buffer) => {
        stderrTail = (stderrTail + chunk.toString('utf8')).slice(-4096);
      });

      child.once('spawn', () => {
        started = true;
        this.child = child;
        this.pid = child.pid;
        this.opts.onStart?.();
        log.debug(`started ${file} (pid ${child.pid})`);
        resolve();
      });
      // Leftovers of the group would hold stdout open and 'close' would never come.
      child.once('exit', () => {
        signalGroup(child, 'SIGTERM');
        setTimeout(() => signalGroup(child, 'SIGKILL'), KILL_GRACE_MS).unref();
      });
      let onClosed!: () => void;
      this.closed = new Promise<void>((r) => (onClosed = r));
      child.once('error', (err: NodeJS.ErrnoException) => {
        if (started) return; // 'close' follows and reports it
        const why = err.code === 'ENOENT' ? `${file}: command not found` : `cannot run ${file}: ${err.message}`;
        onClosed();
        reject(new SourceError(why));
      });
      child.once('close', (code, signal) => {
        if (!started) return;
        this.child = undefined;
        if (pendingBytes > 0 && !discarding) emit(Buffer.concat(pending));
        onClosed();
        if (this.stopping) return;
        const clean = code === 0;
        // A child that ran a while before failing starts the backoff over.
        if (Date.now() - startedAt > MAX_BACKOFF_MS) this.backoffMs = MIN_BACKOFF_MS;
        const delay = clean ? this.opts.cleanRestartMs : this.backoffMs;
        if (!clean) this.backoffMs = Math.min(this.backoffMs * 2, MAX_BACKOFF_MS);
        const err = firstLine(stderrTail);
        const how = signal ? `was killed by ${signal}` : `exited with code ${code}`;
        this.opts.onExit(`${file} ${how}${err ? `: ${err}` : ''}`, clean, delay);
        this.restartAfter(delay);
      });
    });
  }

  /** Starts the child again after `delay`; a failed start (removed binary...) is reported and retried with backoff. */
  private restartAfter(delay: number): void {
    this.restartTimer = setTimeout(() => {
      this.restartTimer = undefined;
      if (this.stopping) return;
      this.spawnOnce().catch((e: Error) => {
        this.opts.onExit(e.message, false, this.backoffMs);
        const next = this.backoffMs;
        this.backoffMs = Math.min(this.backoffMs * 2, MAX_BACKOFF_MS);
        this.restartAfter(next);
      });
    }, delay);
  }

  /** Terminates the child (SIGTERM, SIGKILL after a grace period) and waits until it is gone. */
  async stop(): Promise<void> {
    this.stopping = true;
    if (this.restartTimer) clearTimeout(this.restartTimer);
    this.restartTimer = undefined;
    const child = this.child;
    if (!child) return this.closed;
    signalGroup(child, 'SIGTERM');
    const killer = setTimeout(() => signalGroup(child, 'SIGKILL'), KILL_GRACE_MS);
    await this.closed;
    clearTimeout(killer);
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
