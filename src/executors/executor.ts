// An executor: its own timer, aligned to wall-clock multiples of its tickTime (a 10 s executor
// fires at :00, :10, :20 ...) with no cumulative drift; each tick probes every source
// concurrently and hands one batch to each writer's runtime, which never makes the tick wait.
import type { Batch, Logger, Naming, Notification, Point } from '../sdk/index.js';
import type { SourceRunner } from './source-runner.js';
import type { WriterRuntime } from './writer-runtime.js';
import type { PointFilter } from './filter.js';
import { routeNotifications } from './notifications.js';
import type { ThresholdChecker } from './thresholds.js';

export interface ExecutorOptions {
  collection: string;
  tickTime: number;
  runners: SourceRunner[];
  writers: WriterRuntime[];
  /** Told of every batch after the writers got it (the daemon's status board). */
  onBatch?: (batch: Batch) => void;
  /** The executor's `filter`: what of each batch its writers get. */
  filter?: PointFilter;
  /** Where notifications are logged (once each). */
  log?: Logger;
  /** The thresholds checked on every batch's points (collectd's threshold plugin). */
  thresholds?: ThresholdChecker;
}

export class Executor {
  readonly collection: string;
  readonly tickTime: number;
  readonly runners: SourceRunner[];
  /** Swapped at a reload; a tick hands its batch to the writers of the moment it ends. */
  writers: WriterRuntime[];
  /** Told of every batch (the daemon's status board); set once the executor is part of the daemon. */
  onBatch: ((batch: Batch) => void) | undefined;
  private readonly filter: PointFilter | undefined;
  private readonly log: Logger | undefined;
  private readonly thresholds: ThresholdChecker | undefined;
  private timer: NodeJS.Timeout | undefined;
  private stopped = true;
  private readonly pendingTicks = new Set<Promise<Batch>>();
  ticks = 0;
  /** How late the timer fired last, ms: the event loop's lag, measured without waking up for it. */
  lagMs = 0;

  constructor(opts: ExecutorOptions) {
    this.collection = opts.collection;
    this.tickTime = opts.tickTime;
    this.runners = opts.runners;
    this.writers = opts.writers;
    this.onBatch = opts.onBatch;
    this.filter = opts.filter;
    this.log = opts.log;
    this.thresholds = opts.thresholds;
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
    // setTimeout fires at once for delays past 2^31-1 ms (24.8 days): a longer wait is chained.
    if (target - Date.now() > MAX_TIMER_MS) {
      this.timer = setTimeout(() => this.schedule(target), MAX_TIMER_MS);
      return;
    }
    this.timer = setTimeout(
      () => {
        const periodMs = this.tickTime * 1000;
        const now = Date.now();
        this.lagMs = Math.max(0, now - target);
        // Timers may fire a little late; a tick lost to a long stall is skipped, not run twice.
        const next = target + periodMs > now ? target + periodMs : alignedAfter(now, periodMs);
        this.schedule(next);
        void this.runTick(target);
      },
      Math.max(0, target - Date.now()),
    );
  }

  /** One tick: probe all sources, hand the batch to the writers. Resolves with the batch. */
  runTick(timestamp = Date.now()): Promise<Batch> {
    const p = this.tick(timestamp).finally(() => this.pendingTicks.delete(p));
    this.pendingTicks.add(p);
    return p;
  }

  private async tick(timestamp: number): Promise<Batch> {
    this.ticks++;
    // A source with a tickTime of its own sits out the ticks between its probes, and is not in the batch.
    const due = this.runners.filter((r) => r.due(timestamp));
    const perSource: Point[][] = due.map(() => []);
    const sources = await Promise.all(due.map((r, i) => r.tick(timestamp, perSource[i]!, this.wants)));
    const batch: Batch = { collection: this.collection, timestamp, points: perSource.flat(), sources };
    const filtered = this.filter ? { ...batch, points: this.filter(batch.points) } : batch;
    for (const w of this.writers) w.add(filtered);
    this.notify(batch);
    this.onBatch?.(batch);
    return batch;
  }

  /** Whether a writer of the moment takes samples of this naming: sources skip the samples none would get. */
  private readonly wants = (naming: Naming): boolean => this.writers.some((w) => w.writer.takesSamples && w.writer.naming === naming);

  /**
   * What the sources notified since the last tick (also a long-running child between probes) and
   * what the thresholds find in this batch, checked on all its points (before the filter).
   */
  private notify(batch: Batch): void {
    let list: Notification[] | undefined;
    for (const r of this.runners) {
      const taken = r.takeNotifications();
      if (taken.length) (list ??= []).push(...taken);
    }
    const found = this.thresholds?.check(batch);
    if (found?.length) (list ??= []).push(...found);
    if (list) routeNotifications(list, this.writers, this.log);
  }

  /** Stops the timer; the returned promise settles when the ticks already running have written their batches. */
  stop(): Promise<unknown> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    return Promise.allSettled([...this.pendingTicks]);
  }
}

const MAX_TIMER_MS = 2 ** 31 - 1;

/** The first multiple of periodMs strictly after t. */
export function alignedAfter(t: number, periodMs: number): number {
  return (Math.floor(t / periodMs) + 1) * periodMs;
}
