// Turns series names and labels into Prometheus ones, in the two naming modes. A family name is
// built from the series name's parts, never from its dotted id.
//  - pollect: `<collection>_<Type>[_<name>][_<valueName>]`, `!` dropped, every other char outside
//    [a-zA-Z0-9_:] -> `_`, so dashboards built on the Python pollect keep working.
//  - prometheus: lower snake_case, base units (values scaled), `_total` on counters, so that
//    `promtool check metrics` has nothing to report.
// pollect's self-metrics need no rule of their own: their parts are snake_case already
// (`pollect`/`source`/`errors_total`), so both modes give `pollect_source_errors_total`.
import type { Labels, MetricType, SeriesName } from '../../sdk/index.js';

export type Naming = 'pollect' | 'prometheus';

/** A family name plus the linear conversion its values need: v' = v * mul + add. */
export interface MetricName {
  family: string;
  unit?: string;
  mul: number;
  add: number;
}

export interface Namer {
  metric(name: SeriesName, type: MetricType, unit?: string): MetricName;
  labels(labels: Labels): Labels;
}

/** The parts of a series name that are present, in order. */
export function nameParts(name: SeriesName): string[] {
  const parts = [name.collection, name.source];
  if (name.instance) parts.push(name.instance);
  if (name.value) parts.push(name.value);
  return parts;
}

/**
 * A namer with caches: every point of a series shares one SeriesName object, tick after tick, so
 * each series' family name is made once (and forgotten with the object). Label names repeat too.
 */
export function createNamer(mode: Naming): Namer {
  const metricCache = new WeakMap<SeriesName, { type: MetricType; unit?: string; result: MetricName }[]>();
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
    metric(name, type, unit) {
      let variants = metricCache.get(name);
      if (variants) {
        for (const v of variants) if (v.type === type && v.unit === unit) return v.result;
      } else {
        metricCache.set(name, (variants = []));
      }
      const result = metricName(name, type, unit);
      variants.push({ type, unit, result });
      return result;
    },
    labels(labels) {
      // Usually every name is valid already: then the object is used as it is (never mutated).
      let same = true;
      for (const raw in labels) {
        if (cachedLabelName(raw) !== raw || typeof labels[raw] !== 'string') {
          same = false;
          break;
        }
      }
      if (same) return labels;
      const out: Labels = {};
      for (const raw in labels) {
        const n = cachedLabelName(raw);
        // Two raw names that sanitise alike: the first one wins, a series never repeats a label.
        if (!(n in out)) out[n] = String(labels[raw]);
      }
      return out;
    },
  };
}

export function pollectMetricName(name: SeriesName, _type?: MetricType, unit?: string): MetricName {
  let out = nameParts(name)
    .join('_')
    // As the Python pollect: `!` is dropped (`x!y` -> `xy`), anything else invalid becomes `_`.
    .replace(/!/g, '')
    .replace(/[^a-zA-Z0-9_:]/g, '_');
  if (out === '' || /^[0-9]/.test(out)) out = '_' + out;
  return { family: out, unit: unit ? pollectLabelName(unit) : undefined, mul: 1, add: 0 };
}

export function pollectLabelName(name: string): string {
  let out = name.replace(/[^a-zA-Z0-9_]/g, '_');
  if (out === '' || /^[0-9]/.test(out)) out = '_' + out;
  // `__` prefixes are Prometheus' own (e.g. __name__).
  if (out.startsWith('__')) out = 'label' + out;
  return out;
}

/** `LoadAvg` -> `load_avg`, `HTTPServer` -> `http_server`, `cpuTimeMs` -> `cpu_time_ms`. */
export function snakeCase(s: string): string {
  return s
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1_$2')
    .toLowerCase();
}

function tokens(s: string): string[] {
  return snakeCase(s)
    .split(/[^a-z0-9]+/)
    .filter((t) => t !== '');
}

interface Conversion {
  base: string;
  mul: number;
  add: number;
}

// Non-base units promlint knows, with the linear map to their base unit.
const UNITS: Record<string, Conversion> = {
  amperes: { base: 'amperes', mul: 1, add: 0 },
  bytes: { base: 'bytes', mul: 1, add: 0 },
  celsius: { base: 'celsius', mul: 1, add: 0 },
  grams: { base: 'grams', mul: 1, add: 0 },
  joules: { base: 'joules', mul: 1, add: 0 },
  kelvin: { base: 'kelvin', mul: 1, add: 0 },
  meters: { base: 'meters', mul: 1, add: 0 },
  metres: { base: 'metres', mul: 1, add: 0 },
  seconds: { base: 'seconds', mul: 1, add: 0 },
  volts: { base: 'volts', mul: 1, add: 0 },
  minutes: { base: 'seconds', mul: 60, add: 0 },
  hours: { base: 'seconds', mul: 3600, add: 0 },
  days: { base: 'seconds', mul: 86_400, add: 0 },
  weeks: { base: 'seconds', mul: 604_800, add: 0 },
  kelvins: { base: 'kelvin', mul: 1, add: 0 },
  fahrenheit: { base: 'celsius', mul: 5 / 9, add: (-32 * 5) / 9 },
  rankine: { base: 'celsius', mul: 5 / 9, add: -273.15 },
  inches: { base: 'meters', mul: 0.0254, add: 0 },
  yards: { base: 'meters', mul: 0.9144, add: 0 },
  miles: { base: 'meters', mul: 1609.344, add: 0 },
  bits: { base: 'bytes', mul: 1 / 8, add: 0 },
  calories: { base: 'joules', mul: 4.184, add: 0 },
  pounds: { base: 'grams', mul: 453.59237, add: 0 },
  ounces: { base: 'grams', mul: 28.349523125, add: 0 },
};

