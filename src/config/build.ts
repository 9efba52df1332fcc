// One plugin built the way the config loader and the daemon build it, for scripts and benchmarks
// that make a source without a config file: params checked by its schema with the defaults filled
// in, the secrets registered, then the constructor with a context.
import { ConfigError } from './errors.js';
import { sourceParamsSchema } from './schema.js';
import { validate } from './validate.js';
import { registerSecretsIn } from '../core/secrets.js';
import { createLogger } from '../log.js';
import type { JsonSchema, PluginContext } from '../sdk/index.js';

export async function buildSource<T>(
  cls: { new (config: never, context?: PluginContext): T; schema?: JsonSchema; readonly name: string },
  params: object,
  context: Partial<PluginContext> = {},
): Promise<T> {
  const config = { type: cls.name.replace(/Source$/, ''), ...structuredClone(params) };
  const problems = await validate(sourceParamsSchema(cls.schema), config, [cls.name]);
  if (problems.length) throw new ConfigError(problems);
  registerSecretsIn(config);
  return new cls(config as never, { configDir: process.cwd(), tickTime: 10, log: createLogger(cls.name), ...context });
}
