// The status page a person gets at `/` with a browser: every executor and source with its state,
// last error, probe durations (a small inline SVG sparkline) and last values. One self-contained
// HTML document, no scripts and no external assets, so it works on an air-gapped host; every
// value that comes from a config, a source or a peer is HTML-escaped.
import type { DaemonStatus, ExecutorView, Point, ProbeRecord, SourceView } from '../../sdk/index.js';
import { formatNumber } from '../../core/format.js';

/** Sent with the page: nothing but its own inline styles may load or run, whatever it contained. */
export const STATUS_PAGE_HEADERS: Readonly<Record<string, string>> = {
  'Content-Type': 'text/html; charset=utf-8',
  'Content-Security-Policy': "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'Cache-Control': 'no-store',
};

/** True when the Accept header ranks HTML above everything else it names (a browser); false for scrapers and curl. */
export function prefersHtml(accept: string | undefined): boolean {
  if (!accept) return false;
  let html = 0;
  let other = 0;
  for (const part of accept.split(',')) {
    const [type = '', ...params] = part.split(';').map((s) => s.trim().toLowerCase());
    let q = 1;
    for (const p of params) if (p.startsWith('q=')) q = Number(p.slice(2)) || 0;
    if (type === 'text/html' || type === 'application/xhtml+xml') html = Math.max(html, q);
    else if (type !== '*/*') other = Math.max(other, q);
  }
  return html > 0 && html >= other;
}

const ESCAPES: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Text safe inside an element or a quoted attribute. */
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ESCAPES[c]!);
}

export interface StatusPageOptions {
  /** Where the exposition is: the page links to it. */
  metricsPath: string;
  /** The writer's id, shown in the title. */
  writer: string;
  /** Milliseconds since the epoch: the page says when it was made. */
  now: number;
}

