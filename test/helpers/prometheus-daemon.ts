// A real pollect daemon (the built launcher) serving ~20k series on its Prometheus endpoint while a
// File writer in a second executor records every tick, and the clients the attack tests use on it.
// The daemon runs from dist/ (npm test builds it; alone: npm run build first).
import { afterEach, expect } from 'vitest';
import http from 'node:http';
import net from 'node:net';
import zlib from 'node:zlib';
import { readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { CLOCK_TICKS, parsePidStat } from '../../src/host/proc-parse.js';
import { BIN } from './cli.js';
import { until } from './hostile-http.js';
import { freePort, spawnDaemon, tempDir, waitForPort, type Daemon } from './net.js';

export const TICK = 1;
export const SERIES = 20_000;

let daemon: Daemon | undefined;
let removeDir: (() => void) | undefined;
afterEach(async () => {
  await daemon?.stop();
  daemon = undefined;
  removeDir?.();
});

export interface Running {
  port: number;
  pid: number;
  ticksFile: string;
}

/** A daemon serving SERIES series on the Prometheus endpoint, ticking a File writer beside it. */
export async function startDaemon(): Promise<Running> {
  const { dir, remove } = tempDir();
  removeDir = remove;
  const port = await freePort();
  // 20 families of 1,000 labelled series, as a textfile exporter would write them.
  let prom = '';
  for (let f = 0; f < 20; f++) {
    prom += `# TYPE fam${f} gauge\n`;
    for (let i = 0; i < SERIES / 20; i++) prom += `fam${f}{idx="${i}",host="h${i % 7}"} ${i}\n`;
  }
  const promFile = path.join(dir, 'series.prom');
  writeFileSync(promFile, prom);
  const ticksFile = path.join(dir, 'ticks.jsonl');
  const config = {
    tickTime: TICK,
    selfMetrics: false,
    executors: [
      {
        collection: 'big',
        writers: [{ type: 'Prometheus', host: '127.0.0.1', port }],
        sources: [{ type: 'Exec', command: ['cat', promFile], format: 'prometheus' }],
      },
      { collection: 'tick', writers: [{ type: 'File', path: ticksFile }], sources: [{ type: 'Dummy' }] },
    ],
  };
  const file = path.join(dir, 'pollect.json');
  writeFileSync(file, JSON.stringify(config));
  daemon = spawnDaemon(process.execPath, [BIN, '-c', file]);
  await waitForPort(port);
  // Warm: a few ticks written and scraped, so the baseline RSS includes a served exposition.
  expect(await until(() => ticks(ticksFile).length >= 3, 10_000)).toBe(true);
  expect((await scrape(port)).status).toBe(200);
  return { port, pid: daemon.child.pid!, ticksFile };
}

/** Timestamps (ms) of the ticks the File writer recorded. */
export function ticks(file: string): number[] {
  let text = '';
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return [];
  }
  return text
    .split('\n')
    .filter(Boolean)
    .map((l) => (JSON.parse(l) as { timestamp: number }).timestamp);
}

/** Ticks due in [from, to) that the File writer did not record (one allowed at each end, still in flight). */
export function missed(stamps: number[], from: number, to: number): number {
  const due = Math.floor((to - from) / (TICK * 1000));
  const got = stamps.filter((t) => t >= from && t < to).length;
  return Math.max(0, due - got - 1);
}

/** Where ticks in [from, to) are missing: each gap of more than one period, as `+s..+s` from `from` (for the log). */
export function gaps(stamps: number[], from: number, to: number): string {
  const inside = stamps.filter((t) => t >= from && t < to).sort((a, b) => a - b);
  const at = (t: number): string => `+${((t - from) / 1000).toFixed(1)}s`;
  const found: string[] = [];
  for (let i = 1; i < inside.length; i++) {
    if (inside[i]! - inside[i - 1]! > 1.5 * TICK * 1000) found.push(`${at(inside[i - 1]!)}..${at(inside[i]!)}`);
  }
  return `recorded ${inside.map(at).join(' ') || 'none'}${found.length ? `; gaps ${found.join(', ')}` : ''}`;
}

export function rssOf(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m![1]) * 1024;
}

/** CPU seconds (user + system) the process has used. */
export function cpuSecondsOf(pid: number): number {
  return parsePidStat(readFileSync(`/proc/${pid}/stat`, 'utf8')).cpuTicks / CLOCK_TICKS;
}

export function openFds(pid: number): number {
  return readdirSync(`/proc/${pid}/fd`).length;
}

/**
 * The process's open sockets: its connections and listeners. Unlike all descriptors, these do not
 * move with the daemon's own work (the Exec child's pipes, the File writer's appends).
 */
export function openSockets(pid: number): number {
  let n = 0;
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      if (readlinkSync(`/proc/${pid}/fd/${fd}`).startsWith('socket:')) n++;
    } catch {
      // closed meanwhile
    }
  }
  return n;
}

export function scrape(port: number, headers: http.OutgoingHttpHeaders = {}): Promise<{ status: number; body: string; gzipped: boolean }> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: '/metrics', headers, agent: false, timeout: 10_000 }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (d: Buffer) => parts.push(d));
      res.on('end', () => {
        const raw = Buffer.concat(parts);
        const gzipped = res.headers['content-encoding'] === 'gzip';
        resolve({ status: res.statusCode!, body: (gzipped ? zlib.gunzipSync(raw) : raw).toString(), gzipped });
      });
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error('scrape timed out')));
    req.on('error', reject);
  });
}

/** A scrape, tried again after a timeout until `ms` have passed. */
export async function scrapeWithin(port: number, ms: number): Promise<{ status: number; body: string; gzipped: boolean }> {
  const until = Date.now() + ms;
  for (;;) {
    try {
      return await scrape(port);
    } catch (err) {
      if (Date.now() >= until) throw err;
    }
  }
}

/**
 * Pipelined `GET /metrics` on `sockets` connections that never read an answer. With renewMs each
 * connection is dropped after that long and a fresh one opened, until stop() or maxConnects.
 */
export function pipeliners(
  port: number,
  sockets: number,
  perSocket: number,
  gzip: boolean,
  maxConnects: number,
  renewMs?: number,
): { stop: () => void; connects: () => number } {
  const get = `GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n${gzip ? 'Accept-Encoding: gzip\r\n' : ''}\r\n`;
  const data = get.repeat(perSocket);
  const open = new Set<net.Socket>();
  let stopped = false;
  let connects = 0;
  const connect = (): void => {
    if (stopped || connects >= maxConnects) return;
    connects++;
    // Paused and never resumed: the answers are never read.
    const s = net.connect({ port, host: '127.0.0.1' }, () => s.write(data));
    s.pause();
    open.add(s);
    s.on('error', () => {});
    const renew = renewMs ? setTimeout(() => s.destroy(), renewMs) : undefined;
    s.once('close', () => {
      clearTimeout(renew);
      open.delete(s);
      connect();
    });
  };
  for (let i = 0; i < sockets; i++) connect();
  return {
    connects: () => connects,
    stop: () => {
      stopped = true;
      for (const s of open) s.destroy();
    },
  };
}

/** Samples the daemon's RSS every 100 ms for ms; returns the largest. */
export async function peakRss(pid: number, ms: number): Promise<number> {
  let peak = 0;
  const end = Date.now() + ms;
  while (Date.now() < end) {
    peak = Math.max(peak, rssOf(pid));
    await new Promise((r) => setTimeout(r, 100));
  }
  return peak;
}

export const MB = 1024 * 1024;
