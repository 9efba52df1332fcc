// PyYAML reads YAML 1.1, where yes/no/on/off are booleans; YAML 1.2 (this loader) reads them as
// strings. So that the Python pollect's YAML configs load unchanged, such a string is taken as
// the boolean PyYAML saw wherever the schema expects a boolean, and nowhere else (a label value
// `on` stays the string "on").
import type { JsonSchema } from '../sdk/index.js';

const SPELLINGS: Record<string, boolean> = {
  yes: true,
  Yes: true,
  YES: true,
  on: true,
  On: true,
  ON: true,
  no: false,
  No: false,
  NO: false,
  off: false,
  Off: false,
  OFF: false,
};

/** Replaces, in place, yes/no/on/off strings that `schema` expects to be booleans. */
export function coerceYamlBooleans(schema: JsonSchema | undefined, data: unknown): void {
  if (!schema || data === null || typeof data !== 'object') return;
  for (const branch of [...(schema.oneOf ?? []), ...(schema.anyOf ?? []), ...(schema.allOf ?? [])]) coerceYamlBooleans(branch, data);
  if (Array.isArray(data)) {
    if (!schema.items) return;
    data.forEach((v, i) => {
      if (expectsBoolean(schema.items!) && typeof v === 'string' && v in SPELLINGS) data[i] = SPELLINGS[v];
      else coerceYamlBooleans(schema.items, v);
    });
    return;
  }
  const obj = data as Record<string, unknown>;
  for (const [key, value] of Object.entries(obj)) {
    const extra = typeof schema.additionalProperties === 'object' ? schema.additionalProperties : undefined;
    const sub = schema.properties?.[key] ?? extra;
    if (!sub) continue;
    if (expectsBoolean(sub) && typeof value === 'string' && value in SPELLINGS) obj[key] = SPELLINGS[value];
    else coerceYamlBooleans(sub, value);
  }
}

function expectsBoolean(schema: JsonSchema): boolean {
  const types = [schema.type, ...[...(schema.oneOf ?? []), ...(schema.anyOf ?? [])].map((b) => b.type)].flat().filter((t) => t !== undefined);
  return types.includes('boolean') && !types.includes('string');
}
