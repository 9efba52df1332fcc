// Graphite paths from pollect points: `<prefix>.<collection>.<Type>[.<name>][.<value>].<labelValue>...`
// or, with tags, Graphite 1.1 tagged series `<prefix>.<collection>.<Type>...;label=value;...`.
// Built from the parts of the series name; every piece is sanitised so that carbon stores exactly
// one series for it and neither protocol breaks.
import { createHash } from 'node:crypto';
import type { Labels, SeriesName } from '../../sdk/index.js';

/**
 * Characters that never survive in a path segment, replaced by `_`:
 * - `.` (path separator) and `;` (starts Graphite tags);
 * - whitespace, including every character Python's str.split() splits on (carbon's plaintext
 *   receiver splits lines that way), and control characters (a newline ends a plaintext line);
 * - `/` and `\` (carbon turns the path into a file path);
 * - `* ? [ ] { }` (graphite-web globbing), `( ) , " '` (graphite-web's target syntax; a path
 *   ending in `"}` would even be parsed by carbon as an OpenMetrics name);
 * - lone UTF-16 surrogates (not encodable as UTF-8).
 */
const UNSAFE_SEGMENT = /[.;/\\*?[\]{}(),"'\s\p{Cc}\p{Zs}\u2028\u2029\u0085\u001c-\u001f\p{Cs}]/gu;
/** Tag names: carbon forbids `;!^=` besides what breaks the plaintext line. */
const UNSAFE_TAG_NAME = /[;!^=\s\p{Cc}\p{Zs}\u2028\u2029\u0085\p{Cs}]/gu;
/** Tag values: only `;` is forbidden by carbon; dots are fine there (the point of tags). */
const UNSAFE_TAG_VALUE = /[;\s\p{Cc}\p{Zs}\u2028\u2029\u0085\p{Cs}]/gu;

/** File names are limited to 255 bytes; carbon adds `.wsp`. Longer segments get shortened. */
const MAX_SEGMENT_BYTES = 200;

/** A path segment (a label value, or one dot-separated part of a name). */
export function sanitizeSegment(s: string): string {
  let out = s.replace(UNSAFE_SEGMENT, '_');
  if (out.length === 0) return '_';
  // Carbon strips leading `~` from names (reserved by graphite-web's tag queries).
  if (out.charCodeAt(0) === 0x7e) out = '_' + out.slice(1);
  return shorten(out);
}

export function sanitizeTagName(s: string): string {
  const out = s.replace(UNSAFE_TAG_NAME, '_');
  if (out.length === 0) return '_';
  // `name` is the series name in Graphite's tag model; a label of that name must not replace it.
  return out === 'name' ? 'name_' : out;
}

/** A tag value, or '' when the label is to be left out (empty values are not allowed). */
export function sanitizeTagValue(s: string): string {
  let out = s.replace(UNSAFE_TAG_VALUE, '_');
  if (out.length === 0) return '';
  if (out.charCodeAt(0) === 0x7e) out = '_' + out.slice(1); // `~` may not start a tag value
  return out;
}

/**
 * A dotted name (the prefix, or one part of a series name) as path segments: dots stay Graphite's
 * separators (`ram.used` is two levels, as in pollect's dotted name), each segment is sanitised,
 * empty segments at either end are left out and empty ones inside become `_`.
 */
export function sanitizeDotted(name: string): string {
  return name
    .split('.')
    .filter((part, i, all) => part.length > 0 || (i > 0 && i < all.length - 1))
    .map(sanitizeSegment)
    .join('.');
}

/** The path of a series name, from its parts: `<collection>.<source>[.<instance>][.<value>]`. */
export function seriesPath(name: SeriesName): string {
  let out = '';
  for (const part of [name.collection, name.source, name.instance, name.value]) {
    if (part === undefined) continue;
    const p = sanitizeDotted(part);
    if (p) out = out ? out + '.' + p : p;
  }
  return out;
}

function shorten(s: string): string {
  if (s.length * 3 <= MAX_SEGMENT_BYTES || Buffer.byteLength(s) <= MAX_SEGMENT_BYTES) return s;
  // Keep a readable head and make it unique again with a hash of the whole.
  const hash = createHash('sha1').update(s).digest('hex').slice(0, 12);
  let head = s.slice(0, MAX_SEGMENT_BYTES - 16);
  while (Buffer.byteLength(head) > MAX_SEGMENT_BYTES - 16) head = head.slice(0, -1);
  // Do not leave half a surrogate pair at the cut.
  if (/[\uD800-\uDBFF]$/.test(head)) head = head.slice(0, -1);
  return `${head}_${hash}`;
}

/** Builds the path of each point; sanitised pieces are cached, as the same ones come every tick. */
export class PathBuilder {
  private readonly prefix: string;
  private readonly tags: boolean;
  /** By series name: the core hands the same SeriesName object tick after tick. */
  private names = new Map<SeriesName, string>();
  private values = new Map<string, string>();
  private tagNames = new Map<string, string>();
  private static readonly CACHE_LIMIT = 100_000;

  constructor(opts: { prefix?: string; tags?: boolean } = {}) {
    const p = opts.prefix ? sanitizeDotted(opts.prefix) : '';
    this.prefix = p ? p + '.' : '';
    this.tags = opts.tags === true;
  }

  path(name: SeriesName, labels: Labels): string {
    let base = this.names.get(name);
    if (base === undefined) {
      base = this.prefix + seriesPath(name);
      this.remember(this.names, name, base);
    }
    if (this.tags) return this.tagged(base, labels);
    let out = base;
    for (const key in labels) {
      const v = labels[key]!;
      let s = this.values.get(v);
      if (s === undefined) {
        s = sanitizeSegment(v);
        this.remember(this.values, v, s);
      }
      out += '.' + s;
    }
    return out;
  }

  /** `name;k=v;...` with tags sorted by name, as carbon normalises them. */
  private tagged(base: string, labels: Labels): string {
    const keys = Object.keys(labels);
    if (keys.length === 0) return base;
    const pairs: string[] = [];
    for (const key of keys) {
      const value = sanitizeTagValue(labels[key]!);
      if (value === '') continue;
      let k = this.tagNames.get(key);
      if (k === undefined) {
        k = sanitizeTagName(key);
        this.remember(this.tagNames, key, k);
      }
      pairs.push(k + '=' + value);
    }
    pairs.sort();
    return pairs.length ? base + ';' + pairs.join(';') : base;
  }

  private remember<K>(map: Map<K, string>, key: K, value: string): void {
    // Label values can be unbounded (ids, URLs): never let the cache grow without limit.
    if (map.size >= PathBuilder.CACHE_LIMIT) map.clear();
    map.set(key, value);
  }
}
