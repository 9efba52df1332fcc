// The units a sample may declare (`Sample.unit`) and what they become in `naming: "prometheus"`:
// the unit's name at the end of the family name, and the linear map of the value to it. Only the
// declared unit is read: tokens of the collection, type, source or value name never scale a value.
//  - base units keep the value: seconds, bytes, hertz, watts, volts, amperes, joules, celsius,
//    meters, grams, percent, ratio;
//  - non-base units are converted to their base unit with the value: ms -> seconds ×0.001,
//    KiB -> bytes ×1024, MHz -> hertz ×1e6, mW -> watts ×0.001, °F -> celsius;
//  - a rate `X/s` (or `X_per_second`) is named `X_per_second`: `KiB/s` -> bytes_per_second ×1024;
//  - a unit this table does not know (`rpm`, `requests`, `nanocores`) is kept under its own name.

/** What a declared unit becomes in a Prometheus family name, and how the value is mapped to it. */
export interface UnitConversion {
  /** Tokens appended to the family name: `['bytes', 'per', 'second']`. */
  tokens: string[];
  /** Token sequences that spell this unit at the end of a sample name (`ms`, `bytes_sec`): dropped before `tokens` is appended. */
  aliases: string[][];
  /** v' = v * mul + add. */
  mul: number;
  add: number;
}

interface Factor {
  /** Base unit name, plural as Prometheus writes it (`seconds`); the singular is used after `per`. */
  base: string;
  singular: string;
  mul: number;
  add: number;
  /** Lower-case token sequences that name this exact factor. */
  aliases: string[][];
  /** An offset unit (°F): only convertible on its own, never inside a product or a rate. */
  offset?: boolean;
}

interface BaseUnit {
  plural: string;
  singular: string;
  /** Its symbol, to which SI and binary prefixes attach (`Hz`, `B`); none: not prefixed. */
  symbol?: string;
  /** Its words, singular and plural (`byte`, `bytes`), to which word prefixes attach. */
  words: string[];
  /** Other spellings (`sec`, `secs`). */
  other?: string[];
}

const BASES: BaseUnit[] = [
  { plural: 'seconds', singular: 'second', symbol: 's', words: ['second', 'seconds'], other: ['sec', 'secs'] },
  { plural: 'bytes', singular: 'byte', symbol: 'B', words: ['byte', 'bytes'] },
  { plural: 'hertz', singular: 'hertz', symbol: 'Hz', words: ['hertz'] },
  { plural: 'watts', singular: 'watt', symbol: 'W', words: ['watt', 'watts'] },
  { plural: 'volts', singular: 'volt', symbol: 'V', words: ['volt', 'volts'] },
  { plural: 'amperes', singular: 'ampere', symbol: 'A', words: ['ampere', 'amperes', 'amp', 'amps'] },
  { plural: 'joules', singular: 'joule', symbol: 'J', words: ['joule', 'joules'] },
  { plural: 'meters', singular: 'meter', symbol: 'm', words: ['meter', 'meters', 'metre', 'metres'] },
  { plural: 'grams', singular: 'gram', symbol: 'g', words: ['gram', 'grams'] },
  { plural: 'celsius', singular: 'celsius', words: ['celsius'], other: ['°C', '℃', 'degC'] },
  { plural: 'percent', singular: 'percent', words: ['percent', 'percentage'], other: ['%', 'pct'] },
  { plural: 'ratio', singular: 'ratio', words: ['ratio'] },
];

const SI_PREFIXES: [symbol: string, word: string, mul: number][] = [
  ['p', 'pico', 1e-12],
  ['n', 'nano', 1e-9],
  ['u', 'micro', 1e-6],
  ['µ', 'micro', 1e-6],
  ['μ', 'micro', 1e-6],
  ['m', 'milli', 1e-3],
  ['c', 'centi', 1e-2],
  ['k', 'kilo', 1e3],
  ['M', 'mega', 1e6],
  ['G', 'giga', 1e9],
  ['T', 'tera', 1e12],
  ['P', 'peta', 1e15],
];

