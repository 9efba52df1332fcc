// The exposition formats, text 0.0.4 and OpenMetrics 1.0: escaping, numbers, family headers,
// and a streaming sink that respects backpressure and yields so a big scrape never blocks the loop.
import type { Writable } from 'node:stream';
import type { Labels } from '../../sdk/index.js';

export const TEXT_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';
export const OPENMETRICS_CONTENT_TYPE = 'application/openmetrics-text; version=1.0.0; charset=utf-8';

export type Format = 'text' | 'openmetrics';
export type FamilyType = 'gauge' | 'counter' | 'histogram' | 'summary' | 'untyped';

const NEEDS_LABEL_ESCAPE = /[\\"\n]/;

export function escapeLabelValue(v: string): string {
  if (!NEEDS_LABEL_ESCAPE.test(v)) return v;
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

export function escapeHelp(v: string, format: Format): string {
  const s = v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
  return format === 'openmetrics' ? s.replace(/"/g, '\\"') : s;
}

/** Numbers as both formats spell them: NaN, +Inf, -Inf; everything else as JS prints it. */
export function formatNumber(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return String(v);
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
export function familyHeader(
  name: string,
  type: FamilyType,
  help: string,
  format: Format,
  unit?: string,
): string {
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

/**
 * Writes strings and pre-encoded buffers out, small strings gathered into one write. It waits for
 * 'drain' only when a lot is buffered (a slow peer), and gives the event loop a turn every few
 * milliseconds of work.
 */
export class StreamSink {
  private buf = '';
  private sliceStart = performance.now();
  closed = false;

  constructor(
    private readonly out: Writable,
    private readonly maxBuffered = 1024 * 1024,
    private readonly sliceMs = 2,
  ) {
    const onClose = (): void => {
      this.closed = true;
    };
    out.once('close', onClose);
    out.once('error', onClose);
  }

  /** Returns a promise only when the caller has to wait (backpressure or a yield). */
  push(data: string | Buffer): Promise<void> | undefined {
    if (typeof data === 'string') {
      this.buf += data;
      if (this.buf.length < 16 * 1024) return undefined;
    } else {
      this.flushText();
      if (!this.closed) this.out.write(data);
    }
    if (this.buf.length >= 16 * 1024) this.flushText();
    if (this.closed) return undefined;
    if (this.out.writableLength > this.maxBuffered) return this.pause(true);
    if (performance.now() - this.sliceStart > this.sliceMs) return this.pause(false);
    return undefined;
  }

  private flushText(): void {
    if (this.buf === '') return;
    if (!this.closed) this.out.write(this.buf);
    this.buf = '';
  }

  private async pause(drain: boolean): Promise<void> {
    if (drain) await this.drained();
    await new Promise<void>((r) => setImmediate(r));
    this.sliceStart = performance.now();
  }

  private drained(): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        this.out.off('drain', done);
        this.out.off('close', done);
        this.out.off('error', done);
        resolve();
      };
      this.out.on('drain', done);
      this.out.on('close', done);
      this.out.on('error', done);
    });
  }

  async end(): Promise<void> {
    if (this.closed) return;
    const rest = this.buf;
    this.buf = '';
    await new Promise<void>((resolve) => {
      this.out.end(rest, () => resolve());
      this.out.once('close', () => resolve());
    });
  }
}
