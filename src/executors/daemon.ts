// Builds executors, sources and writers from a loaded config and runs them: start, run forever or
// once, and stop in order within one deadline (timers, running probes and their batches, sources,
// then the writers' flush and stop).
import path from 'node:path';
import type { ExecutorPlan, PollectConfig, ResolvedWriter } from '../config/load.js';
import type { Logger, PluginContext, Source, SourceConfig, Writer, WriterConfig } from '../sdk/index.js';
import { ParamError } from '../sdk/index.js';
import { errorMessage } from '../log.js';
import { DryRunWriter } from '../writers/dryrun/index.js';
import { ConfigError } from '../config/errors.js';
import { Executor } from './executor.js';
import { Deadlines, SourceRunner } from './source-runner.js';
import { WriterRuntime } from './writer-runtime.js';
import { DiskQueue } from './disk-queue.js';
import { compileFilter, type FilterConfig, type PointFilter } from './filter.js';
import { SelfMetricsSource, selfSeriesName } from './self-metrics.js';
import { sleep, systemClock, within, type Clock } from '../core/clock.js';
import { CrashGuard } from './crash-guard.js';
import { DEFAULT_BUFFER_SIZE } from '../config/schema.js';
import { freeId, match, sameExecutor, sameWriter, sameWriterType, type Matched } from './reload.js';
import { StatusBoard } from './status.js';
import { ThresholdChecker, namesLikeCollectd, type SourceInfo } from './thresholds.js';

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

type Watch = [file: string, runner: SourceRunner];

/** A new config, built but not started: what a reload keeps, replaces, adds and removes. */
interface ReloadPlan {
  config: PollectConfig;
  writers: Matched<[WriterRuntime, ResolvedWriter], ResolvedWriter>;
  /** The new writer of each runtime in `writers.replaced`. */
  replacements: Map<WriterRuntime, Writer>;
  /** Runtimes of `writers.added`, held (queueing) until their writer has started. */
  added: Map<WriterRuntime, ResolvedWriter>;
  /** Every writer of the new config, in its order. */
  nextWriters: WriterRuntime[];
  executors: Matched<[Executor, ExecutorPlan], ExecutorPlan>;
  /** The new config's executors, in its order: kept ones and new ones. */
  nextExecutors: [Executor, ExecutorPlan][];
  /** Their writers in the new config. */
  executorWriters: Map<Executor, WriterRuntime[]>;
  fresh: Executor[];
  watches: Watch[];
}

export class Daemon {
  readonly executors: Executor[] = [];
  readonly writers: WriterRuntime[] = [];
  private config: PollectConfig;
  private readonly opts: DaemonOptions;
  private readonly log: Logger;
  private started = false;
  private stopping = false;
  /** The executor of the self-metrics, if on: it reports on the others' ticks. */
  private selfExecutor: Executor | undefined;
  /** The config each running writer and executor was built from: a reload compares against these. */
  private readonly writerConfigs = new Map<WriterRuntime, ResolvedWriter>();
  private readonly plans = new Map<Executor, ExecutorPlan>();
  /** --dry-run's one writer, which every executor writes to whatever the config says. */
  private readonly dryRuntime: WriterRuntime | undefined;
  /** Reloads run one after the other; stop() waits for the one under way. */
  private reloading: Promise<unknown> = Promise.resolve();
  /** The outcome of the last reload; the config loaded at start counts as the first. */
  private readonly reloadState = { successful: true, timestampSeconds: Date.now() / 1000 };
  /** Errors nothing caught are traced back to plugin files; install() it where the process is ours. */
  readonly crashGuard: CrashGuard;
  /** What the executors and their sources are doing, for writers that show it. */
  readonly status = new StatusBoard();
  /** One timer for all the probes' timeouts. */
  private readonly deadlines = new Deadlines();

