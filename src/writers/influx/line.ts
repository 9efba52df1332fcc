// InfluxDB line protocol: one point per line, `measurement,tag=value field=1.5 1700000000000`.
// Escaping as InfluxDB's own parser reads it (checked against a real influxd 1.x and
// VictoriaMetrics): a backslash before a comma or space (measurement), or before a comma, equals
// sign or space (tag keys, tag values, field keys); any other backslash is taken literally. What
// no escape carries the same way to every parser:
//  - a line break ends the line: it becomes a space;
//  - a backslash before a comma, space or equals sign, or at the end, would be read as an escape
//    itself (InfluxDB 1.x and VictoriaMetrics disagree on `\\,`): it is removed, as Telegraf
//    removes a trailing one;
//  - a measurement starting with `#` would be a comment: the `#` becomes `_`.
// An empty tag value is not allowed, so the tag is left out (InfluxDB treats a missing tag as
// empty); the tag key `time` is refused by InfluxDB, so it becomes `time_`.
import type { Labels, Point, SeriesName } from '../../sdk/index.js';

export type Precision = 's' | 'ms' | 'us' | 'ns';

/** The field every line carries its value in. */
export const FIELD = 'value';

function clean(s: string): string {
  return s.replace(/[\r\n]+/g, ' ').replace(/\\+(?=[, =]|$)/g, '');
}

export function escapeMeasurement(s: string): string {
  const out = clean(s).replace(/[, ]/g, '\\$&');
  return out.startsWith('#') ? `_${out.slice(1)}` : out || '_';
}

/** A tag key, tag value or field key. */
export function escapeKey(s: string): string {
  return clean(s).replace(/[,= ]/g, '\\$&');
}

/** The tag key a label name becomes (escaped). */
export function tagKey(name: string): string {
  const k = escapeKey(name);
  return k === 'time' ? 'time_' : k;
}

/** `measurement,tag=value,...` with the tags sorted by key (InfluxDB's own order, cheapest for it to index). */
export function seriesKey(name: SeriesName, labels: Labels): string {
  let key = escapeMeasurement(name.id);
  const tags: [string, string][] = [];
  for (const k in labels) {
    const tk = tagKey(k);
    const tv = escapeKey(String(labels[k]));
    if (tk === '' || tv === '') continue;
    tags.push([tk, tv]);
  }
  tags.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  let last = '';
  for (const [k, v] of tags) {
    // Two labels that escape alike (`a b` and `a\ b` cannot both exist, but `time` and `time_` can): the first wins.
    if (k === last) continue;
    last = k;
    key += `,${k}=${v}`;
  }
  return key;
}

/** A millisecond timestamp in `precision`, as digits (no float: ns stamps exceed 2^53). */
export function timestamp(ms: number, precision: Precision): string {
  const t = Math.round(ms);
  switch (precision) {
    case 's':
      return String(Math.floor(t / 1000));
    case 'ms':
      return String(t);
    case 'us':
      return `${t}000`;
    case 'ns':
      return `${t}000000`;
  }
}

/** The line of a point, or undefined for a value InfluxDB cannot store (NaN, ±Infinity). */
export function line(key: string, p: Point, precision: Precision): string | undefined {
  if (!Number.isFinite(p.value)) return undefined;
  // A float field always (no `i` suffix), so a series whose value is sometimes whole keeps one field type.
  return `${key} ${FIELD}=${p.value} ${timestamp(p.timestamp, precision)}`;
}

/**
 * Series keys by label set and series name. Sources usually hand the same labels object tick after
 * tick and every point of a series shares its SeriesName, so each key is built once; both maps are
 * weak, so a key goes with the objects it was built from.
 */
export class SeriesKeys {
  private readonly cache = new WeakMap<Labels, WeakMap<SeriesName, string>>();

  get(name: SeriesName, labels: Labels): string {
    let byName = this.cache.get(labels);
    if (!byName) this.cache.set(labels, (byName = new WeakMap()));
    let key = byName.get(name);
    if (key === undefined) byName.set(name, (key = seriesKey(name, labels)));
    return key;
  }
}
