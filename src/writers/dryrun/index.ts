// DryRun: prints every point to stdout, one line each, for people and scripts.
import { Writer, type Batch, type Point, type WriterConfig } from '../writer.js';
import type { Labels } from '../../sources/source.js';
import type { JsonSchema } from '../../config/schema-types.js';

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
  private written = 0;

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
      // strings per line for the GC. A series' label text is rendered once (labelText).
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
        parts[n++] = p.name;
        parts[n++] = this.labelText(p.labels);
        parts[n++] = ' ';
        parts[n++] = formatValue(p.value);
        parts[n++] = ' ';
        parts[n++] = tsText;
        parts[n++] = '\n';
      }
      if (parts.length !== n) parts.length = n;
      this.sink(parts.join(''));
    }
    this.written += points.length;
  }

  private readonly parts: string[] = [];
  /**
   * `{k="v",...}` by label object. Sources keep one label object per series across ticks, so a
   * series' labels are rendered once; a source that makes new ones each tick costs one entry each
   * until the GC drops it with its object.
   */
  private readonly labelTexts = new WeakMap<Labels, string>();

  private labelText(labels: Labels): string {
    let text = this.labelTexts.get(labels);
    if (text === undefined) {
      text = renderLabels(labels);
      this.labelTexts.set(labels, text);
    }
    return text;
  }

  override stats() {
    return { ...super.stats(), written: this.written };
  }
}

export function formatText(p: Point): string {
  return p.name + renderLabels(p.labels) + ' ' + formatValue(p.value) + ' ' + p.timestamp;
}

/** `{k="v",...}` with values escaped as Prometheus does, or '' for no labels. */
function renderLabels(labels: Labels): string {
  let out = '';
  for (const k in labels) {
    const v = labels[k]!;
    out += (out === '' ? '{' : ',') + k + '="' + (NEEDS_ESCAPE.test(v) ? escapeLabel(v) : v) + '"';
  }
  return out === '' ? out : out + '}';
}

const NEEDS_ESCAPE = /[\\\n"]/;

export function formatJson(p: Point): string {
  return JSON.stringify({ name: p.name, labels: p.labels, value: p.value, timestamp: p.timestamp, type: p.type });
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
