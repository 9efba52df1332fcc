// Turns what probe() returned into named, labelled, stamped points.
import type { Labels, ProbeResult, Sample } from '../sources/source.js';
import type { Point } from '../writers/writer.js';
import { SourceError } from '../sources/source.js';

/** The probe's result as a list of samples; throws a SourceError for a malformed result. */
export function toSamples(result: ProbeResult): Sample[] {
  if (result === undefined || result === null) return [];
  if (typeof result === 'number') return [{ value: result }];
  if (Array.isArray(result)) {
    for (const s of result as readonly Sample[]) {
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
}

/** Names, labels and stamps samples. Never mutates the samples or their label objects. */
export function toPoints(samples: readonly Sample[], ctx: PointContext, out: Point[] = []): Point[] {
  for (const s of samples) {
    const labels: Labels = ctx.staticLabels || s.labels ? { ...ctx.staticLabels, ...s.labels } : {};
    out.push({
      name: s.name ? `${ctx.prefix}.${s.name}` : ctx.prefix,
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
