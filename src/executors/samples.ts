// Turns what probe() returned into named, labelled, stamped points.
import type { Labels, Point, ProbeResult, Sample, SeriesName } from '../sdk/index.js';
import { SourceError } from '../sdk/index.js';

/** The probe's result as a list of samples; throws a SourceError for a malformed result. */
export function toSamples(result: ProbeResult): Sample[] {
  if (result === undefined || result === null) return [];
  if (typeof result === 'number') return [{ value: result }];
  if (Array.isArray(result)) {
    const list = result as readonly Sample[];
    for (let i = 0; i < list.length; i++) {
      const s = list[i];
      if (s === null || typeof s !== 'object' || typeof s.value !== 'number') {
        throw new SourceError(`probe() returned a sample without a numeric value: ${safeJson(s)}`);
      }
    }
    return result as Sample[];
  }
  if (typeof result === 'object') {
    const out: Sample[] = [];
    for (const [name, value] of Object.entries(result as Record<string, unknown>)) {
      if (typeof value !== 'number') throw new SourceError(`probe() returned a non-numeric value for "${name}": ${safeJson(value)}`);
      out.push({ name, value });
    }
    return out;
  }
  throw new SourceError(`probe() returned ${typeof result}; expected a number, a record of numbers or a list of samples`);
}

function safeJson(v: unknown): string {
  try {
    const s = JSON.stringify(v) ?? String(v);
    return s.length > 100 ? s.slice(0, 100) + '…' : s;
  } catch {
    return String(v);
  }
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
  for (const s of samples) {
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
      source: ctx.source,
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

/** A source's series name: `<collection>.<Type>[.<name>]`. */
export function sourceSeriesName(collection: string, source: string, instance?: string): SeriesName {
  return { collection, source, instance, id: instance ? `${collection}.${source}.${instance}` : `${collection}.${source}` };
}
