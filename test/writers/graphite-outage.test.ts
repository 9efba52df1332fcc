// The Graphite writer against a real carbon-cache (test/helpers/carbon.ts) through what breaks a
// network: a carbon outage (stopped, then killed and restarted) and a proxy that resets the
// connection after every 20-200 KB (issue 17). A file of its own, with its own carbon, so that
// these long tests run beside graphite.test.ts instead of after it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import net from 'node:net';
import type { Point } from '../../src/sdk/index.js';
import { tempDir } from '../helpers/net.js';
import { needs } from '../helpers/servers.js';
import { batch, type Carbon, graphite, makeCarbon, point, sleep, waitForWhisper, whisperValues } from '../helpers/carbon.js';

describe.skipIf(!needs('carbon-cache', 'whisper-fetch'))('Graphite writer through a carbon outage and a resetting proxy', () => {
  let tmp: ReturnType<typeof tempDir>;
  let carbon: Carbon;
  // Whole seconds in the past, inside the 1-day retention; each test takes its own range.
  const base = Math.floor(Date.now() / 1000) - 30_000;

  beforeAll(async () => {
    tmp = tempDir('pollect-carbon-');
    carbon = await makeCarbon(tmp.dir);
    await carbon.start();
  });

  afterAll(async () => {
    await carbon?.stop();
    tmp?.remove();
  });

  it('loses nothing through a carbon outage, resends what the kernel took but carbon never read, and a small buffer drops only the oldest', async () => {
    const big = graphite({ port: carbon.pickle, prefix: 'out' }, 'Graphite#big');
    const small = graphite({ port: carbon.pickle, prefix: 'small', bufferSize: 30 }, 'Graphite#small');
    const t0 = base + 1000;
    const S = 4;
    const value = (tick: number, s: number) => tick * 10 + s + 0.5;
    let tick = 0;
    const writeTick = () => {
      const pts = Array.from({ length: S }, (_, s) => point(`c.Out.s${s}`, value(tick, s), t0 + tick));
      big.runtime.add(batch(pts));
      small.runtime.add(batch(pts));
      tick++;
    };
    const ticks = async (n: number) => {
      for (let k = 0; k < n; k++) {
        writeTick();
        await sleep(150);
      }
    };
    await ticks(5);
    await Promise.all([big.flush(), small.flush()]);
    // Carbon stops reading: the kernel still takes three ticks, which carbon never reads.
    const pid = carbon.daemon!.child.pid!;
    process.kill(pid, 'SIGSTOP');
    await ticks(3);
    expect(big.writer.pending()).toBe(0);
    expect(big.writer.status().unconfirmed).toBeGreaterThanOrEqual(3 * S);
    await carbon.stop('SIGKILL');
    const killed = tick;
    await ticks(20);
    expect(big.writer.status().connected).toBe(false);
    expect(big.runtime.stats().queueLength).toBeGreaterThanOrEqual(18 * S);
    await carbon.start();
    await ticks(5);
    await Promise.all([big.flush(20_000), small.flush(20_000)]);

    const expected = new Map<string, Map<number, number>>();
    for (let s = 0; s < S; s++) {
      const m = new Map<number, number>();
      for (let k = 0; k < tick; k++) m.set(t0 + k, value(k, s));
      expected.set(`out.c.Out.s${s}`, m);
    }
    expect(await waitForWhisper(carbon, expected, 20_000)).toEqual([]);
    expect(big.runtime.stats()).toMatchObject({ written: tick * S, dropped: 0, queueLength: 0 });
    expect(big.writer.status().resent).toBeGreaterThanOrEqual(3 * S);
    // One warning when the connection went, one error (the core's) however often writes failed,
    // and one line each when writing and the connection came back.
    const lines = big.lines.filter((l) => !l.includes(' DEBUG '));
    expect(lines.filter((l) => l.includes(' WARN '))).toEqual([expect.stringContaining('writer Graphite#big: lost the connection')]);
    expect(lines.filter((l) => l.includes(' ERROR '))).toEqual([expect.stringContaining('writer Graphite#big: cannot reach carbon')]);
    expect(lines.filter((l) => l.includes(' INFO ') && l.includes('writing again'))).toHaveLength(1);
    expect(lines.filter((l) => l.includes(' INFO ') && l.includes('connected to'))).toHaveLength(1);

    // The small buffer (30 points, for the core's buffer and for what the writer keeps to send
    // again) kept the newest: in write order, what is missing comes before one unbroken run to
    // the end, at least 30 long.
    // Carbon stores each connection's points on its own schedule: wait for the small writer's
    // newest tick (kept, so sent) before reading what it stored.
    const newest = new Map(Array.from({ length: S }, (_, s) => [`small.c.Out.s${s}`, new Map([[t0 + tick - 1, value(tick - 1, s)]])]));
    expect(await waitForWhisper(carbon, newest, 20_000)).toEqual([]);
    const got = Array.from({ length: S }, (_, s) => whisperValues(carbon, `small.c.Out.s${s}`, t0, t0 + tick - 1));
    const sequence: boolean[] = [];
    for (let k = 0; k < tick; k++) for (let s = 0; s < S; s++) sequence.push(Object.is(got[s]!.get(t0 + k), value(k, s)));
    const lastMissing = sequence.lastIndexOf(false);
    expect(lastMissing).toBeGreaterThan(killed * S);
    expect(sequence.length - lastMissing - 1).toBeGreaterThanOrEqual(30);
    expect(small.runtime.stats().dropped).toBeGreaterThan(0);
    await Promise.all([big.stop(), small.stop()]);
  }, 60_000);

  it('delivers every tick through a proxy that resets the connection after every 20-200 KB (issue 17)', async () => {
    // A proxy, NAT or load balancer with a byte cap: it forwards a random 20-200 KB of each
    // connection to carbon, then resets the pollect side.
    let seed = 42;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    let resets = 0;
    const proxy = net.createServer((client) => {
      const upstream = net.connect(carbon.pickle, '127.0.0.1');
      let left = 20_000 + Math.floor(random() * 180_000);
      client.on('data', (d: Buffer) => {
        if (left <= 0) return;
        if (d.length < left) {
          upstream.write(d);
          left -= d.length;
          return;
        }
        upstream.end(d.subarray(0, left));
        left = 0;
        resets++;
        client.resetAndDestroy();
      });
      client.on('error', () => {});
      upstream.on('error', () => {});
      client.on('close', () => upstream.end());
    });
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
    const g = graphite({ port: (proxy.address() as net.AddressInfo).port, prefix: 'rst' }, 'Graphite#reset');
    // 60 ticks of 302 points (two series, 151 seconds each, so that whisper-fetch reads each once).
    const t0 = base + 12_000;
    const K = 60;
    const N = 151;
    const value = (t: number, s: number) => t * 2 + s + 0.5;
    for (let k = 0; k < K; k++) {
      const pts: Point[] = [];
      for (let s = 0; s < 2; s++) for (let j = 0; j < N; j++) pts.push(point(`c.Reset.s${s}`, value(k * N + j, s), t0 + k * N + j));
      g.runtime.add(batch(pts));
      await sleep(50);
    }
    await g.flush(30_000);
    const expected = new Map<string, Map<number, number>>();
    for (let s = 0; s < 2; s++) {
      const m = new Map<number, number>();
      for (let i = 0; i < K * N; i++) m.set(t0 + i, value(i, s));
      expected.set(`rst.c.Reset.s${s}`, m);
    }
    const missing = await waitForWhisper(carbon, expected, 20_000);
    expect(resets).toBeGreaterThanOrEqual(5);
    expect(missing.length, missing.slice(0, 5).join(', ')).toBe(0);
    expect(g.runtime.stats()).toMatchObject({ written: K * N * 2, dropped: 0 });
    // However often it was reset: one warning, one line when it delivered again.
    expect(g.lines.filter((l) => l.includes(' WARN '))).toHaveLength(1);
    expect(g.lines.filter((l) => l.includes(' INFO '))).toHaveLength(1);
    await g.stop();
    proxy.close();
  }, 60_000);
});
