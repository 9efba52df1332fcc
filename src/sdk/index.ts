// The SDK: the vocabulary config, executors, sources and writers share, and the two base classes a
// plugin extends. Everything in src/ depends on this module; it depends on nothing in src/ but the
// logger's type. A plugin imports it as `import { Source } from 'pollect'`.
import type { FromSchema, JSONSchema } from 'json-schema-to-ts';
import type { Logger } from '../log.js';

export type { Logger } from '../log.js';
/** The secret policy (src/core/secrets.ts): a plugin redacts what it quotes from a peer and registers only secrets it derives at run time. */
export { childEnvironment, redact, registerSecret } from '../core/secrets.js';
export { errorMessage } from '../log.js';

/** A JSON schema as plain data (read-only, so a schema written `as const` fits). Ajv checks the schemas themselves. */
export interface JsonSchema {
  readonly type?: string | readonly string[];
  readonly description?: string;
  readonly properties?: { readonly [key: string]: JsonSchema };
  readonly required?: readonly string[];
  readonly additionalProperties?: boolean | JsonSchema;
  readonly items?: JsonSchema;
  readonly enum?: readonly (string | number | boolean | null)[];
  readonly const?: string | number | boolean | null;
  readonly default?: unknown;
  readonly minimum?: number;
  readonly maximum?: number;
  readonly exclusiveMinimum?: number;
  readonly minLength?: number;
  readonly minItems?: number;
  readonly minProperties?: number;
  readonly pattern?: string;
  readonly format?: string;
  readonly oneOf?: readonly JsonSchema[];
  readonly anyOf?: readonly JsonSchema[];
  readonly allOf?: readonly JsonSchema[];
  readonly not?: JsonSchema;
  readonly if?: JsonSchema;
  readonly then?: JsonSchema;
  readonly else?: JsonSchema;
  readonly $ref?: string;
  readonly $defs?: { readonly [key: string]: JsonSchema };
  readonly $schema?: string;
  readonly $id?: string;
  readonly title?: string;
  readonly patternProperties?: { readonly [key: string]: JsonSchema };
  readonly examples?: readonly unknown[];
  readonly [keyword: string]: unknown;
}

export type MetricType = 'gauge' | 'counter';
/** The kind of Prometheus family a sample belongs to when it is one series of a histogram or summary. */
export type PartOf = 'histogram' | 'summary';
export type Labels = Record<string, string>;

/**
 * The two ways of naming series: `pollect` (the Python pollect's names: Graphite, files, the
 * Prometheus writer's `pollect` naming) and `prometheus` (the Prometheus writer's `prometheus` and
 * `node` namings). See Sample.naming.
 */
export type Naming = 'pollect' | 'prometheus';

/** One value a source reports. `name` is appended to the source's name (pollect's valueName). */
export interface Sample {
  name?: string;
  value: number;
  labels?: Labels;
  type?: MetricType;
  help?: string;
  /**
   * The unit of `value` as the source reports it: `seconds`, `bytes`, `percent`, `ratio`, `hertz`,
   * `watts`, `volts`, `amperes`, `celsius`, or a non-base one (`ms`, `KiB`, `MHz`, `mW`, `°F`), a
   * rate `bytes/s`, or any other word (`rpm`, `requests`). Writers that name units (Prometheus'
   * `naming: "prometheus"`) convert the value by it, and by nothing else.
   */
  unit?: string;
  /**
   * Only for writers with this naming (unset: for every writer). A source that computes a figure
   * from raw readings (a rate from a counter, a CPU percent from CPU seconds) reports both: the
   * figure marked `pollect`, as the Python pollect reported it, and the reading marked
   * `prometheus`, as a Prometheus exporter serves it (a `counter`, in base units), since Prometheus
   * computes rates itself at whatever interval a query asks. The core hands each writer only the
   * samples for its naming (Writer.naming).
   */
  naming?: Naming;
  /**
   * One series of a Prometheus histogram or summary (Exec's `format: prometheus`): `name` ends in
   * `_bucket` (with an `le` label), `_sum` or `_count`, or is a summary's quantile (`quantile` label).
   */
  partOf?: PartOf;
}

/** What probe() may return: a number, a {valueName: number} record or a list of samples. */
export type ProbeResult = number | Record<string, number> | readonly Sample[] | null | undefined | void;

