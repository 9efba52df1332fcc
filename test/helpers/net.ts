// Test helpers for real servers on loopback: free ports, waiting for a port, spawned daemons.
import net from 'node:net';
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

/** Ports handed out start here: below the kernel's ephemeral ports (32768-60999 on Linux). */
const FIRST_PORT = 20_000;
/** Ports per vitest worker (and one block for the main process): 24 blocks end below 32768. */
const BLOCK = 500;
let nextInBlock = 0;

/**
 * A port for a server a test starts, free on `host` a moment ago. Not the kernel's pick for
 * listen(0): that can hand out the same port twice in a row (two named of one test once got one
 * port), and any outgoing connection may take it meanwhile. So a range no outgoing connection
 * uses, a block of its own for each vitest worker (files running at once never pick the same
 * port), each port handed out once per block round, and checked by listening on it.
 */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  const worker = Number(process.env.VITEST_POOL_ID ?? 0) % 24;
  for (let tries = 0; tries < BLOCK; tries++) {
    const port = FIRST_PORT + worker * BLOCK + (nextInBlock++ % BLOCK);
    if (await canListen(port, host)) return port;
  }
  throw new Error(`no free port in ${FIRST_PORT + worker * BLOCK}-${FIRST_PORT + (worker + 1) * BLOCK - 1} on ${host}`);
}

function canListen(port: number, host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.unref();
    srv.once('error', () => resolve(false));
    srv.listen(port, host, () => srv.close(() => resolve(true)));
  });
}

/** Resolves once something accepts TCP connections on host:port; bounded by timeoutMs. */
export async function waitForPort(port: number, host = '127.0.0.1', timeoutMs = 20_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const sock = net.connect({ port, host });
      sock.once('connect', () => {
        sock.destroy();
        resolve(true);
      });
      sock.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > until) throw new Error(`nothing listens on ${host}:${port} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A fresh temporary directory and its remover. */
export function tempDir(prefix = 'pollect-test-'): { dir: string; remove: () => void } {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export interface Daemon {
  child: ChildProcess;
  output: () => string;
  stop: () => Promise<void>;
}

/** Spawns a server process for a test; stop() terminates it (SIGKILL after 5 s) and waits. */
export function spawnDaemon(file: string, args: string[], opts: SpawnOptions = {}): Daemon {
  // A process group of its own, so that stop() also ends what the daemon started and left behind
  // (collectd's exec plugin left a script looping for hours when collectd stopped right after start).
  const child = spawn(file, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true, ...opts });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    child,
    output: () => out,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const t = setTimeout(() => child.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(t);
      }
      try {
        if (child.pid) process.kill(-child.pid, 'SIGKILL');
      } catch {
        // ESRCH: nothing of the group is left
      }
    },
  };
}

/** A server that a test stops and starts again on the same port and data (an outage, not a new server). */
export interface Restartable {
  start(): Promise<void>;
  stop(): Promise<void>;
  /** What the server printed, over all its runs. */
  output(): string;
}

/** `spawn` runs the server; start() returns once `port` listens and `ready` (a URL), if given, answers 200. */
export function restartable(port: number, spawn: () => Daemon, ready?: string): Restartable {
  let daemon: Daemon | undefined;
  let out = '';
  return {
    async start() {
      daemon = spawn();
      await waitForPort(port);
      if (ready) await waitForUrl(ready);
    },
    async stop() {
      out += daemon?.output() ?? '';
      await daemon?.stop();
      daemon = undefined;
    },
    output: () => out + (daemon?.output() ?? ''),
  };
}

/** Polls `url` until it answers 200 (bounded): a port that listens is not yet a server that takes writes. */
export async function waitForUrl(url: string, timeoutMs = 30_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const ok = await fetch(url).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return;
    if (Date.now() > end) throw new Error(`${url} not ready after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
