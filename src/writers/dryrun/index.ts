// DryRun: prints every point to stdout, one line each, for people and scripts.
import { Writer, type Batch, type Point, type WriterConfig } from '../../sdk/index.js';
import type { JsonSchema } from '../../sdk/index.js';

export interface DryRunConfig extends WriterConfig {
  /** text: `name{label="value",...} value timestamp`; json: one JSON object per line. */
  format?: 'text' | 'json';
}

export type LineSink = (text: string) => void;

export class DryRunWriter extends Writer<DryRunConfig> {
  static override description = 'Prints samples to stdout, as text or JSON lines';
  static override schema: JsonSchema = {
    type: 'object',
    properties: {
      format: { enum: ['text', 'json'], default: 'text', description: 'Line format' },
    },
  };

  /** Where lines go; tests replace it. */
  sink: LineSink = (text) => void process.stdout.write(text);

  write(batch: Batch): void {
    const points = batch.points;
    if (points.length === 0) return;
    if (this.config.format === 'json') {
      let out = '';
      for (let i = 0; i < points.length; i++) out += formatJson(points[i]!) + '\n';
      this.sink(out);
    } else {
      // The pieces of every line go into one array kept between batches (and never emptied, so
      // its storage is reused), joined once: string concatenation would leave a tree of partial
      // strings per line for the GC.
      const parts = this.parts;
      let n = 0;
      let ts = NaN;
      let tsText = '';
      for (let i = 0; i < points.length; i++) {
        const p = points[i]!;
        if (p.timestamp !== ts) {
          ts = p.timestamp;
          tsText = String(ts);
        }
        n = appendText(parts, n, p, tsText);
        parts[n++] = '\n';
      }
      if (parts.length !== n) parts.length = n;
      this.sink(parts.join(''));
    }
  }

  private readonly parts: string[] = [];
}

export function formatText(p: Point): string {
  const parts: string[] = [];
  appendText(parts, 0, p, String(p.timestamp));
  return parts.join('');
}

/**
 * Puts the pieces of one text line (without its newline) into parts from index n; returns the
 * next index. (Caching a series' label text in a WeakMap was tried: V8 then optimised the whole
 * write loop, which cost more compile time in the first minute than the cache saved.)
 */
function appendText(parts: string[], n: number, p: Point, timestamp: string): number {
  parts[n++] = p.name.id;
  let first = true;
  for (const k in p.labels) {
    const v = p.labels[k]!;
    parts[n++] = first ? '{' : ',';
    parts[n++] = k;
    parts[n++] = '="';
    parts[n++] = NEEDS_ESCAPE.test(v) ? escapeLabel(v) : v;
    parts[n++] = '"';
    first = false;
  }
  if (!first) parts[n++] = '}';
  parts[n++] = ' ';
  parts[n++] = formatValue(p.value);
  parts[n++] = ' ';
  parts[n++] = timestamp;
  return n;
}

const NEEDS_ESCAPE = /[\\\n"]/;

export function formatJson(p: Point): string {
  return JSON.stringify({ name: p.name.id, labels: p.labels, value: p.value, timestamp: p.timestamp, type: p.type });
}

function escapeLabel(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

/** Numbers as Prometheus writes them: NaN, +Inf, -Inf spelled out. */
export function formatValue(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return String(v);
}
