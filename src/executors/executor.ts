// An executor: its own timer, aligned to wall-clock multiples of its tickTime (a 10 s executor
// fires at :00, :10, :20 ...) with no cumulative drift; each tick probes every source
// concurrently and hands one batch to each writer without waiting for it.
import type { Batch, Point, SourceStatus, Writer } from '../writers/writer.js';
import type { Logger } from '../log.js';
import { errorMessage } from '../log.js';
import type { SourceRunner } from './source-runner.js';

export interface ExecutorOptions {
  collection: string;
  tickTime: number;
  runners: SourceRunner[];
  writers: Writer[];
  log: Logger;
}

export class Executor {
  readonly collection: string;
  readonly tickTime: number;
  readonly runners: SourceRunner[];
  readonly writers: Writer[];
  private readonly log: Logger;
  private timer: NodeJS.Timeout | undefined;
  private stopped = true;
  private pendingTicks = new Set<Promise<Batch>>();
  private pendingWrites = new Set<Promise<void>>();
  /** Writers whose last write failed, to log a failure once and its recovery once. */
  private failingWriters = new Set<Writer>();
  ticks = 0;

  constructor(opts: ExecutorOptions) {
    this.collection = opts.collection;
    this.tickTime = opts.tickTime;
    this.runners = opts.runners;
    this.writers = opts.writers;
    this.log = opts.log;
  }

  /** Runs the first tick now, then on every aligned multiple of tickTime. */
  start(): void {
    this.stopped = false;
    const now = Date.now();
    void this.runTick(now);
    const periodMs = this.tickTime * 1000;
    let next = alignedAfter(now, periodMs);
    // A first aligned tick much closer than a period would find the first probes still running.
    if (next - now < periodMs / 2) next += periodMs;
    this.schedule(next);
  }

  private schedule(target: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      const periodMs = this.tickTime * 1000;
      const now = Date.now();
      // Timers may fire a little late; a tick lost to a long stall is skipped, not run twice.
      const next = target + periodMs > now ? target + periodMs : alignedAfter(now, periodMs);
      this.schedule(next);
      void this.runTick(target);
    }, Math.max(0, target - Date.now()));
  }

  /** One tick: probe all sources, write the batch. Resolves with the batch once writers have it. */
  runTick(timestamp = Date.now()): Promise<Batch> {
    const p = this.tick(timestamp).finally(() => this.pendingTicks.delete(p));
    this.pendingTicks.add(p);
    return p;
  }

  private async tick(timestamp: number): Promise<Batch> {
    this.ticks++;
    const perSource: Point[][] = this.runners.map(() => []);
    const results = this.runners.map((r, i) => r.tick(timestamp, perSource[i]!));
    // Synchronous sources answered already; wait only when some did not.
    const sources: SourceStatus[] = results.some((r) => r instanceof Promise) ? await Promise.all(results) : (results as SourceStatus[]);
    const batch: Batch = { collection: this.collection, timestamp, points: perSource.flat(), sources };
    for (const w of this.writers) this.deliver(w, batch);
    return batch;
  }

  /** Hands the batch to a writer; a slow or failing writer never holds up the next tick or the others. */
  private deliver(writer: Writer, batch: Batch): void {
    const p = (async () => {
      try {
        await writer.write(batch);
        if (this.failingWriters.delete(writer)) this.log.info(`writer ${writer.id}: writing again`);
      } catch (err) {
        if (!this.failingWriters.has(writer)) this.log.error(`writer ${writer.id}: ${errorMessage(err)}`);
        this.failingWriters.add(writer);
      }
    })().finally(() => this.pendingWrites.delete(p));
    this.pendingWrites.add(p);
  }

  /** Stops the timer; waits for running ticks and writes, at most graceMs. */
  async stop(graceMs: number): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    const grace = new Promise<void>((r) => setTimeout(r, graceMs).unref());
    await Promise.race([Promise.allSettled([...this.pendingTicks]), grace]);
    await Promise.race([Promise.allSettled([...this.pendingWrites]), grace]);
  }

  /** Waits for writes handed out so far. */
  async drainWrites(): Promise<void> {
    await Promise.allSettled([...this.pendingWrites]);
  }
}

/** The first multiple of periodMs strictly after t. */
export function alignedAfter(t: number, periodMs: number): number {
  return (Math.floor(t / periodMs) + 1) * periodMs;
}
