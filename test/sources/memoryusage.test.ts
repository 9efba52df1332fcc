import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { MemoryUsageSource } from '../../src/sources/memoryusage/index.js';
import { SourceError, type Sample } from '../../src/sdk/index.js';
import { probeOnce, valueOf } from '../helpers/probe.js';
import { fakeProc, GARBAGE } from '../helpers/hostproc.js';
import { build } from '../helpers/plugin.js';

const fake = fakeProc();
afterEach(() => fake.restore());
afterAll(() => fake.remove());

/** `free -b -w`: the Mem: row; `used` as psutil computes it (total - free - buffers - cache). */
function free(): { total: number; used: number; free: number; available: number } {
  const row = execFileSync('free', ['-b', '-w'], { encoding: 'utf8' })
    .split('\n')
    .find((l) => l.startsWith('Mem:'))!;
  const f = row.split(/\s+/).slice(1).map(Number);
  const [total, , freeB, , buffers, cache, available] = f as [number, number, number, number, number, number, number];
  return { total, used: total - freeB - buffers - cache, free: freeB, available };
}

const types = (s: Sample[]) => s.map((x) => x.labels!.type);

describe('MemoryUsage', () => {
  it('matches free -b at the same moment', async () => {
    const a = free();
    const s = await probeOnce(build(MemoryUsageSource, { type: 'MemoryUsage' }));
    const b = free();
    expect(types(s)).toEqual(['total', 'available', 'used', 'cached', 'free']);
    expect(valueOf(s, undefined, { type: 'total' })).toBe(a.total);
    // Memory moves while free runs: within what free saw around it, plus 32 MiB.
    const slack = 32 * 1024 * 1024;
    for (const k of ['available', 'used', 'free'] as const) {
      const v = valueOf(s, undefined, { type: k });
      expect(v).toBeGreaterThanOrEqual(Math.min(a[k], b[k]) - slack);
      expect(v).toBeLessThanOrEqual(Math.max(a[k], b[k]) + slack);
    }
  });

  it("reports used as the Python pollect's psutil does: total - free - buffers - cached (Cached + SReclaimable)", async () => {
    fake.use();
    fake.write({
      meminfo: [
        'MemTotal:       24683656 kB',
        'MemFree:        24337904 kB',
        'MemAvailable:   24338852 kB',
        'Buffers:            6456 kB',
        'Cached:           167576 kB',
        'SReclaimable:      80900 kB',
        '',
      ].join('\n'),
    });
    const s = await probeOnce(build(MemoryUsageSource, { type: 'MemoryUsage' }));
    // psutil 5.9.4's virtual_memory() on this file (psutil.PROCFS_PATH): used 92999680, cached 254439424.
    expect(valueOf(s, undefined, { type: 'used' })).toBe(92999680);
    expect(valueOf(s, undefined, { type: 'cached' })).toBe(254439424);
    expect(valueOf(s, undefined, { type: 'available' })).toBe(24338852 * 1024);
  });

  it('fails clearly on garbage and truncated meminfo', async () => {
    fake.use();
    for (const text of [GARBAGE, 'MemTotal:       24683656 kB\nMemFr', '']) {
      fake.write({ meminfo: text });
      const err = await probeOnce(build(MemoryUsageSource, { type: 'MemoryUsage' })).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(SourceError);
      expect((err as Error).message).toBe('cannot read /proc/meminfo: /proc/meminfo has no MemTotal or MemFree');
    }
  });

  it('runs the non-Linux path (systeminformation)', async () => {
    const s = await probeOnce(build(MemoryUsageSource, { type: 'MemoryUsage', backend: 'systeminformation' }));
    const f = free();
    expect(types(s)).toEqual(['total', 'available', 'used', 'cached', 'free']);
    expect(valueOf(s, undefined, { type: 'total' })).toBe(f.total);
    expect(Math.abs(valueOf(s, undefined, { type: 'available' }) - f.available)).toBeLessThan(64 * 1024 * 1024);
  });
});
