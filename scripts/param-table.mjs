// The parameter table of a plugin's README, generated from its schema (description, type,
// default, allowed values), so the README can never disagree with what the config loader checks.
// Each plugin folder's README.md holds the table between `<!-- params -->` and `<!-- /params -->`.
// `node scripts/param-table.mjs` (after `npm run build`) rewrites them; `npm run docs` calls it.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const START = '<!-- params -->';
export const END = '<!-- /params -->';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** Markdown table of the params of an object schema; nested objects' params get dotted names. */
export function paramTable(schema) {
  const rows = [];
  addRows(rows, schema ?? {}, '');
  if (rows.length === 0) return 'No params of its own.';
  return ['| Param | Type | Default | Description |', '|---|---|---|---|', ...rows].join('\n');
}

function addRows(rows, schema, prefix) {
  const required = new Set(schema.required ?? []);
  for (const [name, prop] of Object.entries(schema.properties ?? {})) {
    const key = prefix + name;
    const dflt = required.has(name) ? 'required' : prop.default !== undefined ? code(prop.default) : '—';
    rows.push(`| \`${key}\` | ${typeOf(prop)} | ${dflt} | ${cell(prop.description ?? '')} |`);
    // The params inside an object param (or a list of objects) get rows of their own.
    if (prop.properties) addRows(rows, prop, `${key}.`);
    else if (prop.items?.properties) addRows(rows, prop.items, `${key}[].`);
    else if (prop.additionalProperties?.properties) addRows(rows, prop.additionalProperties, `${key}.<name>.`);
    else for (const form of prop.oneOf ?? []) if (form.properties) addRows(rows, form, `${key}.`);
  }
}

function typeOf(s) {
  if (s.enum) return s.enum.map(code).join(' \\| ');
  if (s.const !== undefined) return code(s.const);
  const forms = s.oneOf ?? s.anyOf;
  // Forms that are all lists of values read as one list: 1 | 2 | 3 | 2c.
  if (forms?.every((f) => f.enum)) return [...new Set(forms.flatMap((f) => f.enum.map(code)))].join(' \\| ');
  if (forms) return forms.map(typeOf).join(' or ');
  const t = Array.isArray(s.type) ? s.type.join(' or ') : s.type;
  if (t === 'array') return s.items ? `list of ${plural(typeOf(s.items))}` : 'list';
  if (t === 'object') {
    if (s.properties) return 'object';
    if (s.additionalProperties && typeof s.additionalProperties === 'object') return `{name: ${typeOf(s.additionalProperties)}}`;
    return 'object';
  }
  return (t ?? 'any') + range(s);
}

function plural(t) {
  return /^(string|number|integer|boolean|object)\b/.test(t) ? t.replace(/^(\w+)/, '$1s') : t;
}

function range(s) {
  const min = s.minimum ?? (s.exclusiveMinimum !== undefined ? `>${s.exclusiveMinimum}` : undefined);
  if (min !== undefined && s.maximum !== undefined) return ` ${s.minimum ?? s.exclusiveMinimum}–${s.maximum}`;
  if (min !== undefined) return typeof min === 'string' ? ` ${min}` : ` ≥ ${min}`;
  if (s.maximum !== undefined) return ` ≤ ${s.maximum}`;
  return '';
}

function code(v) {
  const text = typeof v === 'string' ? v : JSON.stringify(v).replace(/,/g, ', ');
  return `\`${text.replace(/\|/g, '\\|')}\``;
}

/** A description as a table cell: plain text, so nothing in it turns into markup or a hidden tag. */
function cell(text) {
  return text.replace(/\|/g, '\\|').replace(/\*/g, '\\*').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/\n/g, ' ');
}

/** The README text with its table replaced by the schema's; throws when the markers are missing. */
export function withParamTable(readme, schema, file = 'README.md') {
  const a = readme.indexOf(START);
  const b = readme.indexOf(END);
  if (a < 0 || b < a) throw new Error(`${file} lacks the ${START} ... ${END} markers`);
  return `${readme.slice(0, a + START.length)}\n${paramTable(schema)}\n${readme.slice(b)}`;
}

/** Every plugin folder with its README and class loader: `[{ file, load }]`, from the registries in `dir` (dist/ or src/). */
export async function plugins(importFrom) {
  const out = [];
  for (const kind of ['sources', 'writers']) {
    const { sourceRegistry, writerRegistry } = await importFrom(`${kind}/registry.js`);
    const registry = sourceRegistry ?? writerRegistry;
    const text = readFileSync(path.join(root, 'src', kind, 'registry.ts'), 'utf8');
    for (const m of text.matchAll(/^\s+(\w+): \(\) => import\('\.\/([\w-]+)\/index\.js'\)/gm)) {
      out.push({ type: m[1], file: path.join(root, 'src', kind, m[2], 'README.md'), load: registry[m[1]] });
    }
  }
  return out;
}

/** Rewrites the table of every plugin README from the built classes (dist/). */
export async function writeParamTables() {
  const dist = path.join(root, 'dist');
  const list = await plugins((rel) =>
    import(path.join(dist, rel)).catch(() => {
      throw new Error('dist/ is missing or stale: run npm run build first');
    }),
  );
  let changed = 0;
  for (const { file, load } of list) {
    const readme = readFileSync(file, 'utf8');
    const next = withParamTable(readme, (await load()).schema, path.relative(root, file));
    if (next !== readme) {
      writeFileSync(file, next);
      changed++;
    }
  }
  return changed;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  console.log(`${await writeParamTables()} plugin README(s) updated`);
}
