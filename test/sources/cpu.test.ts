import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { cpus } from 'node:os';
import { CpuSource } from '../../src/sources/cpu/index.js';
import { SourceError, type Sample } from '../../src/sdk/index.js';
import { probeOnce, valueOf } from '../helpers/probe.js';
import { fakeProc, GARBAGE } from '../helpers/hostproc.js';
import { build } from '../helpers/plugin.js';

const fake = fakeProc();
afterEach(() => fake.restore());
afterAll(() => fake.remove());

const MODES = ['user', 'nice', 'system', 'idle', 'iowait', 'irq', 'softirq', 'steal'];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const sumFor = (s: Sample[], cpu: string) => s.filter((x) => x.labels!.cpu === cpu).reduce((a, x) => a + x.value, 0);

describe('Cpu on this machine', () => {
  it('primes, then reports every mode for all cores and each core, summing to 100', async () => {
    const s = build(CpuSource, { type: 'Cpu' });
    expect(await probeOnce(s)).toEqual([]);
    const end = Date.now() + 300;
    while (Date.now() < end); // keep a core busy
    const out = await probeOnce(s);
    const ids = [...new Set(out.map((x) => x.labels!.cpu))];
    expect(ids).toEqual(['all', ...cpus().map((_, i) => String(i))]);
    for (const id of ids) {
      expect(out.filter((x) => x.labels!.cpu === id).map((x) => x.labels!.mode)).toEqual(MODES);
      expect(sumFor(out, id!)).toBeCloseTo(100, 6);
    }
    expect(100 - valueOf(out, undefined, { cpu: 'all', mode: 'idle' })).toBeGreaterThan(10);
    expect(out.every((x) => x.value >= 0 && x.unit === 'percent')).toBe(true);
  });

  it('reports only the total with perCpu false', async () => {
    const s = build(CpuSource, { type: 'Cpu', perCpu: false });
    await probeOnce(s);
    await sleep(50);
    expect(new Set((await probeOnce(s)).map((x) => x.labels!.cpu))).toEqual(new Set(['all']));
  });

  it('runs the non-Linux path (os.cpus)', async () => {
    const s = build(CpuSource, { type: 'Cpu', backend: 'systeminformation' });
    await probeOnce(s);
    const end = Date.now() + 200;
    while (Date.now() < end);
    const out = await probeOnce(s);
    expect(sumFor(out, 'all')).toBeCloseTo(100, 6);
    expect(valueOf(out, undefined, { cpu: 'all', mode: 'steal' })).toBe(0);
  });
});

describe('Cpu on fake /proc/stat', () => {
  it('computes exact shares between two readings and skips a cpu whose counters went back', async () => {
    fake.use();
    fake.write({ stat: 'cpu  100 0 100 800 0 0 0 0 0 0\ncpu0 50 0 50 400 0 0 0 0 0 0\ncpu1 50 0 50 400 0 0 0 0 0 0\nintr 1 2 3\n' });
    const s = build(CpuSource, { type: 'Cpu' });
    await probeOnce(s);
    // cpu0: +60 user +20 system +10 idle +10 iowait; cpu1 was hot-unplugged and came back reset.
    fake.write({ stat: 'cpu  160 0 120 810 10 0 0 0 0 0\ncpu0 110 0 70 410 10 0 0 0 0 0\ncpu1 1 0 1 2 0 0 0 0 0 0\nintr 1 2 3\n' });
    const out = await probeOnce(s);
    expect([...new Set(out.map((x) => x.labels!.cpu))]).toEqual(['all', '0']);
    expect(valueOf(out, undefined, { cpu: '0', mode: 'user' })).toBe(60);
    expect(valueOf(out, undefined, { cpu: '0', mode: 'system' })).toBe(20);
    expect(valueOf(out, undefined, { cpu: '0', mode: 'iowait' })).toBe(10);
    expect(valueOf(out, undefined, { cpu: 'all', mode: 'idle' })).toBe(10);
  });

  it('fails clearly on garbage and truncated files', async () => {
    fake.use();
    for (const text of [GARBAGE, '', 'cpu  1 2 x']) {
      fake.write({ stat: text });
      const err = await probeOnce(build(CpuSource, { type: 'Cpu' })).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(SourceError);
      expect((err as Error).message).toMatch(/^cannot read \/proc\/stat: (no cpu lines|unexpected)/);
    }
  });
});
