// Synchronous schema checks for tests, with the same ajv options and messages as the core
// (src/config/validate.ts, whose validate() is async because it may load ajv on demand).
import { formatErrors, sharedAjv } from '../../src/config/validate.js';
import type { JsonSchema } from '../../src/sdk/index.js';

// The core's own instance: a schema the loader compiled is not compiled again here.
const ajv = await sharedAjv();

/** Problems with `data` under `schema`, one line each with its path (empty: valid). */
export function validate(schema: JsonSchema | undefined, data: unknown, basePath: (string | number)[]): string[] {
  const fn = ajv.compile(schema ?? {});
  return fn(data) ? [] : formatErrors(fn.errors ?? [], basePath);
}
