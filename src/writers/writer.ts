// The Writer SDK: the batch an executor hands over each tick and the base class of writers.
import type { Logger } from '../log.js';
import type { JsonSchema } from '../config/schema-types.js';
import type { Labels, MetricType } from '../sources/source.js';

/** A sample after the executor has named, labelled and stamped it. */
export interface Point {
  /** pollect's name: `<collection>.<Type>[.<name>][.<valueName>]`. */
  name: string;
  value: number;
  /** Read-only: may be the very object the source returned, and reused on later ticks. */
  labels: Labels;
  type: MetricType;
  /** Milliseconds since the epoch. */
  timestamp: number;
  help?: string;
  unit?: string;
  /** Id of the source that produced it (see SourceStatus.id). */
  source: string;
}

/** How one source fared in one tick. */
export interface SourceStatus {
  /** Unique per configured source: `<collection>.<Type>[.<name>]`, with `#n` when repeated. */
  id: string;
  collection: string;
  type: string;
  name?: string;
  /** probed: it ran this tick; skipped: still running from before; backoff: waiting after failures. */
  state: 'probed' | 'skipped' | 'backoff';
  success: boolean;
  durationSeconds: number;
  error?: string;
  errorsTotal: number;
  skippedTotal: number;
  consecutiveFailures: number;
}

/** Everything one executor produced in one tick. */
export interface Batch {
  collection: string;
  /** Milliseconds since the epoch: when the tick started. */
  timestamp: number;
  points: Point[];
  sources: SourceStatus[];
}

/** Counters a writer exposes about itself (self-metrics). */
export interface WriterStats {
  writer: string;
  queueLength: number;
  written: number;
  dropped: number;
  errors: number;
}

export interface WriterContext {
  log: Logger;
  configDir: string;
  /** Stats of every writer of this pollect process, for writers that export self-metrics. */
  allWriterStats(): WriterStats[];
}

/**
 * Base class of every writer. Lifecycle as collectd's: start(), write(batch) once per executor
 * tick, flush(), stop(). write() must not wait on a slow backend: buffer and return.
 */
export abstract class Writer<C extends WriterConfig = WriterConfig> {
  static description = '';
  static schema: JsonSchema | undefined = undefined;

  readonly config: C;
  /** Set by the runner: the writer's id, e.g. `Prometheus#0`. */
  id = '';

  constructor(config: C) {
    this.config = config;
  }

  start(_ctx: WriterContext): void | Promise<void> {}

  abstract write(batch: Batch): void | Promise<void>;

  flush(): void | Promise<void> {}

  stop(): void | Promise<void> {}

  stats(): WriterStats {
    return { writer: this.id, queueLength: 0, written: 0, dropped: 0, errors: 0 };
  }
}

export interface WriterConfig {
  type: string;
}

export interface WriterClass<C extends WriterConfig = WriterConfig> {
  new (config: C): Writer<C>;
  description?: string;
  schema?: JsonSchema;
  readonly name: string;
}

/** Any Writer subclass, whatever its config type (the config is checked by its schema first). */
export interface AnyWriterClass {
  new (config: never): Writer<WriterConfig>;
  description?: string;
  schema?: JsonSchema;
  readonly name: string;
}