  constructor(config: PollectConfig, opts: DaemonOptions) {
    this.config = config;
    this.opts = opts;
    this.log = opts.log;
    this.crashGuard = new CrashGuard(opts.log);
    const problems: string[] = [];
    const writerTick = shortestTick(config);
    if (opts.dryRun) {
      const dry = opts.dryRunWriter ?? new DryRunWriter({ type: 'DryRun', format: 'text' }, this.context(writerTick));
      this.dryRuntime = this.adopt(dry, 'DryRun', undefined);
      this.writers.push(this.dryRuntime);
    }
    const runtimes = new Map<ResolvedWriter, WriterRuntime>();
    if (!opts.dryRun) {
      const all = [...config.writers, ...config.executors.flatMap((e) => e.writers ?? [])];
      problems.push(...diskQueueProblems(all, config.configDir));
      for (const w of all) {
        const writer = this.buildWriter(w, writerTick, problems);
        if (!writer) continue;
        const runtime = this.adopt(writer, w.typeName, w);
        this.writers.push(runtime);
        this.writerConfigs.set(runtime, w);
        runtimes.set(w, runtime);
      }
    }
    const sourceIds = new Set<string>();
    const watches: Watch[] = [];
    for (const plan of config.executors) {
      const executor = this.buildExecutor(plan, this.writersOf(plan, config, runtimes), sourceIds, problems, watches);
      this.executors.push(executor);
      this.plans.set(executor, plan);
    }
    for (const [file, runner] of watches) this.crashGuard.watch(file, runner);
    for (const e of this.executors) this.track(e);
    // A constructor that rejects its params (a bad regex, say) is a config error with its path.
    if (problems.length) throw new ConfigError(problems);
    if (this.wantsSelfMetrics(config)) this.addSelfMetrics();
  }

  /** The runtimes an executor of `config` writes to. */
  private writersOf(plan: ExecutorPlan, config: PollectConfig, runtimes: Map<ResolvedWriter, WriterRuntime>): WriterRuntime[] {
    if (this.dryRuntime) return [this.dryRuntime];
    return (plan.writers ?? config.writers).flatMap((w) => runtimes.get(w) ?? []);
  }

  /**
   * Builds an executor's sources (their constructors check their params); ids taken go into `ids`,
   * and the plugin files whose stray errors its runners own into `watches`.
   */
  private buildExecutor(plan: ExecutorPlan, writers: WriterRuntime[], ids: Set<string>, problems: string[], watches: Watch[]): Executor {
    const infos = new Map<string, SourceInfo>();
    const runners = plan.sources.flatMap((s) => {
      const tickTime = s.tickTime ?? plan.tickTime;
      let source: Source<SourceConfig>;
      try {
        source = new s.cls(s.config as never, this.context(tickTime)) as Source<SourceConfig>;
      } catch (err) {
        problems.push(problemAt(s.path, err));
        return [];
      }
      const id = freeId([plan.collection, s.typeName, s.config.name].filter(Boolean).join('.'), ids);
      ids.add(id);
      const runner = new SourceRunner({
        id,
        collection: plan.collection,
        typeName: s.typeName,
        source,
        config: s.config,
        tickTime,
        ownTickTime: s.tickTime !== undefined,
        maxBackoff: plan.maxBackoff,
        log: this.log,
        configDir: this.config.configDir,
        recreate: () => new s.cls(s.config as never, this.context(tickTime)) as Source<SourceConfig>,
        deadlines: this.deadlines,
      });
      if (s.file) watches.push([s.file, runner]);
      infos.set(id, { collectd: namesLikeCollectd(s.typeName, s.config as { format?: unknown }), interval: tickTime });
      return runner;
    });
    const filter = plan.filter && compileFilter(plan.filter);
    const thresholds =
      plan.thresholds &&
      new ThresholdChecker(plan.thresholds.rules, {
        timeout: plan.thresholds.timeout,
        sources: infos,
        defaultInterval: plan.tickTime,
        host: this.config.labels?.['host'],
      });
    return new Executor({ collection: plan.collection, tickTime: plan.tickTime, runners, writers, filter, log: this.log, thresholds });
  }

  /** Puts the executor on the status board (what writers show of the daemon). */
  private track(e: Executor): void {
    e.onBatch = this.status.track(
      e.collection,
      e.tickTime,
      e.runners.map((r) => r.id),
    );
  }

  private wantsSelfMetrics(config: PollectConfig): boolean {
    return this.opts.selfMetrics ?? (config.selfMetrics && !this.opts.dryRun);
  }

