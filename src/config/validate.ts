// JSON schema validation with ajv, and errors turned into `path: message` lines.
// The built-in schemas (the frame, every built-in source and writer) are compiled at build time
// (scripts/build-validators.mjs -> dist/config/validators/), so a config of built-ins is
// checked without loading ajv: that keeps about 7 MB and tens of milliseconds off every start.
// Plugin schemas, and runs from source (tests), compile with ajv on demand.
import type { Ajv, ErrorObject, Options, ValidateFunction } from 'ajv';
import type { JsonSchema } from '../sdk/index.js';
import { didYouMean, formatPath } from './errors.js';

/** Shared with the build script so precompiled and on-demand validators behave the same. */
export const AJV_OPTIONS: Options = {
  allErrors: true,
  strict: false,
  // Fills params' documented defaults in, so a source sees the values its docs name.
  useDefaults: true,
  allowUnionTypes: true,
  // Errors carry their schema: "did you mean" and oneOf messages read it.
  verbose: true,
};

/** Name of a precompiled schema: its module in dist/config/validators/ and its export there. */
export function precompiledName(key: string): string {
  return key.replace(/[^A-Za-z0-9_$]/g, '_');
}

let ajv: Ajv | undefined;
const precompiled = new Map<string, ValidateFunction | null>();

/** The validator of `key` compiled at build time, or null (running from src, or a plugin's schema). */
async function loadPrecompiled(key: string): Promise<ValidateFunction | null> {
  const name = precompiledName(key);
  let fn = precompiled.get(name);
  if (fn === undefined) {
    try {
      const mod = (await import(`./validators/${name}.js`)) as Record<string, ValidateFunction | undefined>;
      fn = mod[name] ?? null;
    } catch {
      fn = null;
    }
    precompiled.set(name, fn);
  }
  return fn;
}

/** The process's one ajv, loaded on first use: it keeps what it compiled, by schema object. */
export async function sharedAjv(): Promise<Ajv> {
  if (!ajv) {
    const { Ajv } = await import('ajv');
    ajv = new Ajv(AJV_OPTIONS);
  }
  return ajv;
}

async function compile(schema: JsonSchema): Promise<ValidateFunction> {
  return (await sharedAjv()).compile(schema);
}

/**
 * Validates `data`; returns one line per problem, each starting with its config path. `key`
 * names a schema compiled at build time (`frame`, `source/LoadAvg`, `writer/DryRun`).
 */
export async function validate(schema: JsonSchema, data: unknown, basePath: (string | number)[], key?: string): Promise<string[]> {
  const pre = key ? await loadPrecompiled(key) : null;
  const fn = pre ?? (await compile(schema));
  if (fn(data)) return [];
  return formatErrors(fn.errors ?? [], basePath);
}

function segments(instancePath: string): (string | number)[] {
  if (!instancePath) return [];
  return instancePath
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((s) => (/^\d+$/.test(s) ? Number(s) : s));
}

const ARTICLE: Record<string, string> = {
  string: 'a string',
  number: 'a number',
  integer: 'an integer',
  boolean: 'true or false',
  object: 'an object',
  array: 'a list',
  null: 'null',
};

function describeType(t: unknown): string {
  const list = String(t).split(',');
  return list.map((x) => ARTICLE[x] ?? x).join(' or ');
}

export function formatErrors(errors: readonly ErrorObject[], basePath: (string | number)[]): string[] {
  // Where a value matches none of a oneOf/anyOf's forms, the forms' own complaints are noise.
  const alternatives = errors.filter((e) => e.keyword === 'oneOf' || e.keyword === 'anyOf').map((e) => e.schemaPath.replace(/\/(oneOf|anyOf)$/, ''));
  const out: string[] = [];
  for (const e of errors) {
    if (
      e.keyword !== 'oneOf' &&
      e.keyword !== 'anyOf' &&
      alternatives.some((p) => e.schemaPath.startsWith(p + '/oneOf/') || e.schemaPath.startsWith(p + '/anyOf/'))
    )
      continue;
    if (e.keyword === 'if') continue;
    const path = [...basePath, ...segments(e.instancePath)];
    let line: string;
    switch (e.keyword) {
      case 'required':
        line = `${formatPath([...path, String(e.params.missingProperty)])}: is required`;
        break;
      case 'additionalProperties': {
        const key = String(e.params.additionalProperty);
        const allowed = Object.keys((e.parentSchema as JsonSchema | undefined)?.properties ?? {});
        const hint = didYouMean(key, allowed);
        line = `${formatPath(path)}: unknown key "${key}"${hint ? ` (did you mean "${hint}"?)` : ''}`;
        break;
      }
      case 'type':
        line = `${formatPath(path)}: must be ${describeType(e.params.type)}`;
        break;
      case 'enum':
        line = `${formatPath(path)}: must be one of ${(e.params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`;
        break;
      case 'const':
        line = `${formatPath(path)}: must be ${JSON.stringify(e.params.allowedValue)}`;
        break;
      case 'oneOf':
      case 'anyOf':
        line = `${formatPath(path)}: ${describeAlternatives(e)}`;
        break;
      default:
        line = `${formatPath(path)}: ${e.message ?? e.keyword}`;
    }
    if (!out.includes(line)) out.push(line);
  }
  return out;
}

function describeAlternatives(e: ErrorObject): string {
  const forms = (e.schema as JsonSchema[] | undefined) ?? [];
  // anyOf: [{ required: ['url'] }, { required: ['host'] }]: one of these keys must be there.
  if (forms.length > 0 && forms.every((f) => f.required?.length === 1 && Object.keys(f).length === 1)) {
    return `needs ${forms.map((f) => JSON.stringify(f.required![0])).join(' or ')}`;
  }
  // A form may name itself (`title: 'a numeric string'`) where its type alone would mislead.
  const names = forms.map((f) =>
    f.title
      ? f.title
      : f.type
        ? describeType(f.type)
        : f.const !== undefined
          ? JSON.stringify(f.const)
          : f.enum
            ? f.enum.map((v) => JSON.stringify(v)).join(' or ')
            : 'another form',
  );
  return names.length ? `must be ${names.join(', or ')}` : 'matches none of the allowed forms';
}
