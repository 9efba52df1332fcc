// Turns what probe() returned into named, labelled, stamped points.
import type { Labels, Naming, Point, ProbeResult, Sample, SeriesName } from '../sdk/index.js';
import { SourceError } from '../sdk/index.js';

/**
 * The probe's result as a list of valid samples. A result of the wrong shape (a string, a Date, a
 * Map) is a SourceError naming what came back; a single bad sample is left out and handed to
 * `reject` with the reason, so one bad value never takes the others down with it.
 */
export function toSamples(result: ProbeResult, reject: (reason: string) => void = () => {}, knownNames?: ReadonlyMap<string, unknown>): Sample[] {
  if (result === undefined || result === null) return [];
  if (typeof result === 'number') return [{ value: result }];
  if (Array.isArray(result)) {
    const list = result as readonly unknown[];
    // The source's own list is returned when every sample is fine as it is (the usual case).
    let out: Sample[] | undefined;
    for (let i = 0; i < list.length; i++) {
      const s = checkSample(list[i], knownNames);
      if (s !== list[i] && out === undefined) out = list.slice(0, i) as Sample[];
      if (typeof s === 'string') reject(s);
      else out?.push(s);
    }
    return out ?? (list as Sample[]);
  }
  if (isPlainRecord(result)) {
    const out: Sample[] = [];
    for (const name in result) {
      const s = checkSample({ name, value: result[name] }, knownNames);
      if (typeof s === 'string') reject(s);
      else out.push(s);
    }
    return out;
  }
  throw new SourceError(`probe() returned ${describe(result)}; expected a number, a record of numbers or a list of samples`);
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it looks for
const CONTROL = /[\u0000-\u001f\u007f]/;

/**
 * The sample, made valid where that is safe (numbers coerced), or why it is refused. Names in
 * `knownNames` passed before (a source sends the same names tick after tick).
 */
export function checkSample(item: unknown, knownNames?: ReadonlyMap<string, unknown>): Sample | string {
  if (item === null || typeof item !== 'object' || Array.isArray(item)) return `a sample must be an object, not ${describe(item)}`;
  const s = item as Record<string, unknown>;
  const value = toNumber(s.value);
  const name = s.name;
  if (value === undefined) return `sample ${label(name)}: value ${describe(s.value)} is not a number`;
  if (name !== undefined && !knownNames?.has(name as string) && (typeof name !== 'string' || name === '' || CONTROL.test(name)))
    return `sample name ${describe(name)} is not a non-empty string without control characters`;
  const type = s.type;
  if (type !== undefined && type !== 'gauge' && type !== 'counter') return `sample ${label(name)}: type ${describe(type)} is not "gauge" or "counter"`;
  const naming = s.naming;
  if (naming !== undefined && naming !== 'pollect' && naming !== 'prometheus')
    return `sample ${label(name)}: naming ${describe(naming)} is not "pollect" or "prometheus"`;
  const partOf = s.partOf;
  if (partOf !== undefined && partOf !== 'histogram' && partOf !== 'summary')
    return `sample ${label(name)}: partOf ${describe(partOf)} is not "histogram" or "summary"`;
  if (s.help !== undefined && typeof s.help !== 'string') return `sample ${label(name)}: help ${describe(s.help)} is not a string`;
  if (s.unit !== undefined && typeof s.unit !== 'string') return `sample ${label(name)}: unit ${describe(s.unit)} is not a string`;
  let labels = s.labels as Labels | undefined;
  if (labels !== undefined) {
    if (!isPlainRecord(labels)) return `sample ${label(name)}: labels ${describe(labels)} is not an object`;
    // for...in, not Object.entries: this runs for every sample of every tick.
    for (const k in labels) {
      const v: unknown = labels[k];
      if (typeof v === 'string') continue;
      if (typeof v !== 'number' && typeof v !== 'boolean' && typeof v !== 'bigint') {
        return `sample ${label(name)}: label ${JSON.stringify(k)} is ${describe(v)}, not a string`;
      }
      // A number or boolean label is what the source meant; copied so the source's object stays as it was.
      if (labels === s.labels) labels = { ...labels };
      labels[k] = String(v);
    }
  }
  if (value === s.value && labels === s.labels) return s as unknown as Sample;
  return { ...(s as unknown as Sample), value, labels };
}

/** A number, a Number object, a bigint or a numeric string as a number; NaN is allowed, infinities are not. */
function toNumber(v: unknown): number | undefined {
  let n: number;
  if (typeof v === 'number') n = v;
  else if (typeof v === 'bigint') n = Number(v);
  else if (v instanceof Number) n = v.valueOf();
  else if (typeof v === 'string' && v.trim() !== '') n = Number(v);
  else return undefined;
  if (Number.isNaN(n)) return typeof v === 'number' ? n : undefined;
  return Number.isFinite(n) ? n : undefined;
}

function isPlainRecord(v: unknown): v is Record<string, unknown> {
  if (v === null || typeof v !== 'object') return false;
  const proto = Object.getPrototypeOf(v) as unknown;
  return proto === Object.prototype || proto === null;
}

function label(name: unknown): string {
  return typeof name === 'string' ? JSON.stringify(name.slice(0, 100)) : '(unnamed)';
}

/** What a value is, for a message: never throws, whatever the value (a throwing toString, a null prototype). */
function describe(v: unknown): string {
  if (v === null) return 'null';
  if (v === undefined) return 'undefined';
  if (typeof v === 'string') return JSON.stringify(v.length > 100 ? v.slice(0, 100) + '…' : v);
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v);
  if (typeof v === 'function') return 'a function';
  if (typeof v === 'symbol') return 'a symbol';
  if (Array.isArray(v)) return 'a list';
  const proto = Object.getPrototypeOf(v) as { constructor?: { name?: unknown } } | null;
  const ctor = proto?.constructor?.name;
  if (typeof ctor === 'string' && ctor !== 'Object') return `a ${ctor}`;
  return 'an object';
}

