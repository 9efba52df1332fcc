// Builds executors, sources and writers from a loaded config and runs them: start, run
// forever or once, and stop in order (timers, running probes, sources, then writers).
import type { PollectConfig, ResolvedWriter } from '../config/load.js';
import type { Source, SourceConfig } from '../sources/source.js';
import type { Writer, WriterConfig, WriterContext } from '../writers/writer.js';
import type { Logger } from '../log.js';
import { errorMessage } from '../log.js';
import { DryRunWriter } from '../writers/dryrun/index.js';
import { ConfigError } from '../config/errors.js';
import { Executor } from './executor.js';
import { SourceRunner } from './source-runner.js';

export interface DaemonOptions {
  /** Replace every configured writer with one DryRun writer. */
  dryRun?: boolean;
  /** Used instead of DryRun for --dry-run (tests pass their own). */
  dryRunWriter?: Writer;
  log: Logger;
}

export class StartError extends Error {}

export class Daemon {
  readonly executors: Executor[] = [];
  readonly writers: Writer[] = [];
  private readonly config: PollectConfig;
  private readonly log: Logger;

  constructor(config: PollectConfig, opts: DaemonOptions) {
    this.config = config;
    this.log = opts.log;
    const problems: string[] = [];
    const dry = opts.dryRun ? (opts.dryRunWriter ?? new DryRunWriter({ type: 'DryRun' })) : undefined;
    if (dry) this.adopt(dry, 'DryRun');
    const global = dry ? [] : config.writers.flatMap((w) => this.instantiate(w, problems));
    const sourceIds = new Map<string, number>();
    for (const plan of config.executors) {
      const writers = dry ? [dry] : plan.writers ? plan.writers.flatMap((w) => this.instantiate(w, problems)) : global;
      const runners = plan.sources.flatMap((s) => {
        let source: Source<SourceConfig>;
        try {
          source = new s.cls(s.config as never) as Source<SourceConfig>;
        } catch (err) {
          problems.push(`${s.path}: ${errorMessage(err)}`);
          return [];
        }
        const base = [plan.collection, s.typeName, s.config.name].filter(Boolean).join('.');
        const n = sourceIds.get(base) ?? 0;
        sourceIds.set(base, n + 1);
        return new SourceRunner({
          id: n === 0 ? base : `${base}#${n}`,
          collection: plan.collection,
          typeName: s.typeName,
          source,
          tickTime: plan.tickTime,
          maxBackoff: plan.maxBackoff,
          log: this.log,
          configDir: config.configDir,
        });
      });
      this.executors.push(new Executor({ collection: plan.collection, tickTime: plan.tickTime, runners, writers, log: this.log }));
    }
    // A constructor that rejects its params (a bad regex, say) is a config error with its path.
    if (problems.length) throw new ConfigError(problems);
  }

  private instantiate(w: ResolvedWriter, problems: string[]): Writer[] {
    try {
      return [this.adopt(new w.cls(w.config as never) as Writer<WriterConfig>, w.typeName)];
    } catch (err) {
      problems.push(`${w.path}: ${errorMessage(err)}`);
      return [];
    }
  }

  private adopt(writer: Writer, typeName: string): Writer {
    const same = this.writers.filter((x) => x.id === typeName || x.id.startsWith(`${typeName}#`)).length;
    writer.id = same === 0 ? typeName : `${typeName}#${same}`;
    this.writers.push(writer);
    return writer;
  }

  /** Starts every writer; a writer that cannot start (port in use, unreadable key) is a StartError naming it. */
  async startWriters(): Promise<void> {
    const ctx: WriterContext = {
      log: this.log,
      configDir: this.config.configDir,
      allWriterStats: () => this.writers.map((w) => w.stats()),
    };
    for (const w of this.writers) {
      try {
        // Writers name themselves in their messages (they know their target too), so no prefix here.
        await w.start(ctx);
      } catch (err) {
        await this.stopWriters();
        const msg = errorMessage(err);
        throw new StartError(msg.includes(w.id) ? msg : `writer ${w.id}: ${msg}`);
      }
    }
  }

  async start(): Promise<void> {
    await this.startWriters();
    for (const e of this.executors) e.start();
    this.log.info(`started ${this.executors.length} executor(s), ${this.writers.length} writer(s)`);
  }

  /** One tick of every executor, written and flushed; true when every source succeeded. */
  async runOnce(): Promise<boolean> {
    await this.startWriters();
    const batches = await Promise.all(this.executors.map((e) => e.runTick()));
    await Promise.all(this.executors.map((e) => e.drainWrites()));
    await this.shutdownSources(this.config.shutdownGrace * 1000);
    await this.stopWriters();
    return batches.every((b) => b.sources.every((s) => s.success));
  }

  async stop(): Promise<void> {
    const graceMs = this.config.shutdownGrace * 1000;
    await Promise.all(this.executors.map((e) => e.stop(graceMs)));
    await this.shutdownSources(graceMs);
    await this.stopWriters();
  }

  private async shutdownSources(graceMs: number): Promise<void> {
    await Promise.all(this.executors.flatMap((e) => e.runners.map((r) => r.shutdown(graceMs))));
  }

  /** Flushes and stops every writer at once: a slow backend must not delay the others' shutdown. */
  private async stopWriters(): Promise<void> {
    await Promise.all(
      this.writers.map(async (w) => {
        try {
          await w.flush();
          await w.stop();
        } catch (err) {
          this.log.warn(`writer ${w.id}: stop failed: ${errorMessage(err)}`);
        }
      }),
    );
  }
}
