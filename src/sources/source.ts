// The Source SDK: what a source returns and the base class every source extends.
import type { Logger } from '../log.js';
import type { JsonSchema } from '../config/schema-types.js';

export type MetricType = 'gauge' | 'counter';
export type Labels = Record<string, string>;

/** One value a source reports. `name` is appended to the source's name (pollect's valueName). */
export interface Sample {
  name?: string;
  value: number;
  labels?: Labels;
  type?: MetricType;
  help?: string;
  unit?: string;
}

/** What probe() may return: a number, a {valueName: number} record or a list of samples. */
export type ProbeResult = number | Record<string, number> | readonly Sample[] | null | undefined | void;

/** The keys every source accepts besides its own params. */
export interface SourceConfig {
  type: string;
  name?: string;
  labels?: Labels;
  /** Seconds; default: the executor's tickTime. */
  timeout?: number;
}

export interface ProbeContext {
  /** Aborted when the probe passes its timeout or pollect shuts down. */
  signal: AbortSignal;
  /** The probe's budget in milliseconds. */
  timeoutMs: number;
  /** The executor's tick time in seconds. */
  tickTime: number;
  log: Logger;
}

export interface InitContext {
  log: Logger;
  tickTime: number;
  /** Directory of the config file, for params that are relative paths. */
  configDir: string;
}

/**
 * Base class of every source. A subclass gets its params in the constructor (kept as
 * `this.config`) and implements probe(); init() and shutdown() are optional lifecycle hooks,
 * as collectd's init and shutdown callbacks.
 */
export abstract class Source<C extends SourceConfig = SourceConfig> {
  /** One line for `pollect sources`. */
  static description = '';
  /** JSON schema of this source's own params (an object schema); none: any params are accepted. */
  static schema: JsonSchema | undefined = undefined;

  readonly config: C;

  constructor(config: C) {
    this.config = config;
  }

  init(_ctx: InitContext): void | Promise<void> {}

  abstract probe(ctx: ProbeContext): ProbeResult | Promise<ProbeResult>;

  shutdown(): void | Promise<void> {}
}

/** The static side of a Source subclass, as the registry and plugin loader see it. */
export interface SourceClass<C extends SourceConfig = SourceConfig> {
  new (config: C): Source<C>;
  description?: string;
  schema?: JsonSchema;
  readonly name: string;
}

/** Any Source subclass, whatever its config type (the config is checked by its schema first). */
export interface AnySourceClass {
  new (config: never): Source<SourceConfig>;
  description?: string;
  schema?: JsonSchema;
  readonly name: string;
}

/** The error a source throws for a failure it understands; its message is shown as is. */
export class SourceError extends Error {
  override name = 'SourceError';
}