  /** One more executor, at the config's tickTime, whose source reports on all the others to every writer. */
  private addSelfMetrics(): void {
    const others = (): Executor[] => this.executors.filter((e) => e !== this.selfExecutor);
    const source = new SelfMetricsSource({
      sources: () => others().flatMap((e) => e.runners.flatMap((r) => (r.last ? [r.last] : []))),
      writers: () => this.writers.map((w) => w.stats()),
      lagMs: () => Math.max(0, ...others().map((e) => e.lagMs)),
      reload: () => this.reloadState,
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
      deadlines: this.deadlines,
    });
    const onBatch = this.status.track('pollect', this.config.tickTime, [runner.id]);
    this.selfExecutor = new Executor({ collection: 'pollect', tickTime: this.config.tickTime, runners: [runner], writers: this.writers.slice(), onBatch });
    this.executors.push(this.selfExecutor);
  }

  private context(tickTime: number): PluginContext {
    return { configDir: this.config.configDir, tickTime, log: this.log };
  }

  /** Constructs a writer (its constructor checks its params); a problem goes to `problems`. */
  private buildWriter(w: ResolvedWriter, tickTime: number, problems: string[]): Writer | undefined {
    try {
      return new w.cls(w.config as never, this.context(tickTime)) as Writer<WriterConfig>;
    } catch (err) {
      problems.push(problemAt(w.path, err));
      return undefined;
    }
  }

  /**
   * The core's runtime around a writer, with the writer's id: its type, then `Type#1` ... for more
   * of one type; its buffer size, disk queue and filter from the writer's config `w`.
   */
  private adopt(writer: Writer, typeName: string, w: ResolvedWriter | undefined, taken: WriterRuntime[] = this.writers): WriterRuntime {
    writer.id = freeId(typeName, new Set(taken.map((x) => x.id)));
    const diskQueue = w?.config.diskQueue;
    const disk = diskQueue === undefined ? undefined : new DiskQueue(path.resolve(this.config.configDir, diskQueue), this.log);
    return new WriterRuntime(writer, {
      bufferSize: bufferSizeOf(w),
      log: this.log.child('', { writer: writer.id }),
      disk,
      filter: filterOf(w),
      ...batchingOf(w),
    });
  }

  /** Starts `writer` for the runtime `w` (a replacement takes the runtime's id before it starts, for its log lines). */
  private startWriter(w: WriterRuntime, writer: Writer = w.writer): Promise<void> {
    writer.id = w.id;
    const context = { ...this.context(this.config.tickTime), log: this.log.child('', { writer: w.id }) };
    return Promise.resolve(writer.start({ ...context, reportDropped: (n) => w.lost(n), status: this.status }));
  }

  /**
   * Starts every writer, then runs every source's init(). A writer that cannot start (port in use)
   * or a source whose init fails and is not retried (HttpIngress cannot bind) is a StartError.
   */
  async startAll(): Promise<void> {
    for (const w of this.writers) {
      try {
        await this.startWriter(w);
        // What a disk queue kept from the last run goes first.
        w.restore();
      } catch (err) {
        await this.stopWriters(Date.now() + this.config.shutdownGrace * 1000);
        const msg = errorMessage(err);
        throw new StartError(msg.includes(w.id) ? msg : `writer ${w.id}: ${msg}`);
      }
    }
    const failed = await this.initRunners(this.executors.flatMap((e) => e.runners));
    if (failed.length) {
      await this.stop();
      throw new StartError(failed.join('\n'));
    }
    this.started = true;
  }

  /** Runs every runner's init(); returns the failures of the sources that are not retried. */
  private async initRunners(runners: SourceRunner[]): Promise<string[]> {
    const results = await Promise.allSettled(runners.map((r) => r.init()));
    const failed: string[] = [];
    results.forEach((res, i) => {
      if (res.status === 'fulfilled') return;
      const r = runners[i]!;
      const msg = `${r.id}: init failed: ${errorMessage(res.reason)}`;
      if ((r.source.constructor as { initRetried?: boolean }).initRetried) this.log.warn(`${msg}; retried before each probe`);
      else failed.push(msg);
    });
    return failed;
  }

  async start(): Promise<void> {
    await this.startAll();
    for (const e of this.executors) e.start();
    this.log.info(`started ${this.executors.length} executor(s), ${this.writers.length} writer(s)`);
  }

  /**
   * Swaps in a new config (SIGHUP). One that cannot be loaded or built (a constructor rejects its
   * params) is logged with every problem and changes nothing. Otherwise what did not change keeps
   * running; changed and removed executors stop (their last ticks still written) and changed and
   * removed writers are flushed and stopped; changed and new ones start. Resolves true when the
   * new config runs in full. Reloads run one at a time.
   */
  reload(next: PollectConfig | (() => Promise<PollectConfig>)): Promise<boolean> {
    const run = this.reloading.then(() => this.applyReload(next));
    this.reloading = run.catch(() => {});
    return run;
  }

