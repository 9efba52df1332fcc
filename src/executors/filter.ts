// Filters, for an executor (before any writer) or a writer (what it gets): the common cases of
// Telegraf's namepass/namedrop/taginclude/tagexclude and Prometheus' metric relabelling. Names
// and label names are matched by globs (`*` any run of characters, `?` one); a point's name is
// pollect's dotted name (`pollect.DiskUsage.free`, `process.cpu.seconds_total`).
import type { JsonSchema, Labels, Point, SeriesName } from '../sdk/index.js';

const globs = (what: string) => ({ type: 'array', items: { type: 'string', minLength: 1 }, minItems: 1, description: what }) as const;

export const filterSchema = {
  type: 'object',
  additionalProperties: false,
  minProperties: 1,
  description: 'Which samples and labels pass (names and label names as globs: * and ?)',
  properties: {
    include: globs('Only samples whose dotted name matches one of these'),
    exclude: globs('No sample whose dotted name matches one of these'),
    keepLabels: globs('Only labels whose name matches one of these'),
    dropLabels: globs('No label whose name matches one of these'),
    renameLabels: { type: 'object', additionalProperties: { type: 'string', minLength: 1 }, description: 'Label renames, old name: new name' },
  },
} as const satisfies JsonSchema;

export interface FilterConfig {
  include?: readonly string[];
  exclude?: readonly string[];
  keepLabels?: readonly string[];
  dropLabels?: readonly string[];
  renameLabels?: Readonly<Record<string, string>>;
}

/** A glob as an anchored regex: `*` any run of characters, `?` one, everything else literal. */
export function globRegex(glob: string): RegExp {
  const body = glob
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${body}$`, 's');
}

function anyOf(list: readonly string[] | undefined): ((s: string) => boolean) | undefined {
  if (!list) return undefined;
  const res = list.map(globRegex);
  return (s) => res.some((re) => re.test(s));
}

export type PointFilter = (points: Point[]) => Point[];

/**
 * The filter as a function on a batch's points. A series' verdict and each label set's result
 * are cached on the objects (weakly): the same SeriesName and labels objects come back every
 * tick, and writers that cache by object identity keep their caches.
 */
export function compileFilter(cfg: FilterConfig): PointFilter {
  const include = anyOf(cfg.include);
  const exclude = anyOf(cfg.exclude);
  const keep = anyOf(cfg.keepLabels);
  const drop = anyOf(cfg.dropLabels);
  const rename = cfg.renameLabels;
  const touchesLabels = keep !== undefined || drop !== undefined || rename !== undefined;
  const passes = new WeakMap<SeriesName, boolean>();
  const relabelled = new WeakMap<Labels, Labels>();
  const pass = (name: SeriesName): boolean => {
    let ok = passes.get(name);
    if (ok === undefined) {
      ok = (!include || include(name.id)) && !exclude?.(name.id);
      passes.set(name, ok);
    }
    return ok;
  };
  const labelsOf = (labels: Labels): Labels => {
    let out = relabelled.get(labels);
    if (out === undefined) {
      const kept: Labels = {};
      const renamed: [string, string][] = [];
      // keepLabels and dropLabels see the names as the source gave them; renamed labels come last,
      // so a renamed label replaces one that had its new name already.
      for (const k in labels) {
        if ((keep && !keep(k)) || drop?.(k)) continue;
        const to = rename?.[k];
        if (to === undefined) kept[k] = labels[k]!;
        else renamed.push([to, labels[k]!]);
      }
      for (const [k, v] of renamed) kept[k] = v;
      out = kept;
      relabelled.set(labels, out);
    }
    return out;
  };
  return (points) => {
    const out: Point[] = [];
    for (const p of points) {
      if (!pass(p.name)) continue;
      out.push(touchesLabels ? { ...p, labels: labelsOf(p.labels) } : p);
    }
    return out;
  };
}