/** The keys every source accepts besides its own params; the config loader adds them to each source's schema. */
export const sourceKeys = {
  type: { type: 'string', minLength: 1, description: 'Source type: a built-in name, a plugin type, or a path to a plugin file' },
  name: { type: 'string', minLength: 1, description: 'Inserted into the metric name: <collection>.<Type>.<name>' },
  labels: { type: 'object', additionalProperties: { type: 'string' }, description: 'Static labels added to every sample' },
  timeout: { type: 'number', exclusiveMinimum: 0, maximum: 31 * 86_400, description: 'Seconds a probe may take (default: the tickTime)' },
  tickTime: {
    type: 'number',
    exclusiveMinimum: 0,
    maximum: 31 * 86_400,
    description:
      "Seconds between this source's probes: every n-th tick of its executor, n = tickTime / the executor's tickTime, rounded up (default: every tick)",
  },
} as const satisfies Record<string, JsonSchema>;

export type SourceConfig = FromSchema<{ type: 'object'; required: ['type']; additionalProperties: false; properties: typeof sourceKeys }>;

/** The keys every writer accepts besides its own params. */
export interface WriterConfig {
  type: string;
  /** Points the core keeps for this writer while it cannot write; the oldest go first. */
  bufferSize?: number;
  /** A folder where the core also keeps that buffer, for the next start (push writers offer it). */
  diskQueue?: string;
  /** Seconds the oldest queued batch may wait for others, so they go out in one write (0 or absent: none). */
  batchWait?: number;
  /** Points of one write at most when batching; this many queued go out at once. */
  batchSize?: number;
}

/**
 * The params of a source whose schema is `S` (written `as const`): the type is derived from the
 * schema, and a param with a `default` is always present, because the validator fills it in.
 */
export type SourceParams<S extends JSONSchema> = FromSchema<S> & SourceConfig;
export type WriterParams<S extends JSONSchema> = FromSchema<S> & WriterConfig;
/** The type of a part of a params schema (the items of a list param), derived the same way. */
export type ParamsOf<S extends JSONSchema> = FromSchema<S>;

/** What every plugin's constructor is handed besides its params. */
export interface PluginContext {
  /** Directory of the config file, for params that are relative paths. */
  configDir: string;
  /** The executor's tick time in seconds (for writers: the shortest of all executors). */
  tickTime: number;
  log: Logger;
}

export interface ProbeContext {
  /** Aborted when the probe passes its timeout or pollect shuts down. */
  signal: AbortSignal;
  /** The probe's budget in milliseconds. */
  timeoutMs: number;
  /** The executor's tick time in seconds. */
  tickTime: number;
  log: Logger;
  /**
   * A problem the source reports as data (a URL that is down, a certificate about to expire): the
   * core logs it once when it starts and once when the source's probes run clean again, never
   * every tick.
   */
  reportProblem(message: string): void;
  /**
   * Emits a notification (collectd's PUTNOTIF, a plugin's Notification.dispatch): an event, not a
   * sample, e.g. `ctx.notify({ severity: 'warning', message: 'disk almost full', type: 'df' })`.
   * The core fills in what is left out: the time (the tick's), the host (the `host` label, else
   * this machine's name), the plugin (the source type in lower case) and the source's id; then it
   * logs it once and hands it to every writer of the executor that implements Writer.notify.
   * Callable also after the probe returned (a child's line between probes): it goes out after
   * the next tick. See docs/notifications.md.
   */
  notify(n: NotificationInput): void;
  /**
   * Whether any writer of this source takes samples of this naming (Sample.naming): a source may
   * skip computing the samples no writer would get.
   */
  wants(naming: Naming): boolean;
}

export interface InitContext extends PluginContext {
  /** Aborted when init passes the probe timeout or pollect shuts down. */
  signal: AbortSignal;
}

/** The parts of a series' name: writers format from these and never re-split a dotted string. */
export interface SeriesName {
  /** The executor's collection (`pollect`). */
  readonly collection: string;
  /** The source type (`LoadAvg`). */
  readonly source: string;
  /** The source's configured `name`, if any. */
  readonly instance?: string;
  /** The sample's own name (pollect's valueName), if any. */
  readonly value?: string;
  /** pollect's dotted name, `<collection>.<Type>[.<name>][.<valueName>]`, built once. */
  readonly id: string;
}

