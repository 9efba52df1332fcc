import { describe, expect, it } from 'vitest';
import { DryRunWriter, formatText } from '../../src/writers/dryrun/index.js';
import type { Batch, Point } from '../../src/writers/writer.js';

const point = (over: Partial<Point> = {}): Point => ({ name: 'c.LoadAvg', value: 0.5, labels: {}, type: 'gauge', timestamp: 1700000000000, source: 's', ...over });

describe('DryRun', () => {
  it('prints name{labels} value timestamp, escaping label values', () => {
    expect(formatText(point())).toBe('c.LoadAvg 0.5 1700000000000');
    expect(formatText(point({ labels: { time: 'short', path: 'a\\b "q"\nx' } }))).toBe('c.LoadAvg{time="short",path="a\\\\b \\"q\\"\\nx"} 0.5 1700000000000');
    expect(formatText(point({ value: NaN }))).toBe('c.LoadAvg NaN 1700000000000');
    expect(formatText(point({ value: -Infinity }))).toBe('c.LoadAvg -Inf 1700000000000');
  });

  it('writes one batch as one chunk, or JSON lines', () => {
    const out: string[] = [];
    const w = new DryRunWriter({ type: 'DryRun', format: 'json' });
    w.sink = (t) => out.push(t);
    const batch: Batch = { collection: 'c', timestamp: 1, points: [point(), point({ name: 'c.X', labels: { a: 'b' }, type: 'counter' })], sources: [] };
    w.write(batch);
    expect(out).toHaveLength(1);
    const lines = out[0]!.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines[1]).toEqual({ name: 'c.X', labels: { a: 'b' }, value: 0.5, timestamp: 1700000000000, type: 'counter' });
    expect(w.stats().written).toBe(2);
  });
});
