// Turns series names and labels into Prometheus ones, in the two naming modes. A family name is
// built from the series name's parts, never from its dotted id.
//  - pollect: `<collection>_<Type>[_<name>][_<valueName>]`, `!` dropped, every other char outside
//    [a-zA-Z0-9_:] -> `_`, so dashboards built on the Python pollect keep working. Values as the
//    source gave them.
//  - prometheus: lower snake_case, the unit the sample declares (`Sample.unit`) appended in its
//    base form with the value converted to it (units.ts), `_total` on counters, so that
//    `promtool check metrics` has nothing to report. Nothing but the declared unit scales a value.
// In both, a histogram or summary passed through (Exec's `format: prometheus`) keeps its shape:
// one family of TYPE histogram/summary, its `_bucket` (with `le`), `_sum` and `_count` series.
// pollect's self-metrics need no rule of their own: their parts are snake_case already
// (`pollect`/`source`/`errors_total`), so both modes give `pollect_source_errors_total`.
import type { Labels, MetricType, PartOf, SeriesName } from '../../sdk/index.js';
import { keptUnit, unitConversion } from './units.js';

export type Naming = 'pollect' | 'prometheus';
export type FamilyType = MetricType | PartOf;

/** A series' Prometheus names plus the linear conversion its values need: v' = v * mul + add. */
export interface MetricName {
  /** The family: HELP and TYPE are written for it. */
  family: string;
  /** The series' own name: the family's, or with `_bucket`, `_sum`, `_count` in a histogram or summary. */
  sample: string;
  type: FamilyType;
  /** `le` on a bucket, `quantile` on a summary's quantile: the label written last, never renamed. */
  extraLabel?: 'le' | 'quantile';
  unit?: string;
  mul: number;
  add: number;
}

export interface Namer {
  metric(name: SeriesName, type: MetricType, unit?: string, partOf?: PartOf): MetricName;
  /** Valid label names; `keep` (a histogram's `le`) stays as it is. */
  labels(labels: Labels, keep?: string): Labels;
}

/** The parts of a series name that are present, in order. */
export function nameParts(name: SeriesName): string[] {
  const parts = [name.collection, name.source];
  if (name.instance) parts.push(name.instance);
  if (name.value) parts.push(name.value);
  return parts;
}

interface Part {
  /** The name parts with the value name cut to the family's. */
  parts: string[];
  suffix: '' | '_bucket' | '_sum' | '_count';
  extraLabel?: 'le' | 'quantile';
}

/** Where a histogram or summary series' name ends and its suffix begins; undefined: not a valid part. */
export function splitPart(name: SeriesName, partOf: PartOf): Part | undefined {
  const value = name.value ?? '';
  const parts = nameParts(name);
  if (name.value) parts.pop();
  for (const suffix of ['_bucket', '_sum', '_count'] as const) {
    if (!value.endsWith(suffix) || (suffix === '_bucket' && partOf !== 'histogram')) continue;
    const base = value.slice(0, -suffix.length);
    if (base) parts.push(base);
    return { parts, suffix, extraLabel: suffix === '_bucket' ? 'le' : undefined };
  }
  if (partOf !== 'summary') return undefined;
  if (value) parts.push(value);
  return { parts, suffix: '', extraLabel: 'quantile' };
}

/**
 * A namer with caches: every point of a series shares one SeriesName object, tick after tick, so
 * each series' family name is made once (and forgotten with the object). Label names repeat too.
 */
export function createNamer(mode: Naming): Namer {
  const metricCache = new WeakMap<SeriesName, { type: MetricType; unit?: string; partOf?: PartOf; result: MetricName }[]>();
  const labelCache = new Map<string, string>();
  const labelName = mode === 'prometheus' ? promLabelName : pollectLabelName;
  const metricName = mode === 'prometheus' ? promMetricName : pollectMetricName;
  const cachedLabelName = (raw: string): string => {
    let n = labelCache.get(raw);
    if (n === undefined) {
      // A misbehaving source could invent label names forever; start over rather than grow without bound.
      if (labelCache.size > 50_000) labelCache.clear();
      n = labelName(raw);
      labelCache.set(raw, n);
    }
    return n;
  };
  return {
    metric(name, type, unit, partOf) {
      let variants = metricCache.get(name);
      if (variants) {
        for (let i = 0; i < variants.length; i++) {
          const v = variants[i]!;
          if (v.type === type && v.unit === unit && v.partOf === partOf) return v.result;
        }
      } else {
        metricCache.set(name, (variants = []));
      }
      // A series that says it is part of a histogram but is not named like one is served as a plain series.
      const result = metricName(name, type, unit, partOf && splitPart(name, partOf) ? partOf : undefined);
      variants.push({ type, unit, partOf, result });
      return result;
    },
    labels(labels, keep) {
      // Usually every name is valid already: then the object is used as it is (never mutated).
      let same = true;
      for (const raw in labels) {
        if ((raw !== keep && cachedLabelName(raw) !== raw) || typeof labels[raw] !== 'string') {
          same = false;
          break;
        }
      }
      if (same) return labels;
      const out: Labels = {};
      for (const raw in labels) {
        const n = raw === keep ? raw : cachedLabelName(raw);
        // Two raw names that sanitise alike: the first one wins, a series never repeats a label.
        if (!(n in out)) out[n] = String(labels[raw]);
      }
      return out;
    },
  };
}