const PREFIXES: Record<string, number> = {
  pico: 1e-12,
  nano: 1e-9,
  micro: 1e-6,
  milli: 1e-3,
  centi: 1e-2,
  deci: 1e-1,
  deca: 1e1,
  hecto: 1e2,
  kilo: 1e3,
  kibi: 1024,
  mega: 1e6,
  mibi: 1024 ** 2,
  giga: 1e9,
  gibi: 1024 ** 3,
  tera: 1e12,
  tebi: 1024 ** 4,
  peta: 1e15,
  pebi: 1024 ** 5,
};

// Abbreviations promlint discourages. kb/mb/... are binary, as in /proc/meminfo and df.
const ABBREVIATIONS: Record<string, Conversion> = {
  s: { base: 'seconds', mul: 1, add: 0 },
  sec: { base: 'seconds', mul: 1, add: 0 },
  ms: { base: 'seconds', mul: 1e-3, add: 0 },
  us: { base: 'seconds', mul: 1e-6, add: 0 },
  ns: { base: 'seconds', mul: 1e-9, add: 0 },
  h: { base: 'seconds', mul: 3600, add: 0 },
  d: { base: 'seconds', mul: 86_400, add: 0 },
  b: { base: 'bytes', mul: 1, add: 0 },
  kb: { base: 'bytes', mul: 1024, add: 0 },
  mb: { base: 'bytes', mul: 1024 ** 2, add: 0 },
  gb: { base: 'bytes', mul: 1024 ** 3, add: 0 },
  tb: { base: 'bytes', mul: 1024 ** 4, add: 0 },
  pb: { base: 'bytes', mul: 1024 ** 5, add: 0 },
};

function conversionOf(token: string): Conversion | undefined {
  const abbr = ABBREVIATIONS[token];
  if (abbr) return abbr;
  const direct = UNITS[token];
  if (direct) return direct;
  for (const p in PREFIXES) {
    if (!token.startsWith(p)) continue;
    const unit = UNITS[token.slice(p.length)];
    // A prefix on an offset unit (millifahrenheit) has no sane meaning; leave it alone.
    if (unit && unit.add === 0) return { base: unit.base, mul: unit.mul * PREFIXES[p]!, add: 0 };
  }
  return undefined;
}

const TYPE_WORDS = new Set(['gauge', 'counter', 'histogram', 'summary']);
const RESERVED_GAUGE_SUFFIXES = new Set(['count', 'sum', 'bucket']);
const BASE_UNITS = new Set(Object.values(UNITS).map((u) => u.base));

export function promMetricName(name: SeriesName, type: MetricType, unit?: string): MetricName {
  const ts = nameParts(name).flatMap(tokens);
  // A trailing `total` goes (counters get it back at the end): `seconds_total` already ends in its unit.
  while (ts.length > 0 && ts[ts.length - 1] === 'total') ts.pop();
  if (unit) {
    const us = tokens(unit);
    const tail = ts.slice(ts.length - us.length).join('_');
    if (us.length && tail !== us.join('_')) ts.push(...us);
  }
  const out: string[] = [];
  let mul = 1;
  let add = 0;
  let per = false;
  for (const t of ts) {
    if (t === 'per') per = true;
    // promlint flags `_counter_`, `_gauge` etc. anywhere but at the start: the type is in TYPE.
    if (out.length > 0 && TYPE_WORDS.has(t)) continue;
    // `m` is minutes, meters or millicores: too ambiguous to convert, so glue it to what precedes.
    if (t === 'm' && out.length > 0) {
      out[out.length - 1] += 'm';
      continue;
    }
    const conv = conversionOf(t);
    if (!conv) {
      out.push(t);
      continue;
    }
    out.push(conv.base);
    if (per) {
      // A rate per millisecond is a thousand times the rate per second.
      mul /= conv.mul;
    } else {
      mul *= conv.mul;
      add = add * conv.mul + conv.add;
    }
  }
  while (out.length > 0 && out[out.length - 1] === 'total') out.pop();
  if (out.length === 0) out.push('value');
  if (type === 'counter') out.push('total');
  else if (RESERVED_GAUGE_SUFFIXES.has(out[out.length - 1]!)) out.push('value');
  let family = out.join('_');
  if (/^[0-9]/.test(family)) family = '_' + family;
  const last = out[out.length - (type === 'counter' ? 2 : 1)];
  return { family, unit: last && BASE_UNITS.has(last) ? last : undefined, mul, add };
}

export function promLabelName(name: string): string {
  let out = snakeCase(name).replace(/[^a-z0-9_]/g, '_');
  if (out === '' || /^[0-9]/.test(out)) out = '_' + out;
  if (out.startsWith('__')) out = 'label' + out;
  // `le` and `quantile` belong to histograms and summaries.
  if (out === 'le' || out === 'quantile') out += '_';
  return out;
}