/** Binary prefixes, for bytes only. Lower-case `kb`, `mb` ... are the names /proc and nova use for them. */
const BINARY_PREFIXES: [symbol: string, word: string, mul: number, loose: string][] = [
  ['Ki', 'kibi', 1024, 'kb'],
  ['Mi', 'mebi', 1024 ** 2, 'mb'],
  ['Gi', 'gibi', 1024 ** 3, 'gb'],
  ['Ti', 'tebi', 1024 ** 4, 'tb'],
  ['Pi', 'pebi', 1024 ** 5, 'pb'],
];

/** Spelling (case-sensitive: `MHz` is not `mHz`) -> factor. */
const SYMBOLS = new Map<string, Factor>();
/** Lower-case word (`kilobytes`, `minutes`) -> factor. */
const WORDS = new Map<string, Factor>();

function factor(base: BaseUnit, mul: number, add = 0, offset = false): Factor {
  return { base: base.plural, singular: base.singular, mul, add, aliases: [], offset };
}

function define(spellings: string[], words: string[], f: Factor): void {
  for (const s of spellings) SYMBOLS.set(s, f);
  for (const w of words) WORDS.set(w.toLowerCase(), f);
  for (const s of [...spellings, ...words]) {
    // `µs` is not `s`: only plain ASCII spellings can be found in a name.
    if (!/^[a-zA-Z0-9_]+$/.test(s)) continue;
    const t = aliasTokens(s);
    if (t.length && !f.aliases.some((a) => a.join('_') === t.join('_'))) f.aliases.push(t);
  }
}

function aliasTokens(s: string): string[] {
  return s
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter((t) => t !== '');
}

for (const b of BASES) {
  define([...(b.symbol ? [b.symbol] : []), ...(b.other ?? [])], b.words, factor(b, 1));
  if (b.symbol) {
    for (const [sym, word, mul] of SI_PREFIXES) {
      // A prefixed word exists for both micro symbols: one factor for all three spellings.
      const f = WORDS.get(word + b.words[0]) ?? factor(b, mul);
      define(
        [sym + b.symbol],
        b.words.map((w) => word + w),
        f,
      );
    }
  }
}
const BYTES = BASES[1]!;
for (const [sym, word, mul, loose] of BINARY_PREFIXES) {
  const f = factor(BYTES, mul);
  define([sym + 'B'], [word + 'byte', word + 'bytes'], f);
  f.aliases.push([loose]);
}
// kB is 1000 bytes (SI); KB without an SI prefix is the JEDEC kilobyte of memory vendors, 1024.
define(['KB'], [], factor(BYTES, 1024));
SYMBOLS.get('kB')!.aliases.push(['kb']);
const SECONDS = BASES[0]!;
// `bit` and `Mbit`, not `b` and `Mb`: a lower-case b is too often meant as bytes to be read as bits.
define(['bit', 'bits'], ['bit', 'bits'], factor(BYTES, 1 / 8));
for (const [sym, word, mul] of SI_PREFIXES) {
  define([sym + 'bit'], [word + 'bit', word + 'bits'], WORDS.get(word + 'bit') ?? factor(BYTES, mul / 8));
}
define(['min'], ['minute', 'minutes', 'mins'], factor(SECONDS, 60));
define(['h', 'hr'], ['hour', 'hours', 'hrs'], factor(SECONDS, 3600));
define(['d'], ['day', 'days'], factor(SECONDS, 86_400));
define(['w', 'wk'], ['week', 'weeks'], factor(SECONDS, 604_800));
const CELSIUS = BASES.find((b) => b.plural === 'celsius')!;
define(['°F', '℉', 'degF'], ['fahrenheit'], factor(CELSIUS, 5 / 9, (-32 * 5) / 9, true));
define(['K'], ['kelvin', 'kelvins'], factor(CELSIUS, 1, -273.15, true));
define(['‰'], ['permille'], factor(BASES.find((b) => b.plural === 'ratio')!, 1e-3));