export interface PointContext {
  /** The source's own series name (no value name): its parts, and its id `<collection>.<Type>[.<name>]`. */
  base: SeriesName;
  staticLabels: Labels | undefined;
  timestamp: number;
  source: string;
  /** Series names by sample name, kept by the caller between ticks so names are built once. */
  names?: Map<string, SeriesName>;
  /** Names a sample's series some other way than `<base>.<sample name>` (the self-metrics). */
  nameOf?: (sampleName: string) => SeriesName;
}

const NO_LABELS: Labels = Object.freeze({}) as Labels;

/** Names, labels and stamps samples. Never mutates the samples or their label objects. */
export function toPoints(samples: readonly Sample[], ctx: PointContext, out: Point[] = []): Point[] {
  // An index, not for...of: this runs for every sample of every tick, and the launcher keeps V8's
  // optimising compiler off (bin/pollect.js), which leaves iterator loops slow (bench:host).
  for (let i = 0; i < samples.length; i++) {
    const s = samples[i]!;
    // Points share the sample's label object when there is nothing to merge: nothing downstream
    // changes a point's labels.
    const labels: Labels = ctx.staticLabels ? { ...ctx.staticLabels, ...s.labels } : (s.labels ?? NO_LABELS);
    out.push({
      name: s.name ? seriesName(ctx, s.name) : ctx.base,
      value: s.value,
      labels,
      type: s.type ?? 'gauge',
      timestamp: ctx.timestamp,
      help: s.help,
      unit: s.unit,
      partOf: s.partOf,
      source: ctx.source,
      naming: s.naming,
    });
  }
  return out;
}

function seriesName(ctx: PointContext, value: string): SeriesName {
  const known = ctx.names?.get(value);
  if (known) return known;
  const name: SeriesName = ctx.nameOf ? ctx.nameOf(value) : { ...ctx.base, value, id: `${ctx.base.id}.${value}` };
  // A source that makes up new names every tick must not grow the map without bound.
  if (ctx.names && ctx.names.size < 1024) ctx.names.set(value, name);
  return name;
}

/**
 * The points a writer with naming `naming` gets: those marked for it or for every writer. The
 * very same list when nothing is left out (the usual case for a batch without marked points).
 */
export function pointsFor(points: Point[], naming: Naming): Point[] {
  let i = 0;
  while (i < points.length && (points[i]!.naming === undefined || points[i]!.naming === naming)) i++;
  if (i === points.length) return points;
  const out = points.slice(0, i);
  for (; i < points.length; i++) {
    const p = points[i]!;
    if (p.naming === undefined || p.naming === naming) out.push(p);
  }
  return out;
}

/** A source's series name: `<collection>.<Type>[.<name>]`. */
export function sourceSeriesName(collection: string, source: string, instance?: string): SeriesName {
  return { collection, source, instance, id: instance ? `${collection}.${source}.${instance}` : `${collection}.${source}` };
}
