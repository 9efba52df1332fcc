// The exposition formats, text 0.0.4 and OpenMetrics 1.0: series lines, family headers, and which
// of the two a scraper asked for.
import type { Labels, MetricType, PartOf } from '../../sdk/index.js';
import { escapeLabelValue } from '../../core/format.js';

export const TEXT_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';
export const OPENMETRICS_CONTENT_TYPE = 'application/openmetrics-text; version=1.0.0; charset=utf-8';

export type Format = 'text' | 'openmetrics';
export type FamilyType = MetricType | PartOf | 'untyped';

export function escapeHelp(v: string, format: Format): string {
  const s = v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
  return format === 'openmetrics' ? s.replace(/"/g, '\\"') : s;
}

/** `name{a="x",b=""} ` with every label of the family, so label names agree within it. */
export function seriesPrefix(name: string, labelNames: readonly string[], labels: Labels): string {
  if (labelNames.length === 0) return name + ' ';
  let s = name + '{';
  for (let i = 0; i < labelNames.length; i++) {
    const n = labelNames[i]!;
    if (i > 0) s += ',';
    s += n + '="' + escapeLabelValue(labels[n] ?? '') + '"';
  }
  return s + '} ';
}

/**
 * HELP/TYPE (and UNIT) lines. In OpenMetrics a counter family is named without `_total` and its
 * samples carry it; a counter whose name lacks `_total` cannot be expressed and becomes `unknown`.
 */
export function familyHeader(name: string, type: FamilyType, help: string, format: Format, unit?: string): string {
  if (format === 'text') {
    return `# HELP ${name} ${escapeHelp(help, format)}\n# TYPE ${name} ${type}\n`;
  }
  let family = name;
  let omType: string = type;
  if (type === 'counter') {
    if (name.endsWith('_total')) family = name.slice(0, -6);
    else omType = 'unknown';
  } else if (type === 'untyped') {
    omType = 'unknown';
  }
  let out = `# TYPE ${family} ${omType}\n`;
  if (unit && family.endsWith('_' + unit)) out += `# UNIT ${family} ${unit}\n`;
  return out + `# HELP ${family} ${escapeHelp(help, format)}\n`;
}

/** Which format a scraper asked for, by the q values of its Accept header. */
export function negotiate(accept: string | undefined): Format {
  if (!accept) return 'text';
  let om = -1;
  let text = -1;
  for (const part of accept.split(',')) {
    const [type, ...params] = part.split(';').map((s) => s.trim().toLowerCase());
    let q = 1;
    for (const p of params) if (p.startsWith('q=')) q = Number(p.slice(2)) || 0;
    if (type === 'application/openmetrics-text') om = Math.max(om, q);
    else if (type === 'text/plain' || type === '*/*') text = Math.max(text, q);
  }
  return om > 0 && om >= text ? 'openmetrics' : 'text';
}