/** A sample after the core has named, labelled and stamped it. */
export interface Point {
  /** Shared by every point of the series, tick after tick: writers may cache by it. */
  name: SeriesName;
  value: number;
  /** Read-only: may be the very object the source returned, and reused on later ticks. */
  labels: Labels;
  type: MetricType;
  /** Milliseconds since the epoch. */
  timestamp: number;
  help?: string;
  unit?: string;
  partOf?: PartOf;
  /** Id of the source that produced it (see SourceStatus.id). */
  source: string;
  /** As Sample.naming: only writers with this naming get the point. */
  naming?: Naming;
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
  /** Samples the core refused (no number, a bad type or label): the others were still written. */
  rejectedTotal: number;
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

/** collectd's notification severities. */
export type Severity = 'okay' | 'warning' | 'failure';

/** A notification as collectd has it: an event about a value or a plugin, not a sample. */
export interface Notification {
  /** Milliseconds since the epoch. */
  time: number;
  severity: Severity;
  host: string;
  plugin: string;
  pluginInstance?: string;
  type?: string;
  typeInstance?: string;
  message: string;
  meta?: Record<string, string | number | boolean>;
  /** Id of the source that emitted it, or `threshold` for the core's threshold checks. */
  source: string;
}

/** What a source hands to ProbeContext.notify: the core fills in what is missing. */
export type NotificationInput = Omit<Notification, 'time' | 'host' | 'plugin' | 'source'> & Partial<Pick<Notification, 'time' | 'host' | 'plugin'>>;

/** The core's counters of one writer (self-metrics). */
export interface WriterStats {
  writer: string;
  /** Points waiting in the core's buffer and inside the writer. */
  queueLength: number;
  written: number;
  dropped: number;
  errors: number;
  /** For a writer that takes notifications (Writer.notify): those it took, and those lost. */
  notifications?: { sent: number; dropped: number };
}

export interface WriterContext extends PluginContext {
  /** Points lost after write() took them (still unsent when the writer stopped): dropped, no longer written. */
  reportDropped(count: number): void;
  /** What the daemon is doing, read-only, for a writer that shows it (the Prometheus status page); absent outside a daemon. */
  status?: DaemonStatus;
}

/** A source as a person looking at the daemon sees it: `pending` until its first tick. */
export type SourceState = 'pending' | 'ok' | 'failing' | 'backing off' | 'skipped';

/** One probe that ran: when, how long, whether it succeeded. */
export interface ProbeRecord {
  /** Milliseconds since the epoch: the tick's start. */
  readonly at: number;
  readonly seconds: number;
  readonly ok: boolean;
}

export interface SourceView {
  readonly id: string;
  readonly type?: string;
  readonly name?: string;
  readonly state: SourceState;
  /** The last error and when (a source that recovered still shows it, with state ok). */
  readonly lastError?: { readonly message: string; readonly at: number };
  readonly consecutiveFailures: number;
  readonly errorsTotal: number;
  /** The last probes that ran, oldest first (a bounded number). */
  readonly probes: readonly ProbeRecord[];
  /** The first points of the last tick that produced any, and how many that tick produced in all. */
  readonly lastValues: readonly Point[];
  readonly lastValuesTotal: number;
}

export interface ExecutorView {
  readonly collection: string;
  readonly tickTime: number;
  /** Ticks whose batch went to the writers. */
  readonly ticks: number;
  readonly sources: readonly SourceView[];
}

/** The daemon's state, read-only: its executors and their sources. */
export interface DaemonStatus {
  /** True once every executor has handed its first tick to its writers. */
  ready(): boolean;
  executors(): readonly ExecutorView[];
}

/**
 * What write() may return: nothing, or how many of the batch's points it refused for good, and,
 * for a writer that takes a batch before its backend confirmed it (Graphite's resend window), when
 * it is delivered: the core keeps the batch in the writer's diskQueue until then.
 */
export type WriteOutcome = void | { dropped?: number; delivered?: Promise<unknown> };

/**
 * Base class of every source. A subclass gets its params (checked and defaulted by its schema) and
 * a context in the constructor and implements probe(); init() and shutdown() are optional
 * lifecycle hooks, as collectd's init and shutdown callbacks. The constructor checks what can be
 * known before start (it runs for `--check`); init() runs once at start, before the first tick.
 */
export abstract class Source<C extends SourceConfig = SourceConfig> {
  /** One line for `pollect sources`. */
  static description = '';
  /** JSON schema of this source's own params (an object schema); none: any params are accepted. */
  static schema: JsonSchema | undefined = undefined;
  /**
   * false: a failing init() stops pollect at start (a port it cannot bind). true: the backend may
   * come later (a Redis that is not up yet), so init() is retried before each probe until it works.
   */
  static initRetried = false;
  readonly config: C;
  readonly context: PluginContext;

  constructor(config: C, context: PluginContext = defaultContext()) {
    this.config = config;
    this.context = context;
  }

  init(_ctx: InitContext): void | Promise<void> {}

  abstract probe(ctx: ProbeContext): ProbeResult | Promise<ProbeResult>;

