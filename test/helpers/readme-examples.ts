// Checks a plugin folder's README against its schema: every ```json block must be a config the schema
// accepts, so the docs cannot drift from the params.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { JsonSchema } from '../../src/sdk/index.js';
import { sourceParamsSchema } from '../../src/config/schema.js';
import { validate } from './validate.js';

/** The ```json blocks of src/sources/<folder>/README.md that are source configs (have a "type"), parsed. */
export function readmeExamples(folder: string): Record<string, unknown>[] {
  const text = readFileSync(path.join(process.cwd(), 'src/sources', folder, 'README.md'), 'utf8');
  return [...text.matchAll(/```json\n([\s\S]*?)```/g)]
    .map((m) => JSON.parse(m[1]!) as Record<string, unknown>)
    .filter((doc) => typeof doc['type'] === 'string');
}

/** Problems the core's validation finds with `params` for a source of `type` (empty: valid). */
export function paramProblems(schema: JsonSchema | undefined, type: string, params: Record<string, unknown>): string[] {
  return validate(sourceParamsSchema(schema, type), structuredClone(params), ['source']);
}
