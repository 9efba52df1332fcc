// Loads a config: find the file, parse it, substitute ${VAR}s, check the frame, resolve every
// source and writer type, check each one's params against its own schema. Every problem is
// collected with its path; the caller gets all of them at once.
import path from 'node:path';
import { ConfigError, formatPath } from './errors.js';
import { readConfig, resolveConfigPath } from './parse.js';
import { coerceYamlBooleans } from './yaml-booleans.js';
import { substituteEnv } from './env.js';
import { frameSchema, sourceParamsSchema, writerParamsSchema, type FrameConfig } from './schema.js';
import { validate } from './validate.js';
import { PluginError, resolveSourceClass, resolveWriterClass, type ResolvedClass } from './plugins.js';
import { registerSecretsIn } from '../core/secrets.js';
import type { FilterConfig } from '../executors/filter.js';
import type { ThresholdRule } from '../executors/thresholds.js';
import type { AnySourceClass, AnyWriterClass, JsonSchema, Labels, SourceConfig, WriterConfig } from '../sdk/index.js';

export interface ResolvedSource {
  config: SourceConfig;
  cls: AnySourceClass;
  /** A plugin's file (errors it throws later are traced back to it). */
  file?: string;
  /** The type as used in metric names. */
  typeName: string;
  /** Config path, e.g. executors[0].sources[1]. */
  path: string;
  /** Seconds between its probes, when it has a tickTime of its own (a multiple of its executor's). */
  tickTime?: number;
}

export interface ResolvedWriter {
  config: WriterConfig;
  cls: AnyWriterClass;
  typeName: string;
  path: string;
}

export interface ExecutorPlan {
  collection: string;
  tickTime: number;
  maxBackoff: number;
  sources: ResolvedSource[];
  /** Undefined: the global writers. */
  writers?: ResolvedWriter[];
  path: string;
  filter?: FilterConfig;
  /** The executor's thresholds, then the top-level ones, and the top-level thresholdTimeout. */
  thresholds?: { rules: ThresholdRule[]; timeout: number };
}

export interface PollectConfig {
  file: string;
  configDir: string;
  tickTime: number;
  shutdownGrace: number;
  selfMetrics: boolean;
  writers: ResolvedWriter[];
  executors: ExecutorPlan[];
  /** The top-level labels (already merged into every source's): the self-metrics get them too. */
  labels?: Labels;
}

type RawWriters = Pick<FrameConfig, 'writer' | 'writers'>;

export interface LoadOptions {
  env?: NodeJS.ProcessEnv;
  /** --dry-run: writers come from the command line, so a config without any is fine. */
  writersOptional?: boolean;
  /** The config was YAML: yes/no/on/off where a boolean is expected are booleans, as PyYAML reads them. */
  yaml?: boolean;
}

export async function loadConfig(name: string | undefined, opts: LoadOptions = {}): Promise<PollectConfig> {
  const file = resolveConfigPath(name);
  const { value, yaml } = await readConfig(file);
  return buildConfig(value, file, { yaml, ...opts });
}

export async function buildConfig(parsed: unknown, file: string, opts: LoadOptions = {}): Promise<PollectConfig> {
  const env = opts.env ?? process.env;
  const problems: string[] = [];
  const data = substituteEnv(parsed, env, problems);
  // Before anything can print a value (a problem, a constructor, a log line): the secret policy's one call.
  registerSecretsIn(data);
  if (problems.length) throw new ConfigError(problems);
  if (data === null || typeof data !== 'object' || Array.isArray(data)) {
    throw new ConfigError([`${file}: the config must be an object with "executors"`]);
  }
  if (opts.yaml) coerceYamlBooleans(frameSchema(), data);
  problems.push(...(await validate(frameSchema(), data, [], 'frame')));
  const raw = data as FrameConfig;
  // Frame problems do not stop the per-source checks: the user gets every problem at once.
  if (!Array.isArray(raw.executors)) throw new ConfigError(problems);
  problems.push(...seriesRuleProblems(raw.thresholds, ['thresholds']));
  raw.executors.forEach((ex, i) => isObject(ex) && problems.push(...seriesRuleProblems(ex.thresholds, ['executors', i, 'thresholds'])));

  const configDir = path.dirname(file);
  const pluginDirs = Array.isArray(raw.pluginDirs) ? raw.pluginDirs.filter((d) => typeof d === 'string') : [];
  const globalWriters = await resolveWriters(raw, [], configDir, pluginDirs, problems, opts.yaml);
  const executors: ExecutorPlan[] = [];
  for (const [i, ex] of raw.executors.entries()) {
    const base: (string | number)[] = ['executors', i];
    const sources: ResolvedSource[] = [];
    if (!isObject(ex) || !Array.isArray(ex.sources)) continue;
    const tickTime = ex.tickTime ?? raw.tickTime;
    for (const [j, src] of ex.sources.entries()) {
      const resolved = await resolvePlugin(SOURCE, src, [...base, 'sources', j], configDir, pluginDirs, problems, opts.yaml);
      if (resolved) sources.push(withLabels(withInterval(resolved, tickTime, problems), raw.labels, ex.labels));
    }
    const own = ex.writer || ex.writers ? await resolveWriters(ex, base, configDir, pluginDirs, problems, opts.yaml) : undefined;
    executors.push({
      collection: ex.collection,
      tickTime,
      maxBackoff: ex.maxBackoff,
      sources,
      writers: own,
      path: formatPath(base),
      filter: ex.filter,
      ...thresholdsOf(ex.thresholds, raw.thresholds, raw.thresholdTimeout),
    });
  }
  const withoutWriters = executors.filter((e) => (e.writers ?? globalWriters).length === 0);
  if (withoutWriters.length && !problems.length && !opts.writersOptional) {
    problems.push(`${withoutWriters[0]!.path}: no writer: add "writer" or "writers" (at the top level or in the executor), or run with --dry-run`);
  }
  if (problems.length) throw new ConfigError(problems);
  return {
    file,
    configDir,
    tickTime: raw.tickTime,
    shutdownGrace: raw.shutdownGrace,
    selfMetrics: raw.selfMetrics,
    writers: globalWriters,
    executors,
    labels: raw.labels,
  };
}