  /**
   * True when some of this source's figures are changes between two probes (a rate, a CPU
   * percent), so that its first probe reports none of them: `pollect --once` then probes it once
   * more, `--once-interval` (1 s) before the probe whose samples it writes.
   */
  get reportsChanges(): boolean {
    return false;
  }

  shutdown(): void | Promise<void> {}
}

/**
 * Base class of every writer: the protocol only. The core (the writer runtime) buffers batches,
 * counts written/dropped/errors, logs a failure once and its recovery once, retries with backoff
 * and bounds flush and stop by a deadline.
 */
export abstract class Writer<C extends WriterConfig = WriterConfig> {
  static description = '';
  static schema: JsonSchema | undefined = undefined;

  readonly config: C;
  readonly context: PluginContext;
  /** Set by the core: the writer's id, e.g. `Prometheus#1`. */
  id = '';
  /**
   * How this writer names series: the core leaves out the points marked for the other naming
   * (Sample.naming). `prometheus` for a writer that serves Prometheus' names, set in its constructor.
   */
  naming: Naming = 'pollect';
  /** False for a writer that takes only notifications (Alertmanager): the core hands it no samples. */
  takesSamples = true;

  constructor(config: C, context: PluginContext = defaultContext()) {
    this.config = config;
    this.context = context;
  }

  /** Opens what the writer needs (a port, a connection); a failure stops pollect at start. */
  start(_ctx: WriterContext): void | Promise<void> {}

  /**
   * Writes one batch. Resolve once the backend (or the writer's own send queue) has taken it;
   * throw and the core keeps the batch, counts the error and tries again after a backoff. Points
   * the writer refuses for good (a value its backend cannot store) are returned as `{ dropped }`.
   */
  abstract write(batch: Batch): WriteOutcome | Promise<WriteOutcome>;

  /** Delivers what the writer itself still holds. */
  flush(): void | Promise<void> {}

  stop(): void | Promise<void> {}

  /** Points held inside the writer (its own send queue), added to the core's queue length. */
  pending(): number {
    return 0;
  }

  /**
   * Set by a writer that takes notifications (Alertmanager, a webhook, DryRun): the core hands
   * each notification to it, retrying a throw with the same backoff as write().
   */
  notify?(list: readonly Notification[]): void | Promise<void>;
}

/** The static side of a Source subclass, as the registry and plugin loader see it. */
export interface SourceClass<C extends SourceConfig = SourceConfig> {
  new (config: C, context?: PluginContext): Source<C>;
  description?: string;
  schema?: JsonSchema;
  initRetried?: boolean;
  readonly name: string;
}

/** Any Source subclass, whatever its config type (the config is checked by its schema first). */
export interface AnySourceClass {
  new (config: never, context?: PluginContext): Source<SourceConfig>;
  description?: string;
  schema?: JsonSchema;
  initRetried?: boolean;
  readonly name: string;
}

export interface WriterClass<C extends WriterConfig = WriterConfig> {
  new (config: C, context?: PluginContext): Writer<C>;
  description?: string;
  schema?: JsonSchema;
  readonly name: string;
}

/** Any Writer subclass, whatever its config type (the config is checked by its schema first). */
export interface AnyWriterClass {
  new (config: never, context?: PluginContext): Writer<WriterConfig>;
  description?: string;
  schema?: JsonSchema;
  readonly name: string;
}

/** The error a source throws for a failure it understands; its message is shown as is. */
export class SourceError extends Error {
  override name = 'SourceError';
}

/**
 * What a writer's write() throws when the backend says when to try again (HTTP 429 or 503 with
 * `Retry-After`): the core waits at least `retryAfterMs` before the next attempt.
 */
export class RetryLaterError extends Error {
  override name = 'RetryLaterError';
  readonly retryAfterMs: number;

  constructor(message: string, retryAfterMs: number) {
    super(message);
    this.retryAfterMs = retryAfterMs;
  }
}

/**
 * A param that cannot work, found by a constructor (a regex that does not compile, a TLS file that
 * cannot be read). The config loader reports it at the param's path: `executors[0].sources[1].procRegex: ...`.
 */
export class ParamError extends Error {
  override name = 'ParamError';
  /** The param's path below the plugin's config, dotted: `tls.key`. */
  readonly param: string;

  constructor(param: string, message: string) {
    super(message);
    this.param = param;
  }
}

const SILENT: Logger = {
  error() {},
  warn() {},
  info() {},
  debug() {},
  child: () => SILENT,
};

/** For a plugin built outside pollect (a test, a script): the working directory, a 10 s tick, no log. */
function defaultContext(): PluginContext {
  return { configDir: process.cwd(), tickTime: 10, log: SILENT };
}
