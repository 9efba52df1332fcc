// Builds a plugin the way the config loader does: its params checked by its schema with the
// defaults filled in, the secrets registered, then the constructor with a context. Tests build
// sources with this, never with a bare `new`, so a source sees the params a config would give it.
import { Ajv } from 'ajv';
import { AJV_OPTIONS, formatErrors } from '../../src/config/validate.js';
import { sourceParamsSchema, writerParamsSchema } from '../../src/config/schema.js';
import { registerSecretsIn } from '../../src/core/secrets.js';
import type { JsonSchema, PluginContext } from '../../src/sdk/index.js';
import { quietLog } from './probe.js';

const ajv = new Ajv(AJV_OPTIONS);
const compiled = new Map<JsonSchema, ReturnType<Ajv['compile']>>();

interface PluginClass<T> {
  new (config: never, context?: PluginContext): T;
  schema?: JsonSchema;
  name: string;
}

/** The params as the loader hands them over: checked, with the schema's defaults. Throws on a config error. */
export function withDefaults(cls: PluginClass<unknown>, params: object, kind: 'source' | 'writer' = 'source'): Record<string, unknown> {
  const schema = cls.schema ?? {};
  let fn = compiled.get(schema);
  if (!fn) {
    fn = ajv.compile(kind === 'source' ? sourceParamsSchema(cls.schema) : writerParamsSchema(cls.schema));
    compiled.set(schema, fn);
  }
  const data = { type: cls.name.replace(/(Source|Writer)$/, ''), ...structuredClone(params) } as Record<string, unknown>;
  if (!fn(data)) throw new Error(`${cls.name}: invalid params:\n${formatErrors(fn.errors ?? [], []).join('\n')}`);
  return data;
}

export function testContext(overrides: Partial<PluginContext> = {}): PluginContext {
  return { configDir: process.cwd(), tickTime: 10, log: quietLog, ...overrides };
}

/** `new Cls(params)` as pollect builds it from a config (`type` may be left out). */
export function makeSource<T>(cls: PluginClass<T>, params: object = {}, context: Partial<PluginContext> = {}): T {
  const config = withDefaults(cls, params);
  registerSecretsIn(config);
  return new cls(config as never, testContext(context));
}

/** A plugin's params as a config writes them: any param with a default may be left out. */
export type Params<C> = DeepPartial<Omit<C, 'type'>>;
type DeepPartial<T> = T extends readonly unknown[] ? T : T extends object ? { [K in keyof T]?: DeepPartial<T[K]> } : T;