  private async applyReload(next: PollectConfig | (() => Promise<PollectConfig>)): Promise<boolean> {
    if (!this.started) {
      this.log.warn('reload: pollect is not running; ignored');
      return false;
    }
    let plan: ReloadPlan;
    try {
      plan = this.planReload(typeof next === 'function' ? await next() : next);
    } catch (err) {
      const problems = err instanceof ConfigError ? err.problems : [errorMessage(err)];
      // One line per problem: each is a log record of its own (journald, log shippers).
      this.log.error(`reload: invalid config, the running one stays (${problems.length} problem(s))`);
      for (const p of problems) this.log.error(`reload: ${p}`);
      this.reloadState.successful = false;
      return false;
    }
    if (this.stopping || !this.started) return false; // stopped while the config was loading
    const ok = await this.applyPlan(plan);
    this.reloadState.successful = ok;
    if (ok) this.reloadState.timestampSeconds = Date.now() / 1000;
    const { executors: e, writers: w } = plan;
    this.log.info(
      `reload: ${ok ? 'done' : 'done in part'}: executors ${e.kept.length} kept, ${e.added.length} started, ${e.removed.length} stopped; ` +
        `writers ${w.kept.length} kept, ${w.replaced.length} restarted, ${w.added.length} started, ${w.removed.length} stopped`,
    );
    return ok;
  }

  /** Builds what the new config changes (constructors only: nothing starts); throws a ConfigError. */
  private planReload(config: PollectConfig): ReloadPlan {
    const problems: string[] = [];
    const writerTick = shortestTick(config);
    const wanted = this.dryRuntime ? [] : [...config.writers, ...config.executors.flatMap((e) => e.writers ?? [])];
    problems.push(...diskQueueProblems(wanted, config.configDir));
    const writers = match(
      [...this.writerConfigs],
      wanted,
      ([, o], n) => sameWriter(o, n),
      ([, o], n) => sameWriterType(o, n),
    );
    const runtimes = new Map<ResolvedWriter, WriterRuntime>(writers.kept.map(([[rt], n]) => [n, rt]));
    const replacements = new Map<WriterRuntime, Writer>();
    for (const [[rt], n] of writers.replaced) {
      const writer = this.buildWriter(n, writerTick, problems);
      if (writer) replacements.set(rt, writer);
      runtimes.set(n, rt);
    }
    const added = new Map<WriterRuntime, ResolvedWriter>();
    const taken = [...this.writers];
    for (const n of writers.added) {
      const writer = this.buildWriter(n, writerTick, problems);
      if (!writer) continue;
      const rt = this.adopt(writer, n.typeName, n, taken);
      void rt.hold(0); // nothing is in flight: held at once
      taken.push(rt);
      added.set(rt, n);
      runtimes.set(n, rt);
    }
    const nextWriters = [...(this.dryRuntime ? [this.dryRuntime] : []), ...wanted.flatMap((n) => runtimes.get(n) ?? [])];

    const executors = match([...this.plans], config.executors, ([, o], n) => sameExecutor(o, n));
    const ids = new Set(executors.kept.flatMap(([[e]]) => e.runners.map((r) => r.id)));
    const watches: Watch[] = [];
    const byPlan = new Map<ExecutorPlan, Executor>(executors.kept.map(([[e], n]) => [n, e]));
    const executorWriters = new Map<Executor, WriterRuntime[]>();
    const fresh: Executor[] = [];
    for (const n of executors.added) {
      const e = this.buildExecutor(n, [], ids, problems, watches);
      byPlan.set(n, e);
      fresh.push(e);
    }
    for (const [n, e] of byPlan) executorWriters.set(e, this.writersOf(n, config, runtimes));
    if (problems.length) throw new ConfigError(problems);
    const nextExecutors = config.executors.map((n): [Executor, ExecutorPlan] => [byPlan.get(n)!, n]);
    return { config, writers, replacements, added, nextWriters, executors, nextExecutors, executorWriters, fresh, watches };
  }