export function renderStatusPage(status: DaemonStatus | undefined, opts: StatusPageOptions): string {
  const executors = status?.executors() ?? [];
  const ready = status?.ready() ?? false;
  const body = status
    ? executors.map((e) => executorSection(e, opts.now)).join('\n')
    : '<p>This writer runs outside a pollect daemon: there is no state to show.</p>';
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>pollect status</title>
<style>${STYLE}</style>
</head>
<body>
<header>
<h1>pollect</h1>
<p>${escapeHtml(opts.writer)} · ${ready ? '<span class="state ok">ready</span>' : '<span class="state pending">starting</span>'} · page made ${escapeHtml(new Date(opts.now).toISOString())} · <a href="${escapeHtml(opts.metricsPath)}" id="metrics-link">metrics (${escapeHtml(opts.metricsPath)})</a></p>
</header>
<main>
${body}
</main>
</body>
</html>
`;
}

function executorSection(e: ExecutorView, now: number): string {
  const rows = e.sources.map((s) => sourceRow(s, now)).join('\n');
  return `<section class="executor">
<h2>${escapeHtml(e.collection)} <small>every ${escapeHtml(formatNumber(e.tickTime))} s · ${e.ticks} tick${e.ticks === 1 ? '' : 's'}</small></h2>
<table>
<thead><tr><th>Source</th><th>State</th><th>Last probe</th><th>Recent probes</th><th>Last error</th><th>Last values</th></tr></thead>
<tbody>
${rows}
</tbody>
</table>
</section>`;
}

function sourceRow(s: SourceView, now: number): string {
  const last = s.probes.at(-1);
  const state = s.state.replace(' ', '-');
  const failures = s.consecutiveFailures > 1 ? ` <small>(${s.consecutiveFailures} in a row)</small>` : '';
  const error = s.lastError ? `<span class="error">${escapeHtml(s.lastError.message)}</span> <small>${escapeHtml(ago(now, s.lastError.at))}</small>` : '';
  return `<tr class="source" data-source="${escapeHtml(s.id)}" data-state="${escapeHtml(s.state)}">
<td class="id">${escapeHtml(s.id)}</td>
<td><span class="state ${state}">${escapeHtml(s.state)}</span>${failures}</td>
<td class="num">${last ? escapeHtml(duration(last.seconds)) : ''}</td>
<td>${sparkline(s.probes)}</td>
<td>${error}</td>
<td>${values(s.lastValues, s.lastValuesTotal)}</td>
</tr>`;
}

/** Values shown before the rest fold into a <details>. */
const VALUES_SHOWN = 4;

function values(points: readonly Point[], total: number): string {
  if (points.length === 0) return '';
  const items = points.map((p) => `<li><code>${escapeHtml(p.name.id + labelText(p.labels))}</code> ${escapeHtml(shortNumber(p.value))}</li>`);
  const more = total > points.length ? `<li><small>and ${total - points.length} more</small></li>` : '';
  if (items.length <= VALUES_SHOWN) return `<ul class="values">${items.join('')}${more}</ul>`;
  const rest = items.slice(VALUES_SHOWN).join('') + more;
  return `<ul class="values">${items.slice(0, VALUES_SHOWN).join('')}</ul><details><summary>${total - VALUES_SHOWN} more</summary><ul class="values">${rest}</ul></details>`;
}

/** Six significant digits are plenty for a person; integers (counters) stay whole. */
function shortNumber(v: number): string {
  return formatNumber(Number.isInteger(v) ? v : Number(v.toPrecision(6)));
}

function labelText(labels: Readonly<Record<string, string>>): string {
  const pairs = Object.entries(labels).map(([k, v]) => `${k}=${JSON.stringify(v)}`);
  return pairs.length ? `{${pairs.join(',')}}` : '';
}

const SPARK_W = 120;
const SPARK_H = 24;

/** The durations of the recent probes as a line, scaled to the longest; failed probes as red dots. */
export function sparkline(probes: readonly ProbeRecord[]): string {
  if (probes.length === 0) return '';
  const max = Math.max(...probes.map((p) => p.seconds)) || 1;
  const step = probes.length > 1 ? SPARK_W / (probes.length - 1) : 0;
  const xy = probes.map((p, i) => [round(i * step), round(SPARK_H - 2 - (p.seconds / max) * (SPARK_H - 4))] as const);
  const line = xy.map(([x, y]) => `${x},${y}`).join(' ');
  // A failed probe is a red dot; a lone probe, which makes no line, a dot of the line's colour.
  const dots = probes
    .map((p, i) => (p.ok && probes.length > 1 ? '' : `<circle cx="${xy[i]![0]}" cy="${xy[i]![1]}" r="2" class="${p.ok ? 'probe' : 'fail'}"/>`))
    .join('');
  const label = `${probes.length} probes, longest ${duration(max)}`;
  return `<svg class="spark" width="${SPARK_W}" height="${SPARK_H}" viewBox="-2 0 ${SPARK_W + 4} ${SPARK_H}" role="img" aria-label="${escapeHtml(label)}"><title>${escapeHtml(label)}</title><polyline points="${line}"/>${dots}</svg>`;
}

function round(v: number): number {
  return Math.round(v * 10) / 10;
}

function duration(seconds: number): string {
  return seconds < 1 ? `${(seconds * 1000).toFixed(1)} ms` : `${seconds.toFixed(2)} s`;
}

function ago(now: number, at: number): string {
  const s = Math.max(0, Math.round((now - at) / 1000));
  return s < 120 ? `${s} s ago` : s < 7200 ? `${Math.round(s / 60)} min ago` : `${Math.round(s / 3600)} h ago`;
}

const STYLE = `
body{font:14px/1.4 system-ui,sans-serif;margin:1em 2em;color:#222;background:#fff}
h1{margin:0;font-size:1.5em}h2{font-size:1.15em;margin:1.2em 0 .4em}h2 small{font-weight:normal;color:#666}
table{border-collapse:collapse;width:100%}th,td{text-align:left;vertical-align:top;padding:.3em .6em;border-bottom:1px solid #ddd}
th{background:#f4f4f4}td.num{text-align:right;white-space:nowrap}td.id{font-family:monospace}
.state{padding:.1em .5em;border-radius:.7em;font-size:.9em;white-space:nowrap}
.ok{background:#d8f0d8;color:#135a13}.failing{background:#f8d7d7;color:#8a1010}.backing-off{background:#fde9c8;color:#7a4a00}
.skipped{background:#e8e0f4;color:#4b2d7a}.pending{background:#e6e6e6;color:#444}
.error{color:#8a1010;word-break:break-word}.values{margin:0;padding:0;list-style:none}.values code{font-size:.9em;word-break:break-all}
svg.spark polyline{fill:none;stroke:#3465a4;stroke-width:1.5}svg.spark .probe{fill:#3465a4}svg.spark .fail{fill:#c00}
summary{cursor:pointer;color:#555;font-size:.9em}
`;
