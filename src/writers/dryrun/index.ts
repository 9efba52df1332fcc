// DryRun: prints every point and every notification to stdout, one line each, for people and scripts.
import { Writer, type Batch, type JsonSchema, type Notification, type Point, type WriterParams } from '../../sdk/index.js';
import { escapeLabelValue, formatNumber, notificationSubject } from '../../core/format.js';

const schema = {
  type: 'object',
  properties: {
    format: { enum: ['text', 'json'], default: 'text', description: 'text: `name{label="value",...} value timestamp`; json: one JSON object per line' },
  },
} as const satisfies JsonSchema;

export type DryRunConfig = WriterParams<typeof schema>;

export type LineSink = (text: string) => void;

export class DryRunWriter extends Writer<DryRunConfig> {
  static override description = 'Prints samples to stdout, as text or JSON lines';
  static override schema = schema;

  /** Where lines go; tests replace it. */
  sink: LineSink = (text) => void process.stdout.write(text);

  write(batch: Batch): void {
    if (batch.points.length === 0) return;
    const format = this.config.format === 'json' ? formatJson : formatText;
    let out = '';
    for (const p of batch.points) out += format(p) + '\n';
    this.sink(out);
  }

  override notify(list: readonly Notification[]): void {
    const format = this.config.format === 'json' ? formatNotificationJson : formatNotificationText;
    let out = '';
    for (const n of list) out += format(n) + '\n';
    this.sink(out);
  }
}

/** `NOTIFICATION <SEVERITY> <host>/<plugin>[-<instance>][/<type>[-<instance>]] <time ms> <message>`, the message on one line. */
export function formatNotificationText(n: Notification): string {
  return `NOTIFICATION ${n.severity.toUpperCase()} ${notificationSubject(n)} ${n.time} ${n.message.replace(/\s*\n\s*/g, ' ')}`;
}

/** The notification's fields as one JSON object, with `"notification": true` to tell it from a point. */
export function formatNotificationJson(n: Notification): string {
  return JSON.stringify({ notification: true, ...n });
}

/** `name{label="value",...} value timestamp`, the label values escaped as in the Prometheus text format. */
export function formatText(p: Point): string {
  let labels = '';
  for (const k in p.labels) labels += `${labels ? ',' : '{'}${k}="${escapeLabelValue(p.labels[k]!)}"`;
  if (labels) labels += '}';
  return `${p.name.id}${labels} ${formatNumber(p.value)} ${p.timestamp}`;
}

export function formatJson(p: Point): string {
  return JSON.stringify({ name: p.name.id, labels: p.labels, value: p.value, timestamp: p.timestamp, type: p.type });
}
