// What every output format parser has in common: line by line parsing with errors that name the
// line, and the one-shot parse of a whole output. A malformed line is an error for the whole
// output (as Prometheus fails a scrape and Telegraf a batch): partial data that silently lacks
// some series is harder to notice than a failed probe.
import type { NotificationInput, Sample } from '../../sdk/index.js';

export type Format = 'collectd' | 'influx' | 'prometheus' | 'graphite' | 'json';
export const FORMATS: readonly Format[] = ['collectd', 'influx', 'prometheus', 'graphite', 'json'];

/** A line that does not parse; the caller adds the line number. */
export class ParseError extends Error {
  override name = 'ParseError';
}

/** A PUTNOTIF line: severity, message, and the time (ms), host, plugin, type and instances it names. */
export type Notification = NotificationInput;

/** Parses one line at a time; may keep state between lines (Prometheus' TYPE and HELP). */
export interface LineParser {
  /** Samples of one line, without its newline; throws a ParseError when the line is malformed. */
  line(text: string): Sample[];
}

export interface ParserOptions {
  /** collectd PUTNOTIF lines. */
  notify?: (n: Notification) => void;
  /** collectd: data-set definitions (types.db) by type name. */
  types?: Map<string, DataSource[]>;
}

export interface DataSource {
  name: string;
  kind: 'GAUGE' | 'DERIVE' | 'COUNTER' | 'ABSOLUTE';
}

/** An error for line `lineNo` (1-based), with a short excerpt of it. */
export function lineError(lineNo: number, message: string, text: string): string {
  const excerpt = text.length > 80 ? text.slice(0, 80) + '…' : text;
  return `line ${lineNo}: ${message}: "${excerpt}"`;
}

/** Parses a whole output with a line parser; throws an Error naming the first bad line. */
export function parseLines(parser: LineParser, text: string): Sample[] {
  const out: Sample[] = [];
  const lines = text.split('\n');
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  let firstError: string | undefined;
  let bad = 0;
  lines.forEach((raw, i) => {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    try {
      for (const s of parser.line(line)) out.push(s);
    } catch (err) {
      if (!(err instanceof ParseError)) throw err;
      bad++;
      firstError ??= lineError(i + 1, err.message, line);
    }
  });
  if (firstError) throw new ParseError(bad > 1 ? `${firstError} (and ${bad - 1} more malformed line${bad > 2 ? 's' : ''})` : firstError);
  return out;
}

/** A number as the text formats write it: decimal or exponent notation, with an optional sign. */
export function parseNumber(s: string): number | undefined {
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(s)) return undefined;
  return Number(s);
}

/** The identity of a series: its name and labels in a fixed order. */
export function seriesKey(s: Sample): string {
  const labels = s.labels
    ? Object.keys(s.labels)
        .sort()
        .map((k) => [k, s.labels![k]])
    : [];
  return JSON.stringify([s.name ?? '', labels]);
}
