import { describe, expect, it } from 'vitest';
import { DryRunWriter, formatText } from '../../src/writers/dryrun/index.js';
import type { Batch, Point } from '../../src/sdk/index.js';
import { build } from '../helpers/plugin.js';
import { seriesName } from '../helpers/points.js';

const point = (over: Partial<Omit<Point, 'name'>> & { name?: string } = {}): Point => {
  const { name = 'c.LoadAvg', ...rest } = over;
  return { name: seriesName(name), value: 0.5, labels: {}, type: 'gauge', timestamp: 1700000000000, source: 's', ...rest };
};

describe('DryRun', () => {
  it('prints name{labels} value timestamp, escaping label values', () => {
    expect(formatText(point())).toBe('c.LoadAvg 0.5 1700000000000');
    expect(formatText(point({ labels: { time: 'short', path: 'a\\b "q"\nx' } }))).toBe('c.LoadAvg{time="short",path="a\\\\b \\"q\\"\\nx"} 0.5 1700000000000');
    expect(formatText(point({ value: NaN }))).toBe('c.LoadAvg NaN 1700000000000');
    expect(formatText(point({ value: -Infinity }))).toBe('c.LoadAvg -Inf 1700000000000');
  });

  it('writes one batch as one chunk, or JSON lines', () => {
    const out: string[] = [];
    const w = build(DryRunWriter, { format: 'json' });
    w.sink = (t) => out.push(t);
    const batch: Batch = { collection: 'c', timestamp: 1, points: [point(), point({ name: 'c.X', labels: { a: 'b' }, type: 'counter' })], sources: [] };
    w.write(batch);
    expect(out).toHaveLength(1);
    const lines = out[0]!
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines[1]).toEqual({ name: 'c.X', labels: { a: 'b' }, value: 0.5, timestamp: 1700000000000, type: 'counter' });
    expect(lines).toHaveLength(2);
  });

  it('writes a text batch as the lines formatText gives, in order', () => {
    const out: string[] = [];
    const w = build(DryRunWriter);
    expect(w.config.format).toBe('text');
    w.sink = (t) => out.push(t);
    const pts = [
      point({ labels: { cpu: '0', mode: 'user' }, value: 12.5 }),
      point({ name: 'c.X', timestamp: 1700000001000, value: -0 }),
      point({ labels: { path: 'a"b' }, value: Infinity }),
    ];
    for (let round = 0; round < 2; round++) {
      // The second, shorter batch reuses what the first left: nothing of it may leak in.
      const batch: Batch = { collection: 'c', timestamp: 1, points: round === 0 ? pts : pts.slice(1, 2), sources: [] };
      w.write(batch);
    }
    expect(out[0]).toBe(pts.map((p) => formatText(p) + '\n').join(''));
    expect(out[0]).toBe('c.LoadAvg{cpu="0",mode="user"} 12.5 1700000000000\nc.X 0 1700000001000\nc.LoadAvg{path="a\\"b"} +Inf 1700000000000\n');
    expect(out[1]).toBe('c.X 0 1700000001000\n');
  });
});
