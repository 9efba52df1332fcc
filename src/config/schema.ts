// The config's JSON schema: the frame (executors, writers, tickTime) and, per source and writer,
// its own params schema merged with the keys every source or writer accepts.
import { sourceKeys, type JsonSchema, type ParamsOf } from '../sdk/index.js';
import { filterSchema } from '../executors/filter.js';
import { thresholdsSchema } from '../executors/thresholds.js';

/** The longest interval anywhere in a config: longer ones are typos (tickTime: 3e6 is 35 days). */
export const MAX_SECONDS = 31 * 86_400;
/** The shortest tick: below this, a tick's own work is most of what the process does. */
export const MIN_TICK_SECONDS = 0.1;

const positiveSeconds = { type: 'number', exclusiveMinimum: 0, maximum: MAX_SECONDS } as const;
const tickSeconds = { type: 'number', minimum: MIN_TICK_SECONDS, maximum: MAX_SECONDS } as const;
const labelsOf = (where: string) =>
  ({ type: 'object', additionalProperties: { type: 'string' }, description: `Labels added to every sample ${where}` }) as const;

/** Keys every source accepts besides its own params (defined with the SDK's SourceConfig type). */
export const commonSourceProperties: Record<string, JsonSchema> = sourceKeys;

/** Points the core keeps for a writer while it cannot write. */
export const DEFAULT_BUFFER_SIZE = 100_000;

export const commonWriterProperties: Record<string, JsonSchema> = {
  type: { type: 'string', minLength: 1, description: 'Writer type' },
  bufferSize: {
    type: 'integer',
    minimum: 1,
    default: DEFAULT_BUFFER_SIZE,
    description: 'Points kept while the writer cannot write; the oldest go first',
  },
  filter: { ...filterSchema, description: 'Which samples and labels this writer gets (names and label names as globs: * and ?)' },
  batchWait: {
    type: 'number',
    minimum: 0,
    description: 'Seconds the oldest queued batch may wait for others, which then go out in one write (several executors ticking together); 0: none',
  },
  batchSize: { type: 'integer', minimum: 1, description: 'With batchWait: points of one write at most; once this many are queued they go out at once' },
};

/** A source or writer as the frame sees it: a type; its own params are checked by its own schema. */
const looseItem = {
  type: 'object',
  required: ['type'],
  properties: { type: { type: 'string', minLength: 1 } },
} as const satisfies JsonSchema;

const writerKeys = {
  writer: { ...looseItem, description: 'One writer' },
  writers: { type: 'array', items: looseItem, description: 'Writers' },
} as const;

/** The frame: everything but each source's and writer's own params. */
const frame = {
  type: 'object',
  additionalProperties: false,
  required: ['executors'],
  properties: {
    $schema: { type: 'string' },
    tickTime: { ...tickSeconds, default: 10, description: 'Seconds between ticks for executors without their own (0.1 to 2678400, 31 days)' },
    labels: labelsOf("(pollect's own metrics included); an executor's or a source's labels override them"),
    ...writerKeys,
    executors: {
      type: 'array',
      minItems: 1,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['sources'],
        properties: {
          collection: { type: 'string', minLength: 1, default: 'pollect', description: 'First segment of every metric name' },
          tickTime: { ...tickSeconds, description: "Seconds between this executor's ticks (default: the top-level tickTime)" },
          maxBackoff: { ...positiveSeconds, default: 300, description: 'Longest wait, in seconds, between probes of a failing source' },
          labels: labelsOf("of this executor's sources; a source's labels override them"),
          filter: { ...filterSchema, description: "Which of this executor's samples and labels reach its writers (globs: * and ?)" },
          thresholds: {
            ...thresholdsSchema,
            description: "Thresholds checked on this executor's samples, before the top-level ones (see docs/notifications.md)",
          },
          sources: { type: 'array', items: looseItem },
          ...writerKeys,
        },
      },
    },
    thresholds: {
      ...thresholdsSchema,
      description: "Thresholds checked on every executor's samples, as collectd's threshold plugin (see docs/notifications.md)",
    },
    thresholdTimeout: {
      type: 'integer',
      minimum: 1,
      default: 2,
      description: "Intervals without a value before a series a threshold covers is notified as missing: collectd's Timeout",
    },
    pluginDirs: { type: 'array', items: { type: 'string' }, description: 'Folders with <Type>Source plugin files, relative to the config file' },
    shutdownGrace: { ...positiveSeconds, default: 5, description: 'Seconds the whole shutdown may take: running probes, then flushing the writers' },
    selfMetrics: { type: 'boolean', default: true, description: "Send pollect's own metrics (sources, writers, process) to every writer" },
    threads: { type: 'integer', description: "Accepted for the Python pollect's configs; ignored (sources run concurrently)" },
  },
} as const satisfies JsonSchema;

/** A config that passed the frame's checks, its defaults filled in. */
export type FrameConfig = ParamsOf<typeof frame>;

/** The frame's schema; `pollect schema` passes the full item schemas of every source and writer type. */
export function frameSchema(sourceItem?: JsonSchema, writerItem?: JsonSchema): JsonSchema {
  if (!sourceItem && !writerItem) return frame;
  const writers = writerItem && { writer: { ...writerItem, description: 'One writer' }, writers: { ...writerKeys.writers, items: writerItem } };
  const executor = frame.properties.executors.items;
  return {
    ...frame,
    properties: {
      ...frame.properties,
      ...writers,
      executors: {
        ...frame.properties.executors,
        items: { ...executor, properties: { ...executor.properties, ...writers, ...(sourceItem && { sources: { type: 'array', items: sourceItem } }) } },
      },
    },
  };
}

/** A source's full schema: its own params plus the common keys, nothing else. */
export function sourceParamsSchema(own: JsonSchema | undefined, typeConst?: string): JsonSchema {
  return mergeParams(own, commonSourceProperties, typeConst);
}

export function writerParamsSchema(own: JsonSchema | undefined, typeConst?: string): JsonSchema {
  return mergeParams(own, commonWriterProperties, typeConst);
}

// One merged schema per plugin schema (and type): ajv caches what it compiled by schema object, so
// a new object at every config load (a reload, a plugin's schema, tests) was compiled again and kept.
const merged = new WeakMap<Record<string, JsonSchema>, WeakMap<JsonSchema, Map<string, JsonSchema>>>();
const NO_PARAMS: JsonSchema = {};

function mergeParams(own: JsonSchema | undefined, common: Record<string, JsonSchema>, typeConst?: string): JsonSchema {
  let byOwn = merged.get(common);
  if (!byOwn) merged.set(common, (byOwn = new WeakMap()));
  let byType = byOwn.get(own ?? NO_PARAMS);
  if (!byType) byOwn.set(own ?? NO_PARAMS, (byType = new Map()));
  let schema = byType.get(typeConst ?? '');
  if (!schema) byType.set(typeConst ?? '', (schema = buildParams(own, common, typeConst)));
  return schema;
}

function buildParams(own: JsonSchema | undefined, common: Record<string, JsonSchema>, typeConst?: string): JsonSchema {
  const base = own ?? {};
  const { properties, required, additionalProperties, type: _t, ...rest } = base;
  return {
    ...rest,
    type: 'object',
    properties: {
      ...common,
      ...properties,
      ...(typeConst ? { type: { const: typeConst } } : {}),
    },
    required: ['type', ...(required ?? [])],
    // A source that lists no params at all (a quick plugin) may take any; one that lists them takes only those.
    additionalProperties: additionalProperties ?? own?.properties === undefined,
  };
}
