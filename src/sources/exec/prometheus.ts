// Prometheus text exposition format (0.0.4, and the OpenMetrics lines it shares): # HELP and
// # TYPE set help and type of a metric family; every sample line, histogram and summary series
// included (_bucket, _sum, _count, quantiles), becomes one sample under its own name, marked
// `partOf` its histogram or summary so the Prometheus writer serves it in that shape. Timestamps
// and exemplars are ignored (pollect stamps its own); NaN samples mean "no value" and are
// skipped; +Inf/-Inf are kept.
import type { MetricType, PartOf, Sample } from '../../sdk/index.js';
import { ParseError, type LineParser } from './parser.js';

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*/;
const FAMILY_TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped', 'unknown', 'info', 'stateset', 'gaugehistogram']);
const SUFFIXES = ['_bucket', '_count', '_sum', '_total', '_created', '_gcount', '_gsum', '_info'];

export class PrometheusParser implements LineParser {
  private readonly types = new Map<string, string>();
  private readonly help = new Map<string, string>();
  private readonly units = new Map<string, string>();
  private ended = false;

  line(text: string): Sample[] {
    const line = text.trim();
    if (line === '') return [];
    if (line.startsWith('#')) {
      this.comment(line);
      return [];
    }
    if (this.ended) throw new ParseError('sample after # EOF');
    const s = this.sample(line);
    return Number.isNaN(s.value) ? [] : [s];
  }

  private comment(line: string): void {
    const m = /^#\s+(HELP|TYPE|UNIT)\s+(\S+)(?:\s+(.*))?$/.exec(line);
    if (!m) {
      if (/^#\s*EOF\s*$/.test(line)) this.ended = true;
      return; // any other comment
    }
    const [, kind, name, rest = ''] = m;
    if (!NAME.test(name!) || NAME.exec(name!)![0] !== name) throw new ParseError(`bad metric name "${name}" in # ${kind}`);
    if (kind === 'HELP') this.help.set(name!, unescape(rest, false));
    else if (kind === 'UNIT') this.units.set(name!, rest.trim());
    else {
      const t = rest.trim().toLowerCase();
      if (!FAMILY_TYPES.has(t)) throw new ParseError(`unknown metric type "${rest.trim()}"`);
      this.types.set(name!, t);
    }
  }

  private sample(line: string): Sample {
    const nm = NAME.exec(line);
    if (!nm) throw new ParseError('a sample must start with a metric name');
    const name = nm[0];
    let i = name.length;
    const labels: Record<string, string> = {};
    if (line[i] === '{') {
      i++;
      for (;;) {
        while (line[i] === ' ') i++;
        if (line[i] === '}') {
          i++;
          break;
        }
        const ln = LABEL_NAME.exec(line.slice(i));
        if (!ln) throw new ParseError(`bad label name at column ${i + 1}`);
        const lname = ln[0];
        i += lname.length;
        while (line[i] === ' ') i++;
        if (line[i] !== '=') throw new ParseError(`label "${lname}" has no "="`);
        i++;
        while (line[i] === ' ') i++;
        if (line[i] !== '"') throw new ParseError(`value of label "${lname}" is not quoted`);
        i++;
        let value = '';
        let closed = false;
        while (i < line.length) {
          const c = line[i]!;
          if (c === '\\') {
            const n = line[i + 1];
            if (n === 'n') value += '\n';
            else if (n === '\\' || n === '"') value += n;
            else value += '\\' + (n ?? '');
            i += 2;
            continue;
          }
          if (c === '"') {
            closed = true;
            i++;
            break;
          }
          value += c;
          i++;
        }
        if (!closed) throw new ParseError(`value of label "${lname}" is not closed`);
        if (Object.hasOwn(labels, lname)) throw new ParseError(`label "${lname}" given twice`);
        labels[lname] = value;
        while (line[i] === ' ') i++;
        if (line[i] === ',') {
          i++;
          continue;
        }
        if (line[i] === '}') {
          i++;
          break;
        }
        throw new ParseError(`expected "," or "}" after label "${lname}"`);
      }
    }
    if (line[i] !== ' ' && line[i] !== '\t') throw new ParseError(`no value after "${name}"`);
    // value [timestamp] [# exemplar]
    const rest = line.slice(i).trim().split(/\s+#/)[0]!.trim().split(/\s+/);
    const value = parseValue(rest[0]!);
    if (value === undefined) throw new ParseError(`bad value "${rest[0]}"`);
    if (rest.length > 2) throw new ParseError(`unexpected text after the value: "${rest.slice(2).join(' ')}"`);
    if (rest.length === 2 && !/^-?\d+(\.\d+)?$/.test(rest[1]!)) throw new ParseError(`bad timestamp "${rest[1]}"`);
    const { family, type, partOf } = this.familyOf(name, labels);
    const s: Sample = { name, value, labels, type };
    if (partOf) s.partOf = partOf;
    const help = this.help.get(family);
    if (help !== undefined) s.help = help;
    const unit = this.units.get(family);
    if (unit) s.unit = unit;
    return s;
  }

  /** The family a sample belongs to and the type its series has. */
  private familyOf(name: string, labels: Record<string, string>): { family: string; type: MetricType; partOf?: PartOf } {
    let family = name;
    let suffix = '';
    if (!this.types.has(name)) {
      for (const sfx of SUFFIXES) {
        if (name.endsWith(sfx) && this.types.has(name.slice(0, -sfx.length))) {
          family = name.slice(0, -sfx.length);
          suffix = sfx;
          break;
        }
      }
    }
    const t = this.types.get(family);
    let counts = false;
    if (t === 'counter') counts = suffix !== '_created';
    else if (t === 'histogram') counts = suffix === '_bucket' || suffix === '_count' || suffix === '_sum';
    else if (t === 'summary') counts = suffix === '_count' || suffix === '_sum'; // quantiles are gauges
    let partOf: PartOf | undefined;
    if (t === 'histogram' && (suffix === '_bucket' ? 'le' in labels : suffix === '_count' || suffix === '_sum')) partOf = 'histogram';
    else if (t === 'summary' && (suffix === '' ? 'quantile' in labels : suffix === '_count' || suffix === '_sum')) partOf = 'summary';
    return { family, type: counts ? 'counter' : 'gauge', partOf };
  }
}

/** A sample value as Go's ParseFloat reads it; NaN is returned as NaN. */
function parseValue(s: string): number | undefined {
  if (/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(s)) return Number(s);
  const l = s.toLowerCase();
  if (l === '+inf' || l === 'inf') return Infinity;
  if (l === '-inf') return -Infinity;
  if (l === 'nan') return NaN;
  return undefined;
}

function unescape(s: string, quotes: boolean): string {
  return s.replace(/\\(.)/g, (m, c: string) => (c === 'n' ? '\n' : c === '\\' ? '\\' : quotes && c === '"' ? '"' : m));
}