/** A `series` rule names its series by pollect's name: collectd's selectors beside it would be ignored. */
function seriesRuleProblems(rules: unknown, at: (string | number)[]): string[] {
  if (!Array.isArray(rules)) return [];
  return rules.flatMap((r: unknown, i) => {
    if (!isObject(r) || r['series'] === undefined) return [];
    const beside = ['host', 'plugin', 'pluginInstance', 'type', 'typeInstance'].filter((k) => r[k] !== undefined);
    return beside.length ? [`${formatPath([...at, i])}: "series" selects by pollect's name; leave out ${beside.join(', ')} (or "series")`] : [];
  });
}

function thresholdsOf(own: ThresholdRule[] | undefined, global: ThresholdRule[] | undefined, timeout: number): Pick<ExecutorPlan, 'thresholds'> {
  const rules = [...(own ?? []), ...(global ?? [])];
  return rules.length ? { thresholds: { rules, timeout } } : {};
}

/** The source with the top-level and executor labels under its own: the source's win, then the executor's. */
function withLabels(source: ResolvedSource, global: Labels | undefined, executor: Labels | undefined): ResolvedSource {
  if (!global && !executor) return source;
  return { ...source, config: { ...source.config, labels: { ...global, ...executor, ...source.config.labels } } };
}

async function resolveWriters(
  holder: RawWriters,
  base: (string | number)[],
  configDir: string,
  pluginDirs: string[],
  problems: string[],
  yaml = false,
): Promise<ResolvedWriter[]> {
  const entries: [WriterConfig, (string | number)[]][] = [];
  if (holder.writer) entries.push([holder.writer, [...base, 'writer']]);
  for (const [k, w] of (Array.isArray(holder.writers) ? holder.writers : []).entries()) entries.push([w, [...base, 'writers', k]]);
  const out: ResolvedWriter[] = [];
  for (const [w, at] of entries) {
    const resolved = await resolvePlugin(WRITER, w, at, configDir, pluginDirs, problems, yaml);
    if (resolved) out.push(resolved);
  }
  return out;
}

/** How a source or a writer is found and checked. */
interface PluginKind<T> {
  /** Prefix of its precompiled schemas' names (`source/LoadAvg`). */
  key: string;
  resolve(type: string, configDir: string, pluginDirs: readonly string[]): Promise<ResolvedClass<T>>;
  /** Its own params' schema plus the keys every plugin of the kind accepts. */
  params(own: JsonSchema | undefined): JsonSchema;
}

const SOURCE: PluginKind<AnySourceClass> = { key: 'source', resolve: resolveSourceClass, params: sourceParamsSchema };
const WRITER: PluginKind<AnyWriterClass> = { key: 'writer', resolve: resolveWriterClass, params: writerParamsSchema };

/** The class of one configured plugin with its checked params, or undefined with the problems pushed. */
async function resolvePlugin<T extends { schema?: JsonSchema }>(
  kind: PluginKind<T>,
  item: unknown,
  at: (string | number)[],
  configDir: string,
  pluginDirs: string[],
  problems: string[],
  yaml = false,
): Promise<{ config: { type: string }; cls: T; typeName: string; file?: string; path: string } | undefined> {
  if (!isObject(item) || typeof item.type !== 'string') return undefined;
  try {
    const { cls, typeName, builtin, file } = await kind.resolve(item.type, configDir, pluginDirs);
    if (yaml) coerceYamlBooleans(kind.params(cls.schema), item);
    const errs = await validate(kind.params(cls.schema), item, at, builtin ? `${kind.key}/${typeName}` : undefined);
    if (errs.length === 0) return { config: item as { type: string }, cls, typeName, file, path: formatPath(at) };
    problems.push(...errs);
  } catch (err) {
    problems.push(`${formatPath([...at, 'type'])}: ${pluginMessage(err)}`);
  }
  return undefined;
}

/**
 * A source's own tickTime as a whole number of its executor's ticks (rounded up): it is probed on
 * every n-th tick. One shorter than the executor's cannot be kept.
 */
function withInterval(source: ResolvedSource, executorTick: number, problems: string[]): ResolvedSource {
  const own = (source.config as { tickTime?: number }).tickTime;
  if (own === undefined) return source;
  if (own < executorTick) {
    problems.push(`${source.path}.tickTime: ${own} is shorter than its executor's tickTime (${executorTick}): a source is probed at most once a tick`);
    return source;
  }
  // The epsilon keeps 0.3 / 0.1 (3.0000000000000004) at 3 ticks.
  const ticks = Math.ceil(own / executorTick - 1e-9);
  return { ...source, tickTime: ticks * executorTick };
}

function isObject(v: unknown): v is Record<string, unknown> & { type?: unknown; sources?: unknown } {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function pluginMessage(err: unknown): string {
  return err instanceof PluginError ? err.message : `cannot load: ${(err as Error).message}`;
}