export function pollectMetricName(name: SeriesName, type: MetricType = 'gauge', unit?: string, partOf?: PartOf): MetricName {
  const part = partOf ? splitPart(name, partOf) : undefined;
  let family = (part ? part.parts : nameParts(name))
    .join('_')
    // As the Python pollect: `!` is dropped (`x!y` -> `xy`), anything else invalid becomes `_`.
    .replace(/!/g, '')
    .replace(/[^a-zA-Z0-9_:]/g, '_');
  if (family === '' || /^[0-9]/.test(family)) family = '_' + family;
  const u = unit ? pollectLabelName(unit) : undefined;
  if (part) return { family, sample: family + part.suffix, type: partOf!, extraLabel: part.extraLabel, unit: u, mul: 1, add: 0 };
  return { family, sample: family, type, unit: u, mul: 1, add: 0 };
}

export function pollectLabelName(name: string): string {
  let out = name.replace(/[^a-zA-Z0-9_]/g, '_');
  if (out === '' || /^[0-9]/.test(out)) out = '_' + out;
  // `__` prefixes are Prometheus' own (e.g. __name__).
  if (out.startsWith('__')) out = 'label' + out;
  return out;
}

/** `LoadAvg` -> `load_avg`, `HTTPServer` -> `http_server`, `cpuTimeMs` -> `cpu_time_ms`, `OSv` -> `osv`. */
export function snakeCase(s: string): string {
  return (
    s
      .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
      // An acronym ends before a capitalised word (`HTTPServer`), not before one lower-case letter (`OSv`, `CPUs`).
      .replace(/([A-Z]+)([A-Z][a-z]{2,})/g, '$1_$2')
      .toLowerCase()
  );
}

function tokens(s: string): string[] {
  return snakeCase(s)
    .split(/[^a-z0-9]+/)
    .filter((t) => t !== '');
}

// promlint flags `_counter_`, `_gauge` etc. anywhere but at the start: the type is in TYPE.
const TYPE_WORDS = new Set(['gauge', 'counter', 'histogram', 'summary']);
const RESERVED_GAUGE_SUFFIXES = new Set(['count', 'sum', 'bucket']);

/** `tail` is the end of `ts`. */
function endsWith(ts: readonly string[], tail: readonly string[]): boolean {
  if (tail.length === 0 || tail.length > ts.length) return false;
  const off = ts.length - tail.length;
  return tail.every((t, i) => ts[off + i] === t);
}

/**
 * Snake_case names from the name parts, the declared unit appended in its base form (the value
 * converted with it) and `_total` on counters. Only the declared unit converts: a collection `h`,
 * a source named `us-east` or `kb`, or a value name `bytes_sec` is a name and nothing else.
 */
export function promMetricName(name: SeriesName, type: MetricType, unit?: string, partOf?: PartOf): MetricName {
  const part = partOf ? splitPart(name, partOf) : undefined;
  const ts = (part ? part.parts : nameParts(name)).flatMap(tokens);
  // A trailing `total` goes (counters get it back at the end): `seconds_total` already ends in its unit.
  while (ts.length > 0 && ts[ts.length - 1] === 'total') ts.pop();
  let conv = unit ? unitConversion(unit) : undefined;
  // A histogram's bucket bounds are label values: its unit is named as declared, never rescaled.
  if (conv && part && (conv.mul !== 1 || conv.add !== 0)) conv = keptUnit(unit!);
  if (conv && conv.tokens.length > 0) {
    // The sample name may spell the unit already (`latency_ms` in ms), or its base (`latency_seconds`
    // in ms: the value converted is in seconds): that spelling gives way to the unit's name.
    let longest: string[] | undefined;
    for (const a of [conv.tokens, ...conv.aliases]) if (endsWith(ts, a) && a.length < ts.length && (!longest || a.length > longest.length)) longest = a;
    if (longest) ts.length -= longest.length;
    ts.push(...conv.tokens);
  }
  const out = ts.filter((t, i) => i === 0 || !TYPE_WORDS.has(t));
  while (out.length > 0 && out[out.length - 1] === 'total') out.pop();
  if (out.length === 0) out.push('value');
  if (!part) {
    if (type === 'counter') out.push('total');
    else if (RESERVED_GAUGE_SUFFIXES.has(out[out.length - 1]!)) out.push('value');
  }
  let family = out.join('_');
  if (/^[0-9]/.test(family)) family = '_' + family;
  const unitName = conv?.tokens.length ? conv.tokens.join('_') : undefined;
  const mul = conv?.mul ?? 1;
  const add = conv?.add ?? 0;
  if (part) return { family, sample: family + part.suffix, type: partOf!, extraLabel: part.extraLabel, unit: unitName, mul, add };
  return { family, sample: family, type, unit: unitName, mul, add };
}

export function promLabelName(name: string): string {
  let out = snakeCase(name).replace(/[^a-z0-9_]/g, '_');
  if (out === '' || /^[0-9]/.test(out)) out = '_' + out;
  if (out.startsWith('__')) out = 'label' + out;
  // `le` and `quantile` belong to histograms and summaries.
  if (out === 'le' || out === 'quantile') out += '_';
  return out;
}
