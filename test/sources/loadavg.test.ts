import { afterEach, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { LoadAvgSource } from '../../src/sources/loadavg/index.js';
import { SourceError } from '../../src/sdk/index.js';
import { probeOnce, valueOf } from '../helpers/probe.js';
import { fakeProc, GARBAGE } from '../helpers/hostproc.js';
import { build } from '../helpers/plugin.js';

const fake = fakeProc();
afterEach(() => fake.restore());

describe('LoadAvg', () => {
  it('matches /proc/loadavg read at the same moment', async () => {
    const before = readFileSync('/proc/loadavg', 'utf8').split(' ').map(Number);
    const s = await probeOnce(build(LoadAvgSource, { type: 'LoadAvg' }));
    const after = readFileSync('/proc/loadavg', 'utf8').split(' ').map(Number);
    expect(s.map((x) => x.labels!.time)).toEqual(['short', 'mid', 'long']);
    ['short', 'mid', 'long'].forEach((time, i) => {
      const v = valueOf(s, undefined, { time });
      // The kernel updates the averages every 5 s: the value is one of the two readings.
      expect([before[i], after[i]]).toContain(v);
    });
    expect(s.every((x) => x.name === undefined)).toBe(true);
  });

  it('reads odd content and fails clearly on garbage', async () => {
    fake.write({ loadavg: '101.25 8.50 0.00 17/2048 4194303\n' });
    fake.use();
    const s = await probeOnce(build(LoadAvgSource, { type: 'LoadAvg' }));
    expect(s.map((x) => x.value)).toEqual([101.25, 8.5, 0]);
    fake.write({ loadavg: GARBAGE });
    const err = await probeOnce(build(LoadAvgSource, { type: 'LoadAvg' })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SourceError);
    expect((err as Error).message).toMatch(/^cannot read \/proc\/loadavg: unexpected \/proc\/loadavg content: /);
    fake.write({ loadavg: '' });
    await expect(probeOnce(build(LoadAvgSource, { type: 'LoadAvg' }))).rejects.toThrow(SourceError);
  });

  it('runs the non-Linux path', async () => {
    const s = await probeOnce(build(LoadAvgSource, { type: 'LoadAvg', backend: 'systeminformation' }));
    const os = loadavg();
    s.forEach((x, i) => expect(Math.abs(x.value - os[i]!)).toBeLessThan(0.5));
  });
});
