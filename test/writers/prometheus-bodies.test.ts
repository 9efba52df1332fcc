// The Prometheus endpoint's scrape bodies (issue 17 item 2): shared per version among concurrent
// scrapes, bounded in total against scrapers that never read. In-process; the attack on a real
// daemon is in prometheus-hostile.test.ts.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { EventEmitter } from 'node:events';
import http, { type ServerResponse } from 'node:http';
import net from 'node:net';
import zlib from 'node:zlib';
import { PrometheusWriter, type PrometheusConfig } from '../../src/writers/prometheus/index.js';
import { BodyCache, HeldBodies } from '../../src/writers/prometheus/bodies.js';
import { createLogger } from '../../src/log.js';
import { batch, point } from '../helpers/points.js';
import { scrape } from '../helpers/prometheus-daemon.js';

describe('scrape bodies: shared per version, bounded in total', () => {
  const logged: string[] = [];
  const log = createLogger('test', { level: 'debug', write: (l) => logged.push(l) });
  const writers: PrometheusWriter[] = [];
  afterEach(async () => {
    while (writers.length) await writers.pop()!.stop();
    vi.restoreAllMocks();
  });

  async function startWriter(): Promise<PrometheusWriter> {
    const w = new PrometheusWriter({ type: 'Prometheus', port: 0, host: '127.0.0.1', path: '/metrics', naming: 'pollect', staleAfter: 3 } as PrometheusConfig, {
      log,
      configDir: process.cwd(),
      tickTime: 1,
    });
    w.id = 'Prometheus';
    writers.push(w);
    await w.start();
    return w;
  }

  /** One tick of `count` series whose label is `pad` long: a body of about count x (pad + 40) bytes. */
  function tick(w: PrometheusWriter, count: number, pad: number, value: number): void {
    const points = Array.from({ length: count }, (_, i) => point('c.Dummy.v', value, { idx: String(i), pad: 'p'.repeat(pad) }));
    w.write(batch(points));
  }

  it('concurrent scrapes of one tick cost one render (and one gzip), whatever their number', async () => {
    const w = await startWriter();
    tick(w, 3000, 20, 1);
    const render = vi.spyOn(PrometheusWriter.prototype as unknown as { exposition: () => Buffer[] }, 'exposition');
    const answers = await Promise.all(Array.from({ length: 40 }, (_, i) => scrape(w.port, i % 2 ? { 'Accept-Encoding': 'gzip' } : {})));
    expect(answers.every((a) => a.status === 200)).toBe(true);
    expect(answers.filter((a) => a.gzipped).length).toBe(20);
    expect(new Set(answers.map((a) => a.body)).size).toBe(1);
    expect(answers[0]!.body).toContain('pollect_prometheus_series{writer="Prometheus"} 3000');
    expect(render).toHaveBeenCalledTimes(1);
    // A new tick is a new body.
    tick(w, 3000, 20, 2);
    await Promise.all([scrape(w.port), scrape(w.port)]);
    expect(render).toHaveBeenCalledTimes(2);
  });

  it('BodyCache gzips a version once, renders again at the next', async () => {
    const cache = new BodyCache();
    let renders = 0;
    const render = (): Buffer => Buffer.from(`body ${++renders}`);
    const a = cache.gzip(1, 'text', render);
    expect(cache.gzip(1, 'text', render)).toBe(a);
    expect(cache.body(1, 'text', render).toString()).toBe('body 1');
    expect(zlib.gunzipSync(await a).toString()).toBe('body 1');
    expect(cache.body(1, 'openmetrics', render).toString()).toBe('body 2');
    expect(cache.body(2, 'text', render).toString()).toBe('body 3');
    expect(cache.gzip(2, 'text', render)).not.toBe(a);
  });

  it('HeldBodies counts a shared body once, refuses past its bound, frees on close', () => {
    const held = new HeldBodies(30);
    const response = (): { res: ServerResponse; socket: EventEmitter } => {
      const socket = new EventEmitter();
      const res = Object.assign(new EventEmitter(), { req: { socket } });
      return { res: res as unknown as ServerResponse, socket };
    };
    const a = Buffer.alloc(20);
    const b = Buffer.alloc(20);
    const r1 = response();
    const r2 = response();
    expect(held.hold(a, r1.res)).toBe(true);
    expect(held.hold(a, r2.res)).toBe(true);
    expect(held.hold(b, response().res)).toBe(false);
    r1.res.emit('close');
    expect(held.hold(b, response().res)).toBe(false);
    // A queued response may only see its connection close.
    r2.socket.emit('close');
    expect(r2.socket.listenerCount('close')).toBe(0);
    const r3 = response();
    expect(held.hold(b, r3.res)).toBe(true);
    // Released once, however it ends.
    r3.res.emit('close');
    r3.socket.emit('close');
    const r4 = response();
    expect(held.hold(a, r4.res)).toBe(true);
    expect(held.hold(b, response().res)).toBe(false);
    r4.res.emit('close');
    // A connection already gone holds nothing.
    const gone = response();
    Object.assign(gone.socket, { destroyed: true });
    expect(held.hold(Buffer.alloc(25), gone.res)).toBe(true);
    // A body larger than the bound is still served when nothing else is held.
    expect(held.hold(Buffer.alloc(100), response().res)).toBe(true);
  });

  it('scrapers that never read hold at most the bound: further scrapes get 503 and Retry-After until they go', async () => {
    const w = await startWriter();
    const sockets: net.Socket[] = [];
    try {
      const statusesSeen: number[] = [];
      // 4 MB bodies, a new one each tick; two pipelined scrapes per connection, never read.
      for (let v = 0; v < 12; v++) {
        tick(w, 25_000, 120, v);
        const s = net.connect({ port: w.port, host: '127.0.0.1' }, () => s.write('GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n'.repeat(2)));
        s.pause();
        s.on('error', () => {});
        sockets.push(s);
        await new Promise((r) => setTimeout(r, 150));
        const answer = await scrapeHead(w.port);
        statusesSeen.push(answer.status);
        if (answer.status === 503) expect(answer.retryAfter).toBe('1');
      }
      // 32 MiB of 4 MB bodies: 8 versions held, then 503.
      expect(statusesSeen.slice(0, 6).every((s) => s === 200)).toBe(true);
      expect(statusesSeen.slice(-3)).toEqual([503, 503, 503]);
      expect(logged.some((l) => l.includes('answering 503'))).toBe(true);
    } finally {
      for (const s of sockets) s.destroy();
    }
    // Their connections' close frees what they held.
    let status = 0;
    for (let i = 0; i < 20 && status !== 200; i++) {
      await new Promise((r) => setTimeout(r, 50));
      status = (await scrapeHead(w.port)).status;
    }
    expect(status).toBe(200);
  }, 60_000);
});

/** A scrape whose body is read and dropped: its status and Retry-After. */
function scrapeHead(port: number): Promise<{ status: number; retryAfter?: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: '/metrics', agent: false, timeout: 10_000 }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode!, retryAfter: res.headers['retry-after'] as string | undefined }));
    });
    req.on('timeout', () => req.destroy(new Error('scrape timed out')));
    req.on('error', reject);
  });
}
