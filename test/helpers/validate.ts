// Synchronous schema checks for tests, with the same ajv options and messages as the core
// (src/config/validate.ts, whose validate() is async because it may load ajv on demand).
import { Ajv } from 'ajv';
import { AJV_OPTIONS, formatErrors } from '../../src/config/validate.js';
import type { JsonSchema } from '../../src/sdk/index.js';

const ajv = new Ajv(AJV_OPTIONS);

/** Problems with `data` under `schema`, one line each with its path (empty: valid). */
export function validate(schema: JsonSchema | undefined, data: unknown, basePath: (string | number)[]): string[] {
  const fn = ajv.compile(schema ?? {});
  return fn(data) ? [] : formatErrors(fn.errors ?? [], basePath);
}
