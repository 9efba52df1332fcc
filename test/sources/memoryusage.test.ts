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

/** `free -b`: the Mem: row. */
function free(): { total: number; used: number; free: number; available: number } {
  const row = execFileSync('free', ['-b'], { encoding: 'utf8' })
    .split('\n')
    .find((l) => l.startsWith('Mem:'))!;
  const f = row.split(/\s+/).slice(1).map(Number);
  return { total: f[0]!, used: f[1]!, free: f[2]!, available: f[5]! };
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
    expect(valueOf(s, undefined, { type: 'used' })).toBe(valueOf(s, undefined, { type: 'total' }) - valueOf(s, undefined, { type: 'available' }));
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
