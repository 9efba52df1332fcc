// Graphite plaintext protocol: "<path> <value> [<timestamp>]", the path optionally tagged as
// "<path>;tag=value;...". The path is the sample name, tags become labels; the timestamp is
// ignored (pollect stamps its own).
import type { Sample } from '../../sdk/index.js';
import { ParseError, parseNumber, type LineParser } from './parser.js';

export class GraphiteParser implements LineParser {
  line(text: string): Sample[] {
    const line = text.trim();
    if (line === '' || line.startsWith('#')) return [];
    const parts = line.split(/\s+/);
    if (parts.length < 2) throw new ParseError('expected "<path> <value> [<timestamp>]"');
    if (parts.length > 3) throw new ParseError(`unexpected text after the timestamp: "${parts.slice(3).join(' ')}"`);
    const [pathPart, rawValue, ts] = parts as [string, string, string | undefined];
    const [path, ...tags] = pathPart.split(';');
    if (!path || path.startsWith('.') || path.endsWith('.') || path.includes('..')) throw new ParseError(`bad metric path "${pathPart}"`);
    const labels: Record<string, string> = {};
    for (const t of tags) {
      const eq = t.indexOf('=');
      if (eq <= 0 || eq === t.length - 1) throw new ParseError(`bad tag "${t}" (expected name=value)`);
      labels[t.slice(0, eq)] = t.slice(eq + 1);
    }
    const value = parseNumber(rawValue);
    if (value === undefined) throw new ParseError(`bad value "${rawValue}"`);
    if (ts !== undefined && ts !== 'N' && ts !== '-1' && parseNumber(ts) === undefined) throw new ParseError(`bad timestamp "${ts}"`);
    const s: Sample = { name: path, value };
    if (tags.length) s.labels = labels;
    return [s];
  }
}
