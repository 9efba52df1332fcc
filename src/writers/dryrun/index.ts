// DryRun: prints every point to stdout, one line each, for people and scripts.
import { Writer, type Batch, type Point, type WriterConfig } from '../writer.js';
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
    if (batch.points.length === 0) return;
    const format = this.config.format === 'json' ? formatJson : formatText;
    let out = '';
    for (const p of batch.points) out += format(p) + '\n';
    this.sink(out);
    this.written += batch.points.length;
  }

  override stats() {
    return { ...super.stats(), written: this.written };
  }
}

export function formatText(p: Point): string {
  const keys = Object.keys(p.labels);
  const labels = keys.length ? `{${keys.map((k) => `${k}="${escapeLabel(p.labels[k]!)}"`).join(',')}}` : '';
  return `${p.name}${labels} ${formatValue(p.value)} ${p.timestamp}`;
}

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
