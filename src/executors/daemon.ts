// Builds executors, sources and writers from a loaded config and runs them: start, run forever or
// once, and stop in order within one deadline (timers, running probes and their batches, sources,
// then the writers' flush and stop).
import path from 'node:path';
import type { PollectConfig, ResolvedWriter } from '../config/load.js';
import type { Logger, PluginContext, Source, SourceConfig, Writer, WriterConfig } from '../sdk/index.js';
import { ParamError } from '../sdk/index.js';
import { errorMessage } from '../log.js';
import { DryRunWriter } from '../writers/dryrun/index.js';
import { ConfigError } from '../config/errors.js';
import { Executor } from './executor.js';
import { SourceRunner } from './source-runner.js';
import { WriterRuntime } from './writer-runtime.js';
import { DiskQueue } from './disk-queue.js';
import { compileFilter, type FilterConfig, type PointFilter } from './filter.js';
import { SelfMetricsSource, selfSeriesName } from './self-metrics.js';
import { within } from '../core/clock.js';
import { CrashGuard } from './crash-guard.js';
import { DEFAULT_BUFFER_SIZE } from '../config/schema.js';

export interface DaemonOptions {
  /** Replace every configured writer with one DryRun writer. */
  dryRun?: boolean;
  /** Used instead of DryRun for --dry-run (tests pass their own). */
  dryRunWriter?: Writer;
  /** Self-metrics on or off whatever the config says (--dry-run leaves them out unless asked). */
  selfMetrics?: boolean;
  log: Logger;
}

export class StartError extends Error {}

export class Daemon {
  readonly executors: Executor[] = [];
  readonly writers: WriterRuntime[] = [];
  private readonly config: PollectConfig;
  /** The folders of the writers' disk queues (one writer each). */
  private readonly diskQueues = new Set<string>();
  private readonly log: Logger;
  private started = false;
  /** The executor of the self-metrics, if on: it reports on the others' ticks. */
  private selfExecutor: Executor | undefined;
  /** Errors nothing caught are traced back to plugin files; install() it where the process is ours. */
  readonly crashGuard: CrashGuard;

  constructor(config: PollectConfig, opts: DaemonOptions) {
    this.config = config;
    this.log = opts.log;
    this.crashGuard = new CrashGuard(opts.log);
    const problems: string[] = [];
    // Writers see the shortest tick of any executor.
    const writerTick = Math.min(config.tickTime, ...config.executors.map((e) => e.tickTime));
    const dry = opts.dryRun ? (opts.dryRunWriter ?? new DryRunWriter({ type: 'DryRun', format: 'text' }, this.context(writerTick))) : undefined;
    const dryRuntime = dry ? this.adopt(dry, 'DryRun', undefined) : undefined;
    const global = dryRuntime ? [dryRuntime] : config.writers.flatMap((w) => this.instantiate(w, writerTick, problems));
    const sourceIds = new Map<string, number>();
    for (const plan of config.executors) {
      const writers = dryRuntime ? [dryRuntime] : plan.writers ? plan.writers.flatMap((w) => this.instantiate(w, writerTick, problems)) : global;
      const runners = plan.sources.flatMap((s) => {
        let source: Source<SourceConfig>;
        try {
          source = new s.cls(s.config as never, this.context(plan.tickTime)) as Source<SourceConfig>;
        } catch (err) {
          problems.push(problemAt(s.path, err));
          return [];
        }
        const base = [plan.collection, s.typeName, s.config.name].filter(Boolean).join('.');
        const n = sourceIds.get(base) ?? 0;
        sourceIds.set(base, n + 1);
        const runner = new SourceRunner({
          id: n === 0 ? base : `${base}#${n}`,
          collection: plan.collection,
          typeName: s.typeName,
          source,
          config: s.config,
          tickTime: plan.tickTime,
          maxBackoff: plan.maxBackoff,
          log: this.log,
          configDir: config.configDir,
          recreate: () => new s.cls(s.config as never, this.context(plan.tickTime)) as Source<SourceConfig>,
        });
        if (s.file) this.crashGuard.watch(s.file, runner);
        return runner;
      });
      const filter = plan.filter && compileFilter(plan.filter);
      this.executors.push(new Executor({ collection: plan.collection, tickTime: plan.tickTime, runners, writers, filter }));
    }
    // A constructor that rejects its params (a bad regex, say) is a config error with its path.
    if (problems.length) throw new ConfigError(problems);
    if (opts.selfMetrics ?? (config.selfMetrics && !opts.dryRun)) this.addSelfMetrics();
  }

  /** One more executor, at the config's tickTime, whose source reports on all the others to every writer. */
  private addSelfMetrics(): void {
    const others = this.executors.slice();
    const source = new SelfMetricsSource({
      sources: () => others.flatMap((e) => e.runners.flatMap((r) => (r.last ? [r.last] : []))),
      writers: () => this.writers.map((w) => w.stats()),
      lagMs: () => Math.max(0, ...others.map((e) => e.lagMs)),
    });
    const runner = new SourceRunner({
      id: 'pollect.self',
      collection: 'pollect',
      typeName: 'Self',
      source,
      // The top-level labels (a host name) tell whose pollect the metrics are.
      config: { type: 'Self', labels: this.config.labels },
      tickTime: this.config.tickTime,
      maxBackoff: this.config.tickTime,
      log: this.log,
      configDir: this.config.configDir,
      nameOf: selfSeriesName,
    });
    this.selfExecutor = new Executor({ collection: 'pollect', tickTime: this.config.tickTime, runners: [runner], writers: this.writers.slice() });
    this.executors.push(this.selfExecutor);
  }

