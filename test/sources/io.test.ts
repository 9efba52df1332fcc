// IO against real disk writes and fake /proc/diskstats files for exact rates, busy time,
// resets, device-mapper and loop devices.
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { closeSync, fsyncSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { IOSource, type IOConfig } from '../../src/sources/io/index.js';
import { SourceError, type Sample } from '../../src/sdk/index.js';
import { probeOnce, valueOf } from '../helpers/probe.js';
import { fakeProc, GARBAGE } from '../helpers/hostproc.js';
import { tempDir } from '../helpers/net.js';
import { build } from '../helpers/plugin.js';

const fake = fakeProc();
const tmp = tempDir('pollect-io-');
afterEach(() => fake.restore());
afterAll(() => {
  fake.remove();
  tmp.remove();
});

const make = (cfg: Partial<IOConfig> = {}) => build(IOSource, { type: 'IO', ...cfg });
async function timed(s: IOSource): Promise<{ samples: Sample[]; a: number; b: number }> {
  const a = performance.now();
  const samples = await probeOnce(s);
  return { samples, a, b: performance.now() };
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A 20-field diskstats line: reads, sectors read, writes, sectors written, ms doing I/O. */
const line = (maj: number, min: number, name: string, r: number, rs: number, w: number, ws: number, ioMs: number) =>
  `${String(maj).padStart(4)} ${String(min).padStart(7)} ${name} ${r} 0 ${rs} 10 ${w} 0 ${ws} 20 0 ${ioMs} 30 0 0 0 0 0 0\n`;

describe('IO on this machine', () => {
  it('primes, then sees bytes written and synced to disk', async () => {
    const s = make();
    const first = await timed(s);
    expect(first.samples).toEqual([]);
    const N = 8 * 1024 * 1024;
    const fd = openSync(join(tmp.dir, 'data'), 'w');
    writeSync(fd, Buffer.alloc(N, 1));
    fsyncSync(fd);
    closeSync(fd);
    const second = await timed(s);
    const written = second.samples.filter((x) => x.name === 'write_bytes_sec').reduce((a, x) => a + x.value, 0);
    // Summed over devices (the file's disk, and any dm- or md layer above it).
    expect(written * ((second.b - first.a) / 1000)).toBeGreaterThanOrEqual(N);
    for (const x of second.samples.filter((y) => y.name === 'busy_percent')) {
      expect(x.value).toBeGreaterThanOrEqual(0);
      expect(x.value).toBeLessThanOrEqual(100);
    }
    const names = new Set(second.samples.map((x) => x.name));
    expect([...names].sort()).toEqual(['busy_percent', 'read_bytes_sec', 'reads_sec', 'write_bytes_sec', 'writes_sec']);
  });

  it('runs the non-Linux path (systeminformation): machine-wide counters as disk "all"', async () => {
    const s = make({ backend: 'systeminformation' });
    await probeOnce(s);
    await sleep(100);
    const again = await probeOnce(s);
    expect(again.map((x) => x.labels!.disk)).toEqual(['all', 'all', 'all', 'all']);
    expect(again.map((x) => x.name)).toEqual(['reads_sec', 'writes_sec', 'read_bytes_sec', 'write_bytes_sec']);
  });
});

describe('IO on fake counters', () => {
  it('computes exact rates over the real elapsed time; dm- and NVMe names; unused loop devices with 0, as the Python pollect', async () => {
    fake.use();
    fake.write({ diskstats: line(7, 0, 'loop0', 0, 0, 0, 0, 0) + line(253, 0, 'dm-0', 100, 800, 50, 400, 1000) + line(259, 1, 'nvme0n1p1', 5, 40, 5, 40, 10) });
    const s = make();
    const p1 = await timed(s);
    await sleep(200);
    fake.write({
      diskstats:
        line(7, 0, 'loop0', 0, 0, 0, 0, 0) +
        line(253, 0, 'dm-0', 100 + 40, 800 + 2048, 50 + 20, 400 + 4096, 1000 + 100) +
        line(259, 1, 'nvme0n1p1', 5, 40, 5, 40, 10),
    });
    const p2 = await timed(s);
    expect(p1.samples).toEqual([]);
    expect([...new Set(p2.samples.map((x) => x.labels!.disk))]).toEqual(['loop0', 'dm-0', 'nvme0n1p1']);
    expect(p2.samples.filter((x) => x.labels!.disk === 'loop0').map((x) => [x.name, x.value])).toEqual([
      ['reads_sec', 0],
      ['writes_sec', 0],
      ['read_bytes_sec', 0],
      ['write_bytes_sec', 0],
      ['busy_percent', 0],
    ]);
    const lo = (p2.b - p1.a) / 1000;
    const hi = (p2.a - p1.b) / 1000;
    const check = (name: string, delta: number) => {
      const v = valueOf(p2.samples, name, { disk: 'dm-0' });
      expect(v).toBeGreaterThanOrEqual(delta / lo);
      expect(v).toBeLessThanOrEqual(delta / hi);
    };
    check('reads_sec', 40);
    check('writes_sec', 20);
    check('read_bytes_sec', 2048 * 512);
    check('write_bytes_sec', 4096 * 512);
    // 100 ms busy in ~200 ms: about 50 %.
    const busy = valueOf(p2.samples, 'busy_percent', { disk: 'dm-0' });
    expect(busy).toBeGreaterThanOrEqual(100 / (lo * 10));
    expect(busy).toBeLessThanOrEqual(100 / (hi * 10));
    expect(valueOf(p2.samples, 'busy_percent', { disk: 'nvme0n1p1' })).toBe(0);
  });

  it('include and exclude', async () => {
    fake.use();
    fake.write({ diskstats: line(7, 1, 'loop1', 0, 0, 0, 0, 0) + line(8, 0, 'sda', 1, 8, 1, 8, 1) + line(8, 1, 'sda1', 1, 8, 1, 8, 1) });
    const inc = make({ include: ['loop1', 'sda'] });
    const exc = make({ exclude: ['sda1'] });
    for (const s of [inc, exc]) await probeOnce(s);
    await sleep(10);
    expect([...new Set((await probeOnce(inc)).map((x) => x.labels!.disk))]).toEqual(['loop1', 'sda']);
    expect([...new Set((await probeOnce(exc)).map((x) => x.labels!.disk))]).toEqual(['loop1', 'sda']);
  });

  it('gives no negative rate after a counter reset (disk removed and re-added)', async () => {
    fake.use();
    const s = make();
    fake.write({ diskstats: line(8, 16, 'sdb', 1000, 8000, 1000, 8000, 5000) });
    await probeOnce(s);
    await sleep(10);
    fake.write({ diskstats: line(8, 16, 'sdb', 3, 24, 1, 8, 2) });
    expect(await probeOnce(s)).toEqual([]);
    await sleep(10);
    fake.write({ diskstats: line(8, 16, 'sdb', 4, 32, 2, 16, 3) });
    const after = await probeOnce(s);
    expect(after).toHaveLength(5);
    expect(after.every((x) => x.value > 0)).toBe(true);
  });

  it('fails clearly on garbage and a missing file; an empty file is no devices', async () => {
    fake.use();
    fake.write({ diskstats: GARBAGE });
    const err = await probeOnce(make()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SourceError);
    expect((err as Error).message).toMatch(/^cannot read \/proc\/diskstats: unexpected \/proc\/diskstats content: /);
    fake.write({ diskstats: '' });
    expect(await probeOnce(make())).toEqual([]);
    process.env.HOST_PROC = '/nonexistent';
    await expect(probeOnce(make())).rejects.toThrow(/^cannot read \/proc\/diskstats: ENOENT$/);
  });
});
