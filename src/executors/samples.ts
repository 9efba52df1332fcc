// Turns what probe() returned into named, labelled, stamped points.
import type { Labels, ProbeResult, Sample } from '../sources/source.js';
import type { Point } from '../writers/writer.js';
import { SourceError } from '../sources/source.js';

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
  /** `<collection>.<Type>[.<name>]` */
  prefix: string;
  staticLabels: Labels | undefined;
  timestamp: number;
  source: string;
  /** Full names by sample name, kept by the caller between ticks so names are built once. */
  names?: Map<string, string>;
}

const NO_LABELS: Labels = Object.freeze({}) as Labels;

/** The config's labels with the sample's own (a sample's label wins). Apart from toPoints: its object spreads make toPoints slow to compile. */
function merged(staticLabels: Labels, own: Labels | undefined): Labels {
  return { ...staticLabels, ...own };
}

/** Names, labels and stamps samples. Never mutates the samples or their label objects. */
export function toPoints(samples: readonly Sample[], ctx: PointContext, out: Point[] = []): Point[] {
  const names = ctx.names;
  for (let i = 0; i < samples.length; i++) {
    const s = samples[i]!;
    // Points share the sample's label object when there is nothing to merge: nothing downstream
    // changes a point's labels, and a copy per point per tick was the larger part of the garbage.
    const labels: Labels = ctx.staticLabels ? merged(ctx.staticLabels, s.labels) : (s.labels ?? NO_LABELS);
    let name = ctx.prefix;
    if (s.name) {
      const known = names?.get(s.name);
      if (known !== undefined) name = known;
      else {
        name = `${ctx.prefix}.${s.name}`;
        // A source that makes up new names every tick must not grow the map without bound.
        if (names && names.size < 1024) names.set(s.name, name);
      }
    }
    out.push({
      name,
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

/** pollect's prefix for a source: `<collection>.<Type>[.<name>]`. */
export function sourcePrefix(collection: string, type: string, name?: string): string {
  return name ? `${collection}.${type}.${name}` : `${collection}.${type}`;
}