  private context(tickTime: number): PluginContext {
    return { configDir: this.config.configDir, tickTime, log: this.log };
  }

  private instantiate(w: ResolvedWriter, tickTime: number, problems: string[]): WriterRuntime[] {
    try {
      const writer = new w.cls(w.config as never, this.context(tickTime)) as Writer<WriterConfig>;
      const disk = w.config.diskQueue === undefined ? undefined : path.resolve(this.config.configDir, w.config.diskQueue);
      if (disk !== undefined && this.diskQueues.has(disk))
        throw new ParamError('diskQueue', `${disk} is another writer's disk queue: give each writer its own folder`);
      if (disk !== undefined) this.diskQueues.add(disk);
      const filter = (w.config as { filter?: FilterConfig }).filter;
      return [this.adopt(writer, w.typeName, w.config.bufferSize, disk, filter && compileFilter(filter))];
    } catch (err) {
      problems.push(problemAt(w.path, err));
      return [];
    }
  }

  private adopt(writer: Writer, typeName: string, bufferSize: number | undefined, diskQueue?: string, filter?: PointFilter): WriterRuntime {
    const same = this.writers.filter((x) => x.id === typeName || x.id.startsWith(`${typeName}#`)).length;
    writer.id = same === 0 ? typeName : `${typeName}#${same}`;
    const disk = diskQueue === undefined ? undefined : new DiskQueue(diskQueue, this.log);
    const runtime = new WriterRuntime(writer, { bufferSize: bufferSize ?? DEFAULT_BUFFER_SIZE, log: this.log, disk, filter });
    this.writers.push(runtime);
    return runtime;
  }

  /**
   * Starts every writer, then runs every source's init(). A writer that cannot start (port in use)
   * or a source whose init fails and is not retried (HttpIngress cannot bind) is a StartError.
   */
  async startAll(): Promise<void> {
    for (const w of this.writers) {
      try {
        await w.writer.start({ ...this.context(this.config.tickTime), reportDropped: (n) => w.lost(n) });
        // What a disk queue kept from the last run goes first.
        w.restore();
      } catch (err) {
        await this.stopWriters(Date.now() + this.config.shutdownGrace * 1000);
        const msg = errorMessage(err);
        throw new StartError(msg.includes(w.id) ? msg : `writer ${w.id}: ${msg}`);
      }
    }
    const runners = this.executors.flatMap((e) => e.runners);
    const results = await Promise.allSettled(runners.map((r) => r.init()));
    const failed: string[] = [];
    results.forEach((res, i) => {
      if (res.status === 'fulfilled') return;
      const r = runners[i]!;
      const msg = `${r.id}: init failed: ${errorMessage(res.reason)}`;
      if ((r.source.constructor as { initRetried?: boolean }).initRetried) this.log.warn(`${msg}; retried before each probe`);
      else failed.push(msg);
    });
    if (failed.length) {
      await this.stop();
      throw new StartError(failed.join('\n'));
    }
    this.started = true;
  }

  async start(): Promise<void> {
    await this.startAll();
    for (const e of this.executors) e.start();
    this.log.info(`started ${this.executors.length} executor(s), ${this.writers.length} writer(s)`);
  }

  /**
   * One tick of every executor, written and flushed; true when every source succeeded and every
   * writer delivered every point (a write that failed and then succeeded on a retry delivered).
   */
  async runOnce(): Promise<boolean> {
    await this.startAll();
    const others = this.executors.filter((e) => e !== this.selfExecutor);
    const batches = await Promise.all(others.map((e) => e.runTick()));
    // The self-metrics report on the tick that just ran, so they run after it.
    if (this.selfExecutor) batches.push(await this.selfExecutor.runTick());
    await this.stop();
    const sourcesOk = batches.every((b) => b.sources.every((s) => s.success));
    const writersOk = this.writers.every((w) => w.dropped === 0 && w.stats().queueLength === 0);
    return sourcesOk && writersOk;
  }

  /**
   * Stops everything within shutdownGrace: timers, then the running ticks (their batches still
   * reach the writers), the sources, and last the writers' flush and stop. Running probes and the
   * sources' shutdown get the first half of the grace at most, so that the writers always have
   * the rest to deliver what the last ticks produced.
   */
  async stop(): Promise<void> {
    const graceMs = this.config.shutdownGrace * 1000;
    const deadline = Date.now() + graceMs;
    const sourcesDeadline = deadline - graceMs / 2;
    const ticks = Promise.all(this.executors.map((e) => e.stop()));
    await within(ticks, sourcesDeadline);
    await Promise.all(this.executors.flatMap((e) => e.runners.map((r) => r.shutdown(sourcesDeadline))));
    // Ticks that were waiting on a probe just aborted now hand their batch over.
    await within(ticks, deadline);
    await this.stopWriters(deadline);
    this.started = false;
  }

  private async stopWriters(deadline: number): Promise<void> {
    // In parallel: a slow backend must not delay the others' shutdown.
    await Promise.all(this.writers.map((w) => w.stop(deadline)));
  }

  get running(): boolean {
    return this.started;
  }
}

function problemAt(path: string, err: unknown): string {
  if (err instanceof ParamError) return `${path}.${err.param}: ${errorMessage(err)}`;
  return `${path}: ${errorMessage(err)}`;
}
