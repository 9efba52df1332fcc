// A long-lived child process whose stdout is read line by line, restarted with backoff when it
// dies. Lines are bounded in length and checked for binary data before they reach the parser.
import { spawn, type ChildProcess } from 'node:child_process';
import { isText } from '../lib/exec.js';

export const MAX_LINE_BYTES = 64 * 1024;
const KILL_GRACE_MS = 1000;

export interface LineChildHandlers {
  /** A complete text line. Returns true when it was good output (resets the restart backoff). */
  line(text: string): boolean;
  /** Something went wrong: bad output, the child could not start or died. */
  problem(message: string): void;
}

export interface LineChildOptions {
  /** First restart delay; doubled after each restart without good output, up to maxDelayMs. */
  minDelayMs: number;
  maxDelayMs: number;
}

export class LineChild {
  private child: ChildProcess | undefined;
  private restartTimer: NodeJS.Timeout | undefined;
  private delayMs: number;
  private stopped = false;
  private exited: Promise<void> = Promise.resolve();

  constructor(
    private readonly file: string,
    private readonly args: readonly string[],
    private readonly handlers: LineChildHandlers,
    private readonly opts: LineChildOptions,
  ) {
    this.delayMs = opts.minDelayMs;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get started(): boolean {
    return this.child !== undefined || this.restartTimer !== undefined;
  }

  start(): void {
    if (this.stopped || this.child) return;
    this.restartTimer = undefined;
    let child: ChildProcess;
    try {
      child = spawn(this.file, [...this.args], { stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (err) {
      this.handlers.problem(`cannot run ${this.file}: ${(err as Error).message}`);
      this.scheduleRestart();
      return;
    }
    this.child = child;
    let pending: Buffer[] = [];
    let pendingBytes = 0;
    // After an over-long line, everything up to the next newline is dropped.
    let skipping = false;
    let stderr = '';
    let spawnError: string | undefined;

    child.stdout!.on('data', (chunk: Buffer) => {
      let start = 0;
      for (;;) {
        const nl = chunk.indexOf(0x0a, start);
        if (nl === -1) break;
        const piece = chunk.subarray(start, nl);
        start = nl + 1;
        if (skipping) {
          skipping = false;
          pending = [];
          pendingBytes = 0;
          continue;
        }
        const line = pending.length ? Buffer.concat([...pending, piece]) : piece;
        pending = [];
        pendingBytes = 0;
        this.onLine(line);
      }
      if (start < chunk.length && !skipping) {
        pending.push(chunk.subarray(start));
        pendingBytes += chunk.length - start;
        if (pendingBytes > MAX_LINE_BYTES) {
          pending = [];
          pendingBytes = 0;
          skipping = true;
          this.handlers.problem(`${this.file} printed a line longer than ${MAX_LINE_BYTES} bytes`);
        }
      }
    });
    child.stderr!.on('data', (d: Buffer) => {
      // Only the start matters, for the error message.
      if (stderr.length < 4096) stderr += d.toString('utf8');
    });
    child.on('error', (err: NodeJS.ErrnoException) => {
      spawnError = err.code === 'ENOENT' ? `${this.file}: command not found` : `cannot run ${this.file}: ${err.message}`;
    });
    this.exited = new Promise((resolve) => {
      child.once('close', (code, signal) => {
        this.child = undefined;
        resolve();
        if (this.stopped) return;
        const why = spawnError ?? `${this.file} exited ${signal ? `on ${signal}` : `with code ${code}`}${firstLine(stderr)}`;
        this.handlers.problem(`${why}; restarting in ${formatDelay(this.delayMs)}`);
        this.scheduleRestart();
      });
    });
  }

  private onLine(raw: Buffer): void {
    const line = raw.at(-1) === 0x0d ? raw.subarray(0, -1) : raw;
    if (!isText(line)) {
      this.handlers.problem(`${this.file} printed binary data, not text`);
      return;
    }
    const text = line.toString('utf8').trim();
    if (text === '') return;
    if (this.handlers.line(text)) this.delayMs = this.opts.minDelayMs;
  }

  private scheduleRestart(): void {
    if (this.stopped) return;
    const delay = this.delayMs;
    this.delayMs = Math.min(this.delayMs * 2, this.opts.maxDelayMs);
    this.restartTimer = setTimeout(() => this.start(), delay);
    // A pending restart must not keep pollect alive on shutdown.
    this.restartTimer.unref();
  }

  /** Kills the child (SIGTERM, SIGKILL after a grace period) and cancels any restart. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.restartTimer) clearTimeout(this.restartTimer);
    this.restartTimer = undefined;
    const child = this.child;
    if (!child) return;
    const exited = this.exited;
    child.kill('SIGTERM');
    const t = setTimeout(() => child.kill('SIGKILL'), KILL_GRACE_MS);
    await exited;
    clearTimeout(t);
  }
}

function firstLine(stderr: string): string {
  const line = stderr.split('\n').find((l) => l.trim() !== '')?.trim();
  if (!line) return '';
  const clean = line.replace(/[^\x20-\x7e]+/g, '?');
  return `: ${clean.length > 200 ? clean.slice(0, 200) + '…' : clean}`;
}

function formatDelay(ms: number): string {
  return ms >= 1000 ? `${+(ms / 1000).toFixed(1)} s` : `${ms} ms`;
}
