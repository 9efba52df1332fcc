// The config's JSON schema: the frame (executors, writers, tickTime) and, per source and writer,
// its own params schema merged with the keys every source or writer accepts.
import type { JsonSchema } from '../sdk/index.js';

/** The longest interval anywhere in a config: longer ones are typos (tickTime: 3e6 is 35 days). */
export const MAX_SECONDS = 31 * 86_400;
/** The shortest tick: below this, a tick's own work is most of what the process does. */
export const MIN_TICK_SECONDS = 0.1;

const positiveSeconds: JsonSchema = { type: 'number', exclusiveMinimum: 0, maximum: MAX_SECONDS };
const tickSeconds: JsonSchema = { type: 'number', minimum: MIN_TICK_SECONDS, maximum: MAX_SECONDS };

/** Keys every source accepts besides its own params. */
export const commonSourceProperties: Record<string, JsonSchema> = {
  type: { type: 'string', minLength: 1, description: 'Source type: a built-in name, a plugin type, or a path to a plugin file' },
  name: { type: 'string', minLength: 1, description: 'Inserted into the metric name: <collection>.<Type>.<name>' },
  labels: { type: 'object', additionalProperties: { type: 'string' }, description: 'Static labels added to every sample' },
  timeout: { ...positiveSeconds, description: 'Seconds a probe may take (default: the tickTime)' },
};

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
};

const looseItem = (required: string): JsonSchema => ({
  type: 'object',
  required: [required],
  properties: { [required]: { type: 'string', minLength: 1 } },
});

/** The frame: everything but each source's and writer's own params. */
export function frameSchema(sourceItem: JsonSchema = looseItem('type'), writerItem: JsonSchema = looseItem('type')): JsonSchema {
  const writerKeys: Record<string, JsonSchema> = {
    writer: { ...writerItem, description: 'One writer' },
    writers: { type: 'array', items: writerItem, description: 'Writers' },
  };
  return {
    type: 'object',
    additionalProperties: false,
    required: ['executors'],
    properties: {
      $schema: { type: 'string' },
      tickTime: { ...tickSeconds, default: 10, description: `Seconds between ticks for executors without their own (${MIN_TICK_SECONDS} to ${MAX_SECONDS}, 31 days)` },
      ...writerKeys,
      executors: {
        type: 'array',
        minItems: 1,
        items: {
          type: 'object',
          additionalProperties: false,
          required: ['sources'],
          properties: {
            collection: { type: 'string', minLength: 1, description: 'First segment of every metric name (default "pollect")' },
            tickTime: { ...tickSeconds, description: "Seconds between this executor's ticks" },
            maxBackoff: { ...positiveSeconds, default: 300, description: 'Longest wait, in seconds, between probes of a failing source' },
            sources: { type: 'array', items: sourceItem },
            ...writerKeys,
          },
        },
      },
      pluginDirs: { type: 'array', items: { type: 'string' }, description: 'Folders with <Type>Source plugin files, relative to the config file' },
      shutdownGrace: { ...positiveSeconds, default: 5, description: 'Seconds the whole shutdown may take: running probes, then flushing the writers' },
      selfMetrics: { type: 'boolean', default: true, description: "Send pollect's own metrics (sources, writers, process) to every writer" },
      threads: { type: 'integer', description: 'Accepted for the Python pollect\'s configs; ignored (sources run concurrently)' },
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

function mergeParams(own: JsonSchema | undefined, common: Record<string, JsonSchema>, typeConst?: string): JsonSchema {
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
    additionalProperties: additionalProperties ?? (own?.properties === undefined),
  };
}
