// The JSON schema of the whole config, every built-in source and writer included, for
// `pollect schema` and editors ("$schema").
import { sourceRegistry } from '../sources/registry.js';
import { writerRegistry } from '../writers/registry.js';
import { frameSchema, sourceParamsSchema, writerParamsSchema } from './schema.js';
import type { JsonSchema } from '../sdk/index.js';

async function itemSchema(
  registry: Record<string, () => Promise<{ schema?: JsonSchema; description?: string }>>,
  merge: (own: JsonSchema | undefined, typeConst: string) => JsonSchema,
): Promise<JsonSchema> {
  const names = Object.keys(registry).sort();
  const branches: JsonSchema[] = [];
  for (const name of names) {
    const cls = await registry[name]!();
    branches.push({
      if: { properties: { type: { const: name } }, required: ['type'] },
      then: { ...merge(cls.schema, name), description: cls.description },
    });
  }
  return {
    type: 'object',
    required: ['type'],
    properties: { type: { type: 'string', examples: names } },
    allOf: branches,
  };
}

export async function fullSchema(): Promise<JsonSchema> {
  const source = await itemSchema(sourceRegistry, sourceParamsSchema);
  const writer = await itemSchema(writerRegistry, writerParamsSchema);
  return {
    $schema: 'http://json-schema.org/draft-07/schema#',
    title: 'pollect configuration',
    ...frameSchema(source, writer),
  };
}

/** Every built-in source type with its one-line description. */
export async function describeSources(): Promise<{ type: string; description: string }[]> {
  const out: { type: string; description: string }[] = [];
  for (const type of Object.keys(sourceRegistry).sort()) {
    const cls = await sourceRegistry[type]!();
    out.push({ type, description: cls.description ?? '' });
  }
  return out;
}
