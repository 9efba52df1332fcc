// JSON output: a number; a {name: number} record (nested objects flatten to dotted names,
// booleans count as 1/0, null is skipped); or a list of samples
// [{"name": "...", "value": 1, "labels": {...}, "type": "gauge"|"counter", "help": "...", "unit": "..."}].
// A whole output is one document; in long-running mode every line is one document (JSON Lines).
import type { Sample } from '../../sdk/index.js';
import { ParseError, type LineParser } from './parser.js';
import { locateJsonError } from '../../core/json-locate.js';

export class JsonLineParser implements LineParser {
  line(text: string): Sample[] {
    if (text.trim() === '') return [];
    return samplesOf(parseJson(text));
  }
}

/** Parses a whole output as one JSON document; errors name the line of the problem. */
export function parseJsonOutput(text: string): Sample[] {
  if (text.trim() === '') throw new ParseError('the command printed nothing; expected JSON');
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    const msg = (err as Error).message.split('\n')[0]!;
    const at = locateJsonError(text)?.offset;
    const line = at === undefined ? undefined : text.slice(0, at).split('\n').length;
    throw new ParseError(`${line ? `line ${line}: ` : ''}invalid JSON: ${msg}`);
  }
  return samplesOf(doc);
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new ParseError(`invalid JSON: ${(err as Error).message}`);
  }
}

export function samplesOf(doc: unknown): Sample[] {
  if (typeof doc === 'number') {
    if (!Number.isFinite(doc)) throw new ParseError('the value is not a finite number');
    return [{ value: doc }];
  }
  if (Array.isArray(doc)) return doc.map((item, i) => sampleOf(item, i));
  if (doc !== null && typeof doc === 'object') {
    const out: Sample[] = [];
    flatten(doc as Record<string, unknown>, '', out);
    return out;
  }
  throw new ParseError(`expected a number, an object or a list of samples, got ${kindOf(doc)}`);
}

function flatten(obj: Record<string, unknown>, prefix: string, out: Sample[]): void {
  for (const [k, v] of Object.entries(obj)) {
    const name = prefix ? `${prefix}.${k}` : k;
    if (typeof v === 'number') {
      if (!Number.isFinite(v)) throw new ParseError(`"${name}" is not a finite number`);
      out.push({ name, value: v });
    } else if (typeof v === 'boolean') out.push({ name, value: v ? 1 : 0 });
    else if (v === null) continue;
    else if (typeof v === 'object' && !Array.isArray(v)) flatten(v as Record<string, unknown>, name, out);
    else throw new ParseError(`"${name}" is ${kindOf(v)}, not a number`);
  }
}

function sampleOf(item: unknown, i: number): Sample {
  const where = `sample ${i}`;
  if (item === null || typeof item !== 'object' || Array.isArray(item)) throw new ParseError(`${where} is ${kindOf(item)}, not an object`);
  const o = item as Record<string, unknown>;
  for (const k of Object.keys(o)) {
    if (!['name', 'value', 'labels', 'type', 'help', 'unit'].includes(k)) throw new ParseError(`${where} has an unknown key "${k}"`);
  }
  if (typeof o['value'] !== 'number' || !Number.isFinite(o['value'])) throw new ParseError(`${where}: "value" must be a finite number`);
  const s: Sample = { value: o['value'] };
  if (o['name'] !== undefined) {
    if (typeof o['name'] !== 'string' || o['name'] === '') throw new ParseError(`${where}: "name" must be a non-empty string`);
    s.name = o['name'];
  }
  if (o['labels'] !== undefined) {
    const l = o['labels'];
    if (l === null || typeof l !== 'object' || Array.isArray(l)) throw new ParseError(`${where}: "labels" must be an object`);
    const labels: Record<string, string> = {};
    for (const [k, v] of Object.entries(l as Record<string, unknown>)) {
      if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean') throw new ParseError(`${where}: label "${k}" must be a string`);
      labels[k] = String(v);
    }
    s.labels = labels;
  }
  if (o['type'] !== undefined) {
    if (o['type'] !== 'gauge' && o['type'] !== 'counter') throw new ParseError(`${where}: "type" must be "gauge" or "counter"`);
    s.type = o['type'];
  }
  for (const k of ['help', 'unit'] as const) {
    if (o[k] !== undefined) {
      if (typeof o[k] !== 'string') throw new ParseError(`${where}: "${k}" must be a string`);
      s[k] = o[k];
    }
  }
  return s;
}

function kindOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  return typeof v === 'string' ? `a string ("${v.length > 30 ? v.slice(0, 30) + '…' : v}")` : `a ${typeof v}`;
}
