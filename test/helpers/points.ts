// Points and batches for writer tests, named from a dotted id as sources name them.
import type { Batch, Labels, Point, SeriesName, SourceStatus } from '../../src/sdk/index.js';

/** `c.LoadAvg.short` -> collection c, source LoadAvg, value short (no instance). */
export function seriesName(id: string): SeriesName {
  const [collection = '', source = '', ...rest] = id.split('.');
  return rest.length ? { collection, source, value: rest.join('.'), id } : { collection, source, id };
}

export function point(id: string, value: number, labels: Labels = {}, timestamp = 1_700_000_000_000, over: Partial<Point> = {}): Point {
  return { name: seriesName(id), value, labels, type: 'gauge', timestamp, source: 'c.Dummy', ...over };
}

export function batch(points: Point[], sources: SourceStatus[] = []): Batch {
  return { collection: 'c', timestamp: points[0]?.timestamp ?? 0, points, sources };
}
