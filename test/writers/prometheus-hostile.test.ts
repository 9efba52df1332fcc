// The Prometheus endpoint under attack, in a real daemon (the built launcher): pipelined scrapes
// that are never read (issue 17 item 2) and slow-header sockets (item 6). The daemon serves ~20k
// series at tickTime 1 while a File writer in a second executor records every tick; the test
// checks the daemon's RSS, that no tick was missed, and that a normal scrape still succeeds.
// The daemon runs from dist/ (npm test builds it; alone: npm run build first).
import { afterEach, describe, expect, it } from 'vitest';
import http from 'node:http';
import net from 'node:net';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { BIN } from '../helpers/cli.js';
import { crowd, until, type SocketCrowd } from '../helpers/hostile-http.js';
import { freePort, spawnDaemon, tempDir, waitForPort, type Daemon } from '../helpers/net.js';

const TICK = 1;
const SERIES = 20_000;

let daemon: Daemon | undefined;
let removeDir: (() => void) | undefined;
afterEach(async () => {
  await daemon?.stop();
  daemon = undefined;
  removeDir?.();
});

interface Running {
  port: number;
  pid: number;
  ticksFile: string;
}

/** A daemon serving SERIES series on the Prometheus endpoint, ticking a File writer beside it. */
async function startDaemon(): Promise<Running> {
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
function ticks(file: string): number[] {
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
function missed(stamps: number[], from: number, to: number): number {
  const due = Math.floor((to - from) / (TICK * 1000));
  const got = stamps.filter((t) => t >= from && t < to).length;
  return Math.max(0, due - got - 1);
}

function rssOf(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m![1]) * 1024;
}

function openFds(pid: number): number {
  return readdirSync(`/proc/${pid}/fd`).length;
}

function scrape(port: number, headers: http.OutgoingHttpHeaders = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: '/metrics', headers, agent: false, timeout: 10_000 }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (d: Buffer) => parts.push(d));
      res.on('end', () => resolve({ status: res.statusCode!, body: Buffer.concat(parts).toString() }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error('scrape timed out')));
    req.on('error', reject);
  });
}

/**
 * Pipelined `GET /metrics` on `sockets` connections that never read an answer; a connection the
 * server closes is opened again, until stop(). Bounded by maxConnects.
 */
function pipeliners(port: number, sockets: number, perSocket: number, gzip: boolean, maxConnects: number): { stop: () => void; connects: () => number } {
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
    s.once('close', () => {
      open.delete(s);
      setTimeout(connect, 20);
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
async function peakRss(pid: number, ms: number): Promise<number> {
  let peak = 0;
  const end = Date.now() + ms;
  while (Date.now() < end) {
    peak = Math.max(peak, rssOf(pid));
    await new Promise((r) => setTimeout(r, 100));
  }
  return peak;
}

const MB = 1024 * 1024;

describe('Prometheus endpoint under attack (a real daemon, ~20k series, tickTime 1)', () => {
  it('pipelined scrapes never read: RSS bounded, no tick missed, a normal scrape succeeds', async () => {
    const { port, pid, ticksFile } = await startDaemon();
    const before = rssOf(pid);
    const from = Date.now();
    // 20 sockets x 500 pipelined GETs, half of them asking for gzip, re-opened when closed; and
    // 100 sockets with 15 each (under the per-connection cap), held open across many ticks.
    const deep = pipeliners(port, 20, 500, false, 400);
    const deepGz = pipeliners(port, 20, 500, true, 400);
    const held: ReturnType<typeof pipeliners>[] = [];
    for (let i = 0; i < 5; i++) {
      held.push(pipeliners(port, 10, 15, false, 10), pipeliners(port, 10, 15, true, 10));
      await new Promise((r) => setTimeout(r, TICK * 1000));
    }
    const peak = await peakRss(pid, 6_000);
    for (const p of [deep, deepGz, ...held]) p.stop();
    const to = Date.now();
    await new Promise((r) => setTimeout(r, 2 * TICK * 1000));
    const lost = missed(ticks(ticksFile), from, to);
    console.log(
      `pipelining: RSS ${Math.round(before / MB)} MB before, peak ${Math.round(peak / MB)} MB; ` +
        `${deep.connects() + deepGz.connects()} deep connections; ${Math.floor((to - from) / (TICK * 1000))} ticks due, ${lost} missed`,
    );
    const ok = await scrape(port);
    const okGz = await scrape(port, { 'Accept-Encoding': 'gzip' });
    expect(ok.status).toBe(200);
    expect(ok.body).toContain(`pollect_prometheus_series{writer="Prometheus"} ${SERIES}`);
    expect(okGz.status).toBe(200);
    expect(lost).toBe(0);
    // Before shared bodies and their bound: +300 MB here (88 -> 388 MB); with them: +44 MB.
    expect(peak - before).toBeLessThan(100 * MB);
  }, 60_000);

  it('a few hundred slow-header sockets: a normal scrape succeeds, descriptors stay bounded, no tick missed', async () => {
    const { port, pid, ticksFile } = await startDaemon();
    const fdsBefore = openFds(pid);
    const from = Date.now();
    const crowds: SocketCrowd[] = [];
    let maxFds = 0;
    try {
      for (let i = 0; i < 4; i++) {
        crowds.push(await crowd(port, 150, 'GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n'));
        maxFds = Math.max(maxFds, openFds(pid));
      }
      const ok = await scrape(port);
      maxFds = Math.max(maxFds, openFds(pid));
      expect(ok.status).toBe(200);
      expect(ok.body).toContain(`pollect_prometheus_series{writer="Prometheus"} ${SERIES}`);
      await new Promise((r) => setTimeout(r, 4 * TICK * 1000));
      maxFds = Math.max(maxFds, openFds(pid));
    } finally {
      for (const c of crowds) c.destroy();
    }
    const to = Date.now();
    await new Promise((r) => setTimeout(r, 2 * TICK * 1000));
    const lost = missed(ticks(ticksFile), from, to);
    console.log(`slow headers: ${fdsBefore} descriptors before, at most ${maxFds} with 600 sockets; ${lost} ticks missed`);
    // The connection cap (256) and a few for the daemon's own work.
    expect(maxFds - fdsBefore).toBeLessThanOrEqual(256 + 8);
    expect(lost).toBe(0);
  }, 60_000);
});
