// InfluxDB line protocol: measurement[,tag=value...] field=value[,field=value...] [timestamp]
// Tags become labels and each numeric field a sample named <measurement>.<field>. Integers (1i),
// unsigned (1u), floats and booleans (1/0) are read; string fields are skipped; the timestamp is
// ignored (pollect stamps its own). Escapes: "\," and "\ " in measurements; "\,", "\=" and "\ "
// in tag keys, tag values and field keys; '\"' and '\\' in string field values.
import type { Sample } from '../../sdk/index.js';
import { ParseError, parseNumber, type LineParser } from './parser.js';

const TRUE = new Set(['t', 'T', 'true', 'True', 'TRUE']);
const FALSE = new Set(['f', 'F', 'false', 'False', 'FALSE']);

export class InfluxParser implements LineParser {
  line(text: string): Sample[] {
    if (text.trim() === '' || text.trimStart().startsWith('#')) return [];
    const r = new Reader(text.trimStart());
    const measurement = r.until(' ,', ' ,', 'measurement');
    if (!measurement) throw new ParseError('missing measurement');
    const labels: Record<string, string> = {};
    while (r.peek() === ',') {
      r.next();
      const key = r.until('=, ', ',= ', 'tag key');
      if (!key || r.peek() !== '=') throw new ParseError(`tag "${key}" has no value`);
      r.next();
      const value = r.until(', ', ',= ', 'tag value');
      if (!value) throw new ParseError(`tag "${key}" has an empty value`);
      labels[key] = value;
    }
    if (r.peek() !== ' ') throw new ParseError('no field set after the measurement and tags');
    r.skipSpaces();
    const out: Sample[] = [];
    let fields = 0;
    for (;;) {
      const key = r.until('=, ', ',= ', 'field key');
      if (!key || r.peek() !== '=') throw new ParseError(`field "${key}" has no value`);
      r.next();
      fields++;
      if (r.peek() === '"') {
        r.quoted(); // a string field: not a number, skipped
      } else {
        const raw = r.until(', ', '', 'field value');
        const value = fieldValue(raw);
        if (value === undefined) throw new ParseError(`field "${key}" has an invalid value "${raw}"`);
        out.push({ name: `${measurement}.${key}`, value, labels: { ...labels } });
      }
      if (r.peek() === ',') {
        r.next();
        continue;
      }
      break;
    }
    if (fields === 0) throw new ParseError('no fields');
    r.skipSpaces();
    if (!r.done()) {
      const ts = r.rest().trim();
      if (!/^-?\d+$/.test(ts)) throw new ParseError(`bad timestamp "${ts}"`);
    }
    return out;
  }
}

function fieldValue(raw: string): number | undefined {
  if (/^[-+]?\d+i$/.test(raw)) return Number(raw.slice(0, -1));
  if (/^\d+u$/.test(raw)) return Number(raw.slice(0, -1));
  if (TRUE.has(raw)) return 1;
  if (FALSE.has(raw)) return 0;
  return parseNumber(raw);
}

class Reader {
  private i = 0;
  constructor(private readonly s: string) {}

  peek(): string | undefined {
    return this.s[this.i];
  }
  next(): void {
    this.i++;
  }
  done(): boolean {
    return this.i >= this.s.length;
  }
  rest(): string {
    return this.s.slice(this.i);
  }
  skipSpaces(): void {
    while (this.s[this.i] === ' ') this.i++;
  }

  /** Reads up to one of `stops`; a backslash before one of `escapable` yields that character. */
  until(stops: string, escapable: string, what: string): string {
    let out = '';
    while (this.i < this.s.length) {
      const c = this.s[this.i]!;
      if (c === '\\' && this.i + 1 < this.s.length && (escapable.includes(this.s[this.i + 1]!) || this.s[this.i + 1] === '\\')) {
        out += this.s[this.i + 1];
        this.i += 2;
        continue;
      }
      if (stops.includes(c)) break;
      if (c === '\n') throw new ParseError(`newline in ${what}`);
      out += c;
      this.i++;
    }
    return out;
  }

  /** A double-quoted string field; returns its text. */
  quoted(): string {
    this.i++; // opening quote
    let out = '';
    while (this.i < this.s.length) {
      const c = this.s[this.i]!;
      if (c === '\\' && (this.s[this.i + 1] === '"' || this.s[this.i + 1] === '\\')) {
        out += this.s[this.i + 1];
        this.i += 2;
        continue;
      }
      if (c === '"') {
        this.i++;
        return out;
      }
      out += c;
      this.i++;
    }
    throw new ParseError('unterminated string field');
  }
}
