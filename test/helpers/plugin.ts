// Builds a source or writer as the daemon does: its params checked by its schema, through the
// core's validator with its defaults filled in, then its constructor with a context. Tests thus
// see the same defaulted config a configured plugin sees.
import { Writer, type PluginContext, type JsonSchema, type WriterContext } from '../../src/sdk/index.js';
import { sourceParamsSchema, writerParamsSchema } from '../../src/config/schema.js';
import { registerSecretsIn } from '../../src/core/secrets.js';
import { quietLog } from './probe.js';
import { validate } from './validate.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type PluginClass = (new (config: any, context?: PluginContext) => object) & { schema?: JsonSchema; readonly name: string };
type ConfigOf<T> = T extends new (config: infer C, context?: PluginContext) => unknown ? C : never;
/** What a config file holds: params with a default may be left out, and `type` is the class's. */
export type ParamsOf<T> = Params<ConfigOf<T>> & { type?: string };
/** A plugin's params as a config writes them: any param with a default may be left out. */
export type Params<C> = DeepPartial<Omit<C, 'type'>>;
type DeepPartial<T> = T extends readonly unknown[] ? T : T extends object ? { [K in keyof T]?: DeepPartial<T[K]> } : T;

/** The context the daemon hands a constructor; tests may override parts of it. */
export function pluginContext(over: Partial<PluginContext> = {}): PluginContext {
  return { configDir: process.cwd(), tickTime: 10, log: quietLog, ...over };
}

/** The type name of a class: `FileWriter` -> `File`, `LoadAvgSource` -> `LoadAvg`. */
export function typeName(Cls: { readonly name: string }): string {
  return Cls.name.replace(/(Source|Writer)$/, '');
}

/** The config the daemon would hand `Cls` for `params`: validated and defaulted, or throws the problems. */
export function configFor<T extends PluginClass>(Cls: T, params: ParamsOf<T> = {} as ParamsOf<T>): ConfigOf<T> {
  const config: Record<string, unknown> = { type: typeName(Cls), ...structuredClone(params as Record<string, unknown>) };
  const isWriter = Cls.prototype instanceof Writer;
  const schema = isWriter ? writerParamsSchema(Cls.schema) : sourceParamsSchema(Cls.schema);
  const problems = validate(schema, config, []);
  if (problems.length) throw new Error(`invalid ${config.type} params:\n  ${problems.join('\n  ')}`);
  // As the loader does: values under secret-looking keys never reach a log line.
  registerSecretsIn(config);
  return config as ConfigOf<T>;
}

/** Validates and defaults `params` with `Cls`'s schema and constructs it, as the config loader and daemon do. */
export function build<T extends PluginClass>(Cls: T, params: ParamsOf<T> = {} as ParamsOf<T>, ctx: Partial<PluginContext> = {}): InstanceType<T> {
  return new Cls(configFor(Cls, params), pluginContext(ctx)) as InstanceType<T>;
}

/** What the daemon hands a writer's start(): its context, and where it reports points it lost. */
export function writerContext(writer: { context: PluginContext }, reportDropped: (count: number) => void = () => {}): WriterContext {
  return { ...writer.context, reportDropped };
}
