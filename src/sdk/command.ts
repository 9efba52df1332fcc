// Runs a command without a shell, bounded in time and output, and always reaps it.
import { spawn } from 'node:child_process';
import { SourceError } from './index.js';

/** The most a command may print unless the caller says otherwise (the Exec source's maxBytes default). */
export const DEFAULT_MAX_OUTPUT_BYTES = 16 * 1024 * 1024;

export interface RunOptions {
  timeoutMs: number;
  signal?: AbortSignal;
  /** Largest stdout accepted; the child is killed past it. Default DEFAULT_MAX_OUTPUT_BYTES. */
  maxBytes?: number;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Input written to stdin, then closed. */
  input?: string;
  /**
   * Run the command in its own process group and signal the whole group, so the processes a
   * shell script starts (`sh -c "a; sleep 9"`) die with it at the timeout instead of holding
   * its output open; leftovers are also ended when the command itself exits. Default true.
   */
  killGroup?: boolean;
}

export interface RunResult {
  stdout: string;
  stderr: string;
  code: number | null;
  signal: NodeJS.Signals | null;
}

const KILL_GRACE_MS = 500;

/**
 * Runs `file args` and resolves with its output whatever its exit code; rejects with a
 * SourceError when it cannot start, passes its timeout, prints too much or prints binary.
 */
export function runCommand(file: string, args: readonly string[], opts: RunOptions): Promise<RunResult> {
  const maxBytes = opts.maxBytes ?? DEFAULT_MAX_OUTPUT_BYTES;
  const group = opts.killGroup ?? true;
  return new Promise((resolve, reject) => {
    let child;
    try {
      child = spawn(file, args, { env: opts.env, cwd: opts.cwd, stdio: ['pipe', 'pipe', 'pipe'], detached: group });
    } catch (err) {
      reject(new SourceError(`cannot run ${file}: ${(err as Error).message}`));
      return;
    }
    const out: Buffer[] = [];
    const errOut: Buffer[] = [];
    let outBytes = 0;
    let errBytes = 0;
    let failure: SourceError | undefined;
    let killTimer: NodeJS.Timeout | undefined;

    const sendSignal = (sig: NodeJS.Signals): void => {
      if (group && child.pid !== undefined) {
        try {
          process.kill(-child.pid, sig);
          return;
        } catch {
          // the group is gone already; fall through to the child itself
        }
      }
      child.kill(sig);
    };
    const kill = (why: SourceError): void => {
      if (failure) return;
      failure = why;
      sendSignal('SIGTERM');
      // A child that ignores SIGTERM still goes: it must not outlive its probe.
      killTimer = setTimeout(() => sendSignal('SIGKILL'), KILL_GRACE_MS);
      killTimer.unref();
    };
    // The command is done: what it left running in its group would hold its output open.
    if (group) child.once('exit', () => sendSignal('SIGTERM'));
    const timer = setTimeout(() => kill(new SourceError(`${file} timed out after ${opts.timeoutMs} ms and was killed`)), opts.timeoutMs);
    const onAbort = (): void => kill(new SourceError(`${file} was aborted and killed`));
    opts.signal?.addEventListener('abort', onAbort, { once: true });

    child.stdout.on('data', (chunk: Buffer) => {
      outBytes += chunk.length;
      if (outBytes > maxBytes) kill(new SourceError(`${file} printed more than ${maxBytes} bytes and was killed`));
      else out.push(chunk);
    });
    child.stderr.on('data', (chunk: Buffer) => {
      // Keep only the start of stderr: it is for error messages.
      if (errBytes < 64 * 1024) errOut.push(chunk);
      errBytes += chunk.length;
    });
    child.stdin.on('error', () => {}); // a child that exits without reading stdin is not an error here
    if (opts.input !== undefined) child.stdin.end(opts.input);
    else child.stdin.end();

    child.on('error', (err: NodeJS.ErrnoException) => {
      const why = err.code === 'ENOENT' ? `${file}: command not found` : `cannot run ${file}: ${err.message}`;
      if (!failure) failure = new SourceError(why);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (killTimer) clearTimeout(killTimer);
      opts.signal?.removeEventListener('abort', onAbort);
      if (failure) return reject(failure);
      const buf = Buffer.concat(out);
      if (!isText(buf)) return reject(new SourceError(`${file} printed binary data, not text`));
      resolve({ stdout: buf.toString('utf8'), stderr: Buffer.concat(errOut).toString('utf8'), code, signal });
    });
  });
}

/** True when `buf` is UTF-8 text without NUL or other control bytes but tab, CR, LF. */
export function isText(buf: Buffer): boolean {
  for (let i = 0; i < buf.length; i++) {
    const b = buf[i]!;
    if (b < 0x20 && b !== 0x09 && b !== 0x0a && b !== 0x0d) return false;
  }
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(buf);
    return true;
  } catch {
    return false;
  }
}

/** The first line of a command's stderr, trimmed, for error messages. */
export function firstLine(text: string, max = 200): string {
  const line =
    text
      .split('\n')
      .find((l) => l.trim() !== '')
      ?.trim() ?? '';
  return line.length > max ? line.slice(0, max) + '…' : line;
}
