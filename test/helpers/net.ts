// Test helpers for real servers on loopback: free ports, waiting for a port, spawned daemons.
import net from 'node:net';
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

/** A TCP port that was free on 127.0.0.1 a moment ago. */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, host, () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
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
  const child = spawn(file, args, { stdio: ['ignore', 'pipe', 'pipe'], ...opts });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    child,
    output: () => out,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(t);
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