  /** Applies a built plan; false when a writer could not start (it is left out) or a replaced one was kept. */
  private async applyPlan(p: ReloadPlan): Promise<boolean> {
    const graceMs = this.config.shutdownGrace * 1000;
    const deadline = Date.now() + graceMs;
    let ok = true;
    // From now on every tick goes to the new config's writers; new ones queue until they start.
    for (const [e, writers] of p.executorWriters) e.writers = writers;
    this.writers.splice(0, this.writers.length, ...p.nextWriters);
    if (this.selfExecutor) this.selfExecutor.writers = this.writers.slice();
    // Changed and removed executors stop; their last ticks reach the writers they had.
    const removed = p.executors.removed.map(([e]) => e);
    await this.stopExecutors(removed, deadline - graceMs / 2, deadline);
    for (const e of removed) {
      this.plans.delete(e);
      this.status.untrack(e.onBatch);
    }
    for (const [[rt], n] of p.writers.kept) this.writerConfigs.set(rt, n); // equal, but its path may have moved
    // Changed and removed writers: flushed, then stopped (a port closed before it is opened again).
    const running = [...p.executorWriters.keys()];
    await Promise.all([
      ...p.writers.replaced.map(async ([[rt, old], n]) => {
        const which = await this.replaceWriter(rt, old, n, p.replacements.get(rt)!, deadline);
        if (which !== 'new') ok = false;
        if (which === 'none') this.dropWriter(rt, running);
      }),
      ...p.writers.removed.map(async ([rt]) => {
        this.writerConfigs.delete(rt);
        await rt.stop(deadline);
      }),
    ]);
    this.config = p.config;
    for (const [rt, n] of p.added) {
      try {
        await this.startWriter(rt);
        this.writerConfigs.set(rt, n);
        rt.release();
      } catch (err) {
        ok = false;
        this.log.error(`reload: writer ${rt.id} (${n.path}) cannot start, left out: ${errorMessage(err)}`);
        this.dropWriter(rt, running);
      }
    }
    if (this.stopping) return false;
    for (const [file, runner] of p.watches) this.crashGuard.watch(file, runner);
    for (const [e, plan] of p.nextExecutors) this.plans.set(e, plan);
    // A source whose init fails is tried again before each probe: the rest of the config runs meanwhile.
    for (const msg of await this.initRunners(p.fresh.flatMap((e) => e.runners))) this.log.error(`reload: ${msg}; retried before each probe`);
    for (const e of p.fresh) {
      this.track(e);
      e.start();
    }
    // The self-metrics executor follows the top-level tickTime and the selfMetrics switch.
    const self = this.selfExecutor;
    const wantSelf = this.wantsSelfMetrics(p.config);
    if (self && (!wantSelf || self.tickTime !== p.config.tickTime)) {
      this.selfExecutor = undefined;
      this.status.untrack(self.onBatch);
      await this.stopExecutors([self], deadline - graceMs / 2, deadline);
    }
    this.executors.splice(0, this.executors.length, ...p.nextExecutors.map(([e]) => e), ...(this.selfExecutor ? [this.selfExecutor] : []));
    if (wantSelf && !this.selfExecutor) {
      this.addSelfMetrics();
      this.selfExecutor!.start();
    }
    return ok;
  }

  /**
   * Flushes and stops the writer of `rt`, then starts `next` in its place; the runtime's queue
   * (and what ticks add meanwhile) goes to the new writer. A new writer that cannot start is
   * given up for the old config, built anew. Says which one runs, if any.
   */
  private async replaceWriter(rt: WriterRuntime, old: ResolvedWriter, n: ResolvedWriter, next: Writer, deadline: number): Promise<'new' | 'old' | 'none'> {
    await rt.hold(deadline);
    await rt.retire(deadline);
    try {
      await this.startWriter(rt, next);
      rt.release({ writer: next, bufferSize: bufferSizeOf(n), filter: filterOf(n), ...batchingOf(n) });
      this.writerConfigs.set(rt, n);
      return 'new';
    } catch (err) {
      this.log.error(`reload: writer ${rt.id} (${n.path}) cannot start with its new config, keeping the old one: ${errorMessage(err)}`);
    }
    const problems: string[] = [];
    const again = this.buildWriter(old, shortestTick(this.config), problems);
    try {
      if (!again) throw new Error(problems.join('; '));
      await this.startWriter(rt, again);
      rt.release({ writer: again, bufferSize: bufferSizeOf(old), filter: filterOf(old), ...batchingOf(old) });
      return 'old';
    } catch (err) {
      this.log.error(`reload: writer ${rt.id} cannot start with its old config either, left out: ${errorMessage(err)}`);
      return 'none';
    }
  }