function lookup(spelling: string): Factor | undefined {
  return SYMBOLS.get(spelling) ?? WORDS.get(spelling.toLowerCase());
}

/** A unit this table does not know: kept under its own name, the value as it is. */
function ownName(spelling: string): Factor | undefined {
  const tokens = aliasTokens(spelling);
  if (tokens.length === 0) return undefined;
  const name = tokens.join('_');
  return { base: name, singular: name, mul: 1, add: 0, aliases: [tokens] };
}

/** `a_b`, `a*b`, `a·b`, `a b`: the factors of a product, each a known unit or kept as it is. */
function product(text: string): Factor[] {
  const whole = lookup(text.trim());
  if (whole) return [whole];
  const parts = text.split(/[_*·\s-]+/).filter((p) => p !== '');
  const out: Factor[] = [];
  for (const p of parts) {
    const f = lookup(p) ?? ownName(p);
    if (f) out.push(f);
  }
  return out;
}

const cache = new Map<string, UnitConversion>();

/** The conversion of a declared unit; the same object for the same spelling. */
export function unitConversion(unit: string): UnitConversion {
  let c = cache.get(unit);
  if (!c) {
    c = convert(unit);
    // Units come from a fixed vocabulary in practice; a source inventing new ones must not grow this forever.
    if (cache.size > 1000) cache.clear();
    cache.set(unit, c);
  }
  return c;
}

/** The unit under its own name (lower case), the value as it is. */
export function keptUnit(unit: string): UnitConversion {
  const tokens = aliasTokens(unit);
  return { tokens, aliases: [tokens], mul: 1, add: 0 };
}

function convert(unit: string): UnitConversion {
  const keep = keptUnit(unit);
  // `X/Y`, `X per Y`, `X_per_Y`: a rate (or any ratio) of two units.
  const m = /^(.*?)(?:\s*\/\s*|[_\s]per[_\s])(.+)$/i.exec(unit.trim()) ?? /^()per[_\s](.+)$/i.exec(unit.trim());
  const num = m ? m[1]!.trim() : unit.trim();
  const numFactors = num === '' || num === '1' ? [] : product(num);
  if (!m) {
    if (numFactors.length === 0) return keep;
    if (numFactors.length === 1) {
      const f = numFactors[0]!;
      return { tokens: f.base.split('_'), aliases: f.aliases, mul: f.mul, add: f.add };
    }
    if (numFactors.some((f) => f.offset)) return keep;
    return {
      tokens: numFactors.flatMap((f) => f.base.split('_')),
      aliases: crossAliases(numFactors.map((f) => f.aliases)),
      mul: numFactors.reduce((p, f) => p * f.mul, 1),
      add: 0,
    };
  }
  const den = lookup(m[2]!.trim()) ?? ownName(m[2]!);
  if (!den || den.offset || numFactors.some((f) => f.offset)) return keep;
  const numTokens = numFactors.flatMap((f) => f.base.split('_'));
  const numAliases = numFactors.length ? crossAliases(numFactors.map((f) => f.aliases)) : [[]];
  const aliases: string[][] = [];
  for (const a of numAliases) {
    for (const d of den.aliases) {
      aliases.push([...a, 'per', ...d]);
      if (a.length) aliases.push([...a, ...d]);
    }
  }
  return {
    tokens: [...numTokens, 'per', ...den.singular.split('_')],
    aliases,
    mul: numFactors.reduce((p, f) => p * f.mul, 1) / den.mul,
    add: 0,
  };
}

/** Every way to spell a product: one alias of each factor, in order. */
function crossAliases(lists: string[][][]): string[][] {
  let out: string[][] = [[]];
  for (const list of lists) {
    const next: string[][] = [];
    for (const prefix of out) for (const a of list) next.push([...prefix, ...a]);
    // A product of many long-named factors would multiply out; a handful of spellings is plenty.
    out = next.slice(0, 64);
  }
  return out;
}
