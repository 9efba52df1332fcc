// JSON schema validation with ajv, and errors turned into `path: message` lines.
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import type { JsonSchema } from './schema-types.js';
import { didYouMean, formatPath } from './errors.js';

let ajv: Ajv | undefined;
const cache = new WeakMap<object, ValidateFunction>();

function getAjv(): Ajv {
  // useDefaults fills params' documented defaults in, so a source sees the values its docs name.
  ajv ??= new Ajv({ allErrors: true, strict: false, useDefaults: true, allowUnionTypes: true, verbose: true });
  return ajv;
}

export function compile(schema: JsonSchema): ValidateFunction {
  let fn = cache.get(schema);
  if (!fn) {
    fn = getAjv().compile(schema);
    cache.set(schema, fn);
  }
  return fn;
}

/** Validates `data`; returns one line per problem, each starting with its config path. */
export function validate(schema: JsonSchema, data: unknown, basePath: (string | number)[]): string[] {
  const fn = compile(schema);
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
    if (e.keyword !== 'oneOf' && e.keyword !== 'anyOf' && alternatives.some((p) => e.schemaPath.startsWith(p + '/oneOf/') || e.schemaPath.startsWith(p + '/anyOf/'))) continue;
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
  const names = forms.map((f) => (f.type ? describeType(f.type) : f.const !== undefined ? JSON.stringify(f.const) : f.enum ? f.enum.map((v) => JSON.stringify(v)).join(' or ') : 'another form'));
  return names.length ? `must be ${names.join(', or ')}` : 'matches none of the allowed forms';
}