  /** Takes a writer that could not start out of the lists of `executors` and of the daemon. */
  private dropWriter(rt: WriterRuntime, executors: Iterable<Executor>): void {
    this.writerConfigs.delete(rt);
    const out = (list: WriterRuntime[]): WriterRuntime[] => list.filter((w) => w !== rt);
    for (const e of executors) e.writers = out(e.writers);
    this.writers.splice(0, this.writers.length, ...out(this.writers));
    if (this.selfExecutor) this.selfExecutor.writers = this.writers.slice();
  }

  /**
   * One tick of every executor, written and flushed; true when every source succeeded and every
   * writer delivered every point (a write that failed and then succeeded on a retry delivered).
   * With `interval` (seconds), sources whose first probe only primes them (rates between two
   * readings) are probed once more that long before the tick, so that they report a value.
   */
  async runOnce(opts: { interval?: number; clock?: Clock } = {}): Promise<boolean> {
    await this.startAll();
    const others = this.executors.filter((e) => e !== this.selfExecutor);
    if (opts.interval !== undefined) {
      // Sources that report rates get a first reading, `interval` seconds before the one written.
      const primed = await Promise.all(others.flatMap((e) => e.runners.map((r) => r.prime())));
      if (primed.some(Boolean)) await sleep(opts.clock ?? systemClock, opts.interval * 1000);
    }
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
    this.stopping = true;
    const graceMs = this.config.shutdownGrace * 1000;
    const deadline = Date.now() + graceMs;
    const sourcesDeadline = deadline - graceMs / 2;
    await within(this.reloading, sourcesDeadline);
    await this.stopExecutors(this.executors, sourcesDeadline, deadline);
    await this.stopWriters(deadline);
    this.started = false;
    this.stopping = false;
  }

  /** Stops executors: timers, then their running ticks (whose batches still reach the writers), then their sources. */
  private async stopExecutors(executors: Executor[], sourcesDeadline: number, deadline: number): Promise<void> {
    const ticks = Promise.all(executors.map((e) => e.stop()));
    await within(ticks, sourcesDeadline);
    await Promise.all(executors.flatMap((e) => e.runners.map((r) => r.shutdown(sourcesDeadline))));
    // Ticks that were waiting on a probe just aborted now hand their batch over.
    await within(ticks, deadline);
  }

  private async stopWriters(deadline: number): Promise<void> {
    // In parallel: a slow backend must not delay the others' shutdown.
    await Promise.all(this.writers.map((w) => w.stop(deadline)));
  }

  get running(): boolean {
    return this.started;
  }
}

/** Writers see the shortest tick of any executor. */
function shortestTick(config: PollectConfig): number {
  return Math.min(config.tickTime, ...config.executors.map((e) => e.tickTime));
}

function problemAt(path: string, err: unknown): string {
  if (err instanceof ParamError) return `${path}.${err.param}: ${errorMessage(err)}`;
  return `${path}: ${errorMessage(err)}`;
}

function bufferSizeOf(w: ResolvedWriter | undefined): number {
  return w?.config.bufferSize ?? DEFAULT_BUFFER_SIZE;
}

/** The writer's `batchWait` (s) and `batchSize`, as the runtime takes them. */
function batchingOf(w: ResolvedWriter | undefined): { batchWaitMs: number; batchSize?: number } {
  return { batchWaitMs: (w?.config.batchWait ?? 0) * 1000, batchSize: w?.config.batchSize };
}

function filterOf(w: ResolvedWriter | undefined): PointFilter | undefined {
  const filter = (w?.config as { filter?: FilterConfig } | undefined)?.filter;
  return filter && compileFilter(filter);
}

/** Two writers sharing a disk queue folder would take each other's batches: a config error. */
function diskQueueProblems(writers: readonly ResolvedWriter[], configDir: string): string[] {
  const seen = new Map<string, ResolvedWriter>();
  const problems: string[] = [];
  for (const w of writers) {
    if (w.config.diskQueue === undefined) continue;
    const dir = path.resolve(configDir, w.config.diskQueue);
    const first = seen.get(dir);
    if (first) problems.push(problemAt(w.path, new ParamError('diskQueue', `${dir} is also the disk queue of ${first.path}: give each writer its own folder`)));
    else seen.set(dir, w);
  }
  return problems;
}
