// pollect's command line, run in-process through main(argv) (fast: no Node start-up, modules
// loaded once) or spawned through the real launcher (for signals, exit by an empty event loop,
// and plugin loading from the installed build; npm test builds dist/ first).
import { spawn, spawnSync } from 'node:child_process';
import path from 'node:path';
import { vi } from 'vitest';
import { main } from '../../src/cli.js';

/** The launcher the spawning tests run; POLLECT_BIN points them at another build (an older commit's, to show a regression test fails there). */
export const BIN = process.env.POLLECT_BIN ?? path.resolve(__dirname, '../../bin/pollect.js');

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `pollect ...args` in this process, with `env` added to the environment meanwhile. */
export async function cli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  const out = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array, ...rest: unknown[]) => {
    stdout += String(chunk);
    // write(text, cb) and write(text, encoding, cb): the caller may wait for the callback.
    const done = rest.find((r) => typeof r === 'function') as (() => void) | undefined;
    if (done) queueMicrotask(done);
    return true;
  });
  const err = vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array, ...rest: unknown[]) => {
    stderr += String(chunk);
    // write(text, cb) and write(text, encoding, cb): the caller may wait for the callback.
    const done = rest.find((r) => typeof r === 'function') as (() => void) | undefined;
    if (done) queueMicrotask(done);
    return true;
  });
  const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
  Object.assign(process.env, env);
  try {
    const code = await main(['node', 'pollect', ...args]);
    return { code, stdout, stderr };
  } finally {
    out.mockRestore();
    err.mockRestore();
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

/** Runs the real launcher, `node bin/pollect.js ...args`, to its end. */
export function spawnCli(args: string[], env: NodeJS.ProcessEnv = {}, timeoutMs = 20_000): CliResult {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: timeoutMs, env: { ...process.env, ...env } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Starts the real launcher as a daemon; the caller signals it and awaits `exit`. */
export function startCli(args: string[]) {
  const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const io = { out: '', err: '' };
  child.stdout.on('data', (d: Buffer) => (io.out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (io.err += d.toString()));
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, io, exit };
}
