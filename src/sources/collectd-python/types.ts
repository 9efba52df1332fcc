// collectd's data sets (types.db(5)): `<type> <ds>:<KIND>:<min>:<max>[, <ds>:...]`, min and max a
// number or U. The plugin reads the types.db of the collectd install at start (not a copy shipped
// with pollect), so a plugin sees the same types as under collectd.
import { readFileSync } from 'node:fs';

export type DsKind = 'GAUGE' | 'DERIVE' | 'COUNTER' | 'ABSOLUTE';

/** One data source: [name, kind, min, max], null for U; the shape the Python child gets. */
export type DataSource = [name: string, kind: DsKind, min: number | null, max: number | null];

export const DEFAULT_TYPES_DB = '/usr/share/collectd/types.db';

/** When no types.db is installed: the four generic types, so simple plugins still run. */
export const GENERIC_TYPES = `
absolute value:ABSOLUTE:0:U
counter value:COUNTER:U:U
derive value:DERIVE:0:U
gauge value:GAUGE:U:U
`;

export function parseTypesDb(text: string, file = 'types.db'): Map<string, DataSource[]> {
  const out = new Map<string, DataSource[]>();
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (!line || line.startsWith('#')) return;
    const m = /^(\S+)\s+(.+)$/.exec(line);
    if (!m) throw new Error(`${file} line ${i + 1}: no data sources: "${line}"`);
    // Data sources are separated by commas, blanks or both (Debian's file has both).
    const sources = m[2]!
      .split(/[\s,]+/)
      .filter(Boolean)
      .map((part): DataSource => {
        const [name, kind, min, max] = part.split(':');
        const k = kind?.toUpperCase();
        if (!name || (k !== 'GAUGE' && k !== 'DERIVE' && k !== 'COUNTER' && k !== 'ABSOLUTE') || min === undefined || max === undefined) {
          throw new Error(`${file} line ${i + 1}: bad data source "${part}" (name:GAUGE|DERIVE|COUNTER|ABSOLUTE:min:max)`);
        }
        return [name, k, bound(min, file, i), bound(max, file, i)];
      });
    out.set(m[1]!, sources);
  });
  return out;
}

function bound(s: string, file: string, i: number): number | null {
  if (s === 'U') return null;
  const n = Number(s);
  if (s.trim() === '' || !Number.isFinite(n)) throw new Error(`${file} line ${i + 1}: bad bound "${s}" (a number or U)`);
  return n;
}

/** The data sets of several types.db files, later files overriding earlier ones (as collectd's TypesDB). */
export function loadTypesDbs(files: readonly string[]): Map<string, DataSource[]> {
  const out = new Map<string, DataSource[]>();
  for (const f of files) for (const [k, v] of parseTypesDb(readFileSync(f, 'utf8'), f)) out.set(k, v);
  return out;
}
