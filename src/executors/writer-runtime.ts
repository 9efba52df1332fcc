// The writer runtime (Telegraf's RunningOutput): what every writer needs and none writes itself.
// A bounded buffer of batches per writer (drop-oldest, counted), one write at a time, the
// written/dropped/errors counters, a failure logged once and its recovery once, retries with
// backoff, batching by size and age (batchSize, batchWait), and flush and stop bounded by a
// deadline. A writer is only its protocol.
import { RetryLaterError, type Batch, type Logger, type Notification, type WriteOutcome, type Writer, type WriterStats } from '../sdk/index.js';
import { errorMessage } from '../log.js';
import { backoffDelay } from '../core/backoff.js';
import { Fifo } from '../core/fifo.js';
import { pointsFor } from './samples.js';
import type { DiskQueue } from './disk-queue.js';
import type { PointFilter } from './filter.js';
import { systemClock, within, type Clock, type ClockTimer } from '../core/clock.js';

export interface WriterRuntimeOptions {
  /** Points kept while the writer cannot write. */
  bufferSize: number;
  log: Logger;
  clock?: Clock;
  /** First and longest wait between failed writes, ms. */
  retryMinMs?: number;
  retryMaxMs?: number;
  /** The writer's `diskQueue`: every buffered batch is also on disk until taken or dropped. */
  disk?: DiskQueue;
  /** The writer's `filter`: what of each batch it gets. */
  filter?: PointFilter;
  /** The writer's batching: how long the oldest queued batch may wait for others to share its write (ms; 0: none) ... */
  batchWaitMs?: number;
  /** ... and the points of one write at most (a batch larger alone is written alone); this many queued are written at once. */
  batchSize?: number;
}

const RETRY_MIN_MS = 500;
const RETRY_MAX_MS = 30_000;
/** Notifications kept for a writer while its notify() fails; the oldest go first. */
export const NOTIFICATION_QUEUE = 1000;

export class WriterRuntime {
  /** Replaced at a reload that changed the writer's config (see release()). */
  writer: Writer;
  private readonly log: Logger;
  private readonly clock: Clock;
  private bufferSize: number;
  private readonly disk: DiskQueue | undefined;
  private filter: PointFilter | undefined;
  private batchWaitMs: number;
  private batchSize: number;
  /** When each queued batch came (batching waits for the oldest's batchWait). */
  private readonly arrived = new WeakMap<Batch, number>();
  /** The batches a merged one is made of (each is a file of the disk queue). */
  private readonly parts = new WeakMap<Batch, readonly Batch[]>();
  /** Batches handed to the writer as they are: a retry writes the same batch, not a new merge. */
  private readonly sealed = new WeakSet<Batch>();
  private batchTimer: ClockTimer | undefined;
  /** flush() or stop() is writing what is queued: no batch waits for others. */
  private flushing = false;
  /** Batches not yet taken by the writer; the first may be in flight. */
  private readonly queue = new Fifo<Batch>();
  private queuedPoints = 0;
  private inFlight: Batch | undefined;
  /** The writes' consecutive failures and the backoff before the next. */
  private readonly writeRetry: Retry;
  private stopped = false;
  /** Batches queue up but none is written: the writer is not started yet, or being replaced. */
  private held = false;
  /** The buffer overflowed since the writer last caught up (logged once until it does). */
  private overflowLogged = false;
  /** Called whenever the queue empties or a write fails (flush waits on these). */
  private waiters: (() => void)[] = [];
  written = 0;
  dropped = 0;
  errors = 0;
  /** Notifications not yet taken by the writer's notify(); the first `notesInFlight` are being delivered. */
  private notes: Notification[] = [];
  private notesInFlight = 0;
  private readonly notifyRetry: Retry;
  notificationsSent = 0;
  notificationsDropped = 0;

  constructor(writer: Writer, opts: WriterRuntimeOptions) {
    this.writer = writer;
    this.log = opts.log;
    this.clock = opts.clock ?? systemClock;
    this.bufferSize = opts.bufferSize;
    const timing = { log: this.log, clock: this.clock, minMs: opts.retryMinMs ?? RETRY_MIN_MS, maxMs: opts.retryMaxMs ?? RETRY_MAX_MS };
    this.writeRetry = new Retry(timing, () => this.pump(), {
      failing: (msg, n) => (n === 1 ? `writer ${this.id}: ${msg}` : `writer ${this.id}: still failing (${n}): ${msg}`),
      again: (n) => `writer ${this.id}: writing again after ${n} failed attempt(s)`,
    });
    this.notifyRetry = new Retry(timing, () => this.pumpNotes(), {
      failing: (msg, n) => `writer ${this.id}: notify failed: ${msg}${n === 1 ? '' : ` (${n} in a row)`}`,
      again: (n) => `writer ${this.id}: delivering notifications again after ${n} failed attempt(s)`,
    });
    this.disk = opts.disk;
    this.filter = opts.filter;
    this.batchWaitMs = opts.batchWaitMs ?? 0;
    this.batchSize = opts.batchSize ?? Number.POSITIVE_INFINITY;
  }

  /** Buffers what the disk queue kept from the last run (oldest first) and starts writing it. */
  restore(): void {
    if (!this.disk) return;
    const batches = this.disk.load();
    if (batches.length === 0) return;
    for (const b of batches) {
      this.queue.push(b);
      this.arrived.set(b, this.clock.now());
      this.queuedPoints += b.points.length;
    }
    this.log.info(`writer ${this.id}: ${this.queuedPoints} point(s) from the disk queue of the last run`);
    this.trim();
    this.pump();
  }

  get id(): string {
    return this.writer.id;
  }

  /** Queues a batch and starts writing; never waits for the writer. */
  add(batch: Batch): void {
    if (!this.writer.takesSamples) return;
    // Points marked for the other naming never reach the writer, nor count as written or dropped.
    const points = pointsFor(batch.points, this.writer.naming);
    // Filtered out by config: neither written nor dropped.
    const kept = this.filter ? this.filter(points) : points;
    if (this.stopped) {
      this.dropped += kept.length;
      return;
    }
    let b = kept === batch.points ? batch : { ...batch, points: kept };
    if (b.points.length > this.bufferSize) {
      // One batch larger than the whole buffer: keep its newest points.
      this.drop(b.points.length - this.bufferSize);
      b = { ...b, points: b.points.slice(b.points.length - this.bufferSize) };
    }
    this.disk?.save(b);
    this.queue.push(b);
    this.arrived.set(b, this.clock.now());
    this.queuedPoints += b.points.length;
    this.trim();
    this.pump();
  }

  /** Drops the oldest batches that are not being written until the buffer fits. */
  private trim(): void {
    while (this.queuedPoints > this.bufferSize) {
      const first = this.queue.peek() === this.inFlight;
      const oldest = this.queue.peek(first ? 1 : 0);
      if (!oldest || oldest === this.queue.last()) break;
      if (first) this.queue.removeSecond();
      else this.queue.shift();
      this.queuedPoints -= oldest.points.length;
      this.forget(oldest);
      this.drop(oldest.points.length);
    }
  }

  /** Removes a batch that was written or dropped from the disk queue (a merged one: each of its parts). */
  private forget(batch: Batch): void {
    if (!this.disk) return;
    for (const b of this.parts.get(batch) ?? [batch]) this.disk.remove(b);
  }

  /**
   * The batch to write next: the oldest as it is, or (batching) the oldest queued batches merged
   * into one of up to batchSize points once the oldest has waited batchWait, or batchSize points
   * are queued; undefined (and the batch timer armed) while they wait.
   */
  private next(): Batch | undefined {
    const first = this.queue.peek();
    if (!first || this.batchWaitMs <= 0 || this.sealed.has(first)) return first;
    const waited = this.clock.now() - (this.arrived.get(first) ?? 0);
    if (!this.flushing && waited < this.batchWaitMs && this.queuedPoints < this.batchSize) {
      this.batchTimer ??= this.clock.setTimeout(() => {
        this.batchTimer = undefined;
        this.pump();
      }, this.batchWaitMs - waited);
      return undefined;
    }
    const taken: Batch[] = [first];
    let points = first.points.length;
    for (let b = this.queue.peek(1); b && !this.sealed.has(b) && points + b.points.length <= this.batchSize; b = this.queue.peek(taken.length)) {
      taken.push(b);
      points += b.points.length;
    }
    let batch = first;
    if (taken.length > 1) {
      batch = { ...first, points: taken.flatMap((b) => b.points), sources: taken.flatMap((b) => b.sources) };
      this.parts.set(
        batch,
        taken.flatMap((b) => this.parts.get(b) ?? [b]),
      );
      this.queue.replaceFront(taken.length, batch);
    }
    this.sealed.add(batch);
    return batch;
  }

  private drop(n: number): void {
    if (n <= 0) return;
    if (!this.overflowLogged) {
      this.overflowLogged = true;
      this.log.warn(`writer ${this.id}: buffer full (${this.bufferSize} points): dropping the oldest`);
    }
    this.dropped += n;
  }

  /**
   * Writes queued batches one at a time, in order, until the queue is empty or a write fails. A
   * synchronous writer is served in this loop (a long backlog never deepens the stack); an
   * asynchronous one continues from its promise.
   */
  private pump(): void {
    if (this.held) {
      if (!this.inFlight) this.wake(); // hold() waits for the write in flight
      return;
    }
    while (!this.inFlight && !this.writeRetry.waiting) {
      if (this.queue.length === 0) {
        this.overflowLogged = false;
        this.wake();
        return;
      }
      const batch = this.next();
      if (!batch) return; // waiting for others to share its write (the batch timer pumps)
      this.inFlight = batch;
      let result: WriteOutcome | Promise<WriteOutcome>;
      try {
        result = this.writer.write(batch);
      } catch (err) {
        this.failed(batch, err);
        return;
      }
      if (result instanceof Promise) {
        const writer = this.writer;
        result.then(
          (r) => {
            if (this.writer !== writer) return; // replaced while it hung: its successor writes the batch
            this.succeeded(batch, r);
            this.pump();
          },
          (err: unknown) => {
            if (this.writer === writer) this.failed(batch, err);
          },
        );
        return;
      }
      this.succeeded(batch, result);
    }
  }

  private succeeded(batch: Batch, outcome: WriteOutcome): void {
    this.inFlight = undefined;
    // Taken, but not yet delivered: on disk until it is (a crash meanwhile sends it again at the next start).
    if (outcome?.delivered)
      outcome.delivered.then(
        () => this.forget(batch),
        () => {},
      );
    else this.forget(batch);
    // It may have been dropped meanwhile only if stop() gave up on it.
    if (this.queue.peek() === batch) {
      this.queue.shift();
      const n = batch.points.length;
      const refused = Math.max(0, Math.min(n, outcome?.dropped ?? 0));
      this.queuedPoints -= n;
      this.written += n - refused;
      this.dropped += refused;
    }
    this.writeRetry.succeeded();
  }

  private failed(_batch: Batch, err: unknown): void {
    this.inFlight = undefined;
    this.errors++;
    this.writeRetry.failed(err, this.stopped);
    this.wake();
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  /** Resolves when the queue is empty, or at `deadline` (ms since the epoch); true when empty. */
  private async drain(deadline: number): Promise<boolean> {
    this.flushing = true;
    try {
      return await this.drainQueue(deadline);
    } finally {
      this.flushing = false;
    }
  }

  private async drainQueue(deadline: number): Promise<boolean> {
    if (this.batchTimer !== undefined) {
      // What waits for others to share its write goes now.
      this.clock.clearTimeout(this.batchTimer);
      this.batchTimer = undefined;
      this.pump();
    }
    while (this.queue.length > 0) {
      if (this.clock.now() >= deadline || this.held) return false;
      // Listening before the retry below: a synchronous write may empty the queue or fail at once.
      const woken = this.until(deadline, (resolve) => this.waiters.push(resolve));
      // A writer in backoff is tried again now: whoever flushes wants it delivered.
      if (!this.stopped) this.writeRetry.now();
      if (!(await woken)) return this.queue.length === 0;
      // A failed write wakes us: wait a little before the next attempt rather than spin.
      if (this.queue.length > 0 && this.inFlight === undefined) await this.writeRetry.pause(deadline);
    }
    return true;
  }

  /** Runs `arm(resolve)` and waits for it, or for the deadline; true when it resolved first. */
  private until(deadline: number, arm: (resolve: () => void) => void): Promise<boolean> {
    return new Promise((resolve) => {
      let done = false;
      const t = this.clock.setTimeout(
        () => {
          if (done) return;
          done = true;
          resolve(false);
        },
        Math.max(0, deadline - this.clock.now()),
      );
      arm(() => {
        if (done) return;
        done = true;
        this.clock.clearTimeout(t);
        resolve(true);
      });
    });
  }

  /**
   * Stops writing (batches still queue up) and resolves once the write in flight, if any, has
   * settled or at `deadline`: the writer can then be flushed, stopped and replaced.
   */
  async hold(deadline: number): Promise<void> {
    this.held = true;
    if (this.inFlight) await this.until(deadline, (resolve) => this.waiters.push(resolve));
  }

  /** While held: asks the writer to deliver what it holds, then stops it (not the runtime: its queue stays). */
  async retire(deadline: number): Promise<void> {
    await this.bounded(deadline, 'flush', () => this.writer.flush());
    await this.bounded(deadline, 'stop', () => this.writer.stop());
  }

  /** Writes again: to `next.writer` if given (a reload changed its config), which takes over this one's queue. */
  release(next?: { writer: Writer; bufferSize: number; filter?: PointFilter; batchWaitMs?: number; batchSize?: number }): void {
    if (next) {
      this.writer = next.writer;
      this.filter = next.filter;
      this.batchWaitMs = next.batchWaitMs ?? 0;
      this.batchSize = next.batchSize ?? Number.POSITIVE_INFINITY;
      // A write the old writer never finished (hold() gave up on it) is the new one's to do.
      this.inFlight = undefined;
      this.bufferSize = next.bufferSize;
      this.writeRetry.reset();
      this.trim();
      this.notifyRetry.reset();
      this.notesInFlight = 0;
    }
    this.held = false;
    this.pump();
    this.pumpNotes();
  }

  /** Delivers the queued notifications, a writer in backoff tried again now, until `deadline`. */
  private async drainNotes(deadline: number): Promise<void> {
    while (this.notes.length > 0 && !this.held && this.clock.now() < deadline) {
      const woken = this.until(deadline, (resolve) => this.waiters.push(resolve));
      if (!this.stopped) this.notifyRetry.now();
      if (!(await woken)) return;
      if (this.notes.length > 0 && this.notesInFlight === 0) await this.notifyRetry.pause(deadline);
    }
  }

  /** Writes what is queued and asks the writer to deliver what it holds, within the deadline. */
  async flush(deadline: number): Promise<void> {
    await this.drain(deadline);
    await this.drainNotes(deadline);
    await this.bounded(deadline, 'flush', () => this.writer.flush());
  }

  /** Flushes, then stops the writer; what is still queued at the deadline is counted as dropped. */
  async stop(deadline: number): Promise<void> {
    await this.flush(deadline);
    this.stopped = true;
    this.writeRetry.cancel();
    if (this.batchTimer !== undefined) this.clock.clearTimeout(this.batchTimer);
    this.batchTimer = undefined;
    const lost = this.queuedPoints;
    if (lost > 0) {
      // With a disk queue they stay on disk (the next run sends them); the count is this run's.
      this.log.warn(`writer ${this.id}: stopped with ${lost} point(s) not written${this.disk ? `; kept in ${this.disk.dir} for the next start` : ''}`);
      this.dropped += lost;
      this.queue.clear();
      this.queuedPoints = 0;
    }
    if (this.notes.length > 0) {
      this.log.warn(`writer ${this.id}: stopped with ${this.notes.length} notification(s) not delivered`);
      this.notificationsDropped += this.notes.length;
      this.notes = [];
    }
    this.notifyRetry.cancel();
    await this.bounded(deadline, 'stop', () => this.writer.stop());
  }

  /** Runs a writer hook; one that throws or outlives the deadline is logged, never thrown. */
  private async bounded(deadline: number, what: string, fn: () => void | Promise<void>): Promise<void> {
    const p = Promise.resolve().then(fn);
    p.catch((err: unknown) => this.log.warn(`writer ${this.id}: ${what} failed: ${errorMessage(err)}`));
    if (!(await within(p, deadline, this.clock))) this.log.warn(`writer ${this.id}: ${what} did not finish in time`);
  }

  /** Points the writer lost after taking them (see WriterContext.reportDropped). */
  lost(count: number): void {
    if (count <= 0) return;
    // They were counted as written when write() took them: each point is written or dropped, once.
    const n = Math.min(count, this.written);
    this.written -= n;
    this.dropped += n;
  }

  /**
   * Queues notifications for a writer that takes them (Writer.notify) and delivers them, all that
   * are queued in one call, one call at a time; a call that throws is retried with the same
   * backoff as write(). A writer without notify() gets none. Never waits for the writer.
   */
  addNotifications(list: readonly Notification[]): void {
    if (!this.writer.notify || list.length === 0) return;
    if (this.stopped) {
      this.notificationsDropped += list.length;
      return;
    }
    this.notes.push(...list);
    const over = this.notes.length - this.notesInFlight - NOTIFICATION_QUEUE;
    if (over > 0) {
      // The oldest that are not being delivered go.
      this.notes.splice(this.notesInFlight, over);
      if (this.notificationsDropped === 0) this.log.warn(`writer ${this.id}: notification queue full (${NOTIFICATION_QUEUE}): dropping the oldest`);
      this.notificationsDropped += over;
    }
    this.pumpNotes();
  }

  private pumpNotes(): void {
    if (this.held || this.notesInFlight > 0 || this.notifyRetry.waiting || this.notes.length === 0) return;
    const writer = this.writer;
    const list = this.notes.slice();
    this.notesInFlight = list.length;
    const done = (err?: unknown): void => {
      if (this.writer !== writer) return; // replaced while it hung: its successor delivers them
      this.notesInFlight = 0;
      if (err === undefined) {
        this.notes.splice(0, list.length);
        this.notificationsSent += list.length;
        this.notifyRetry.succeeded();
        this.pumpNotes();
        this.wake();
        return;
      }
      this.notifyRetry.failed(err, this.stopped);
      this.wake();
    };
    try {
      Promise.resolve(writer.notify!(list)).then(
        () => done(),
        (err: unknown) => done(err ?? new Error('notify rejected')),
      );
    } catch (err) {
      done(err ?? new Error('notify threw'));
    }
  }

  /** Notifications queued or being delivered. */
  get pendingNotifications(): number {
    return this.notes.length;
  }

  /** True when nothing is queued or being written. */
  get idle(): boolean {
    return this.queue.length === 0 && this.inFlight === undefined;
  }

  stats(): WriterStats {
    return {
      writer: this.id,
      queueLength: this.queuedPoints + this.writer.pending(),
      written: this.written,
      dropped: this.dropped,
      errors: this.errors,
      ...(this.writer.notify && { notifications: { sent: this.notificationsSent, dropped: this.notificationsDropped } }),
    };
  }
}

/**
 * Consecutive failures of one kind of delivery (writes, or notifications): the first logged as an
 * error, the next ones at debug, the recovery once; the next attempt after a backoff, at least
 * what the backend asked for (Retry-After).
 */
class Retry {
  private failures = 0;
  private timer: ClockTimer | undefined;

  constructor(
    private readonly rt: { readonly log: Logger; readonly clock: Clock; readonly minMs: number; readonly maxMs: number },
    private readonly attempt: () => void,
    private readonly say: { failing: (msg: string, n: number) => string; again: (n: number) => string },
  ) {}

  /** An attempt waits for its backoff. */
  get waiting(): boolean {
    return this.timer !== undefined;
  }

  failed(err: unknown, stopped: boolean): void {
    this.failures++;
    const text = this.say.failing(errorMessage(err), this.failures);
    if (this.failures === 1) this.rt.log.error(text);
    else this.rt.log.debug(text);
    if (stopped) return;
    const asked = err instanceof RetryLaterError ? err.retryAfterMs : 0;
    const wait = Math.max(asked, backoffDelay(this.failures, { min: this.rt.minMs, max: this.rt.maxMs, jitter: 0.2 }));
    this.timer = this.rt.clock.setTimeout(() => {
      this.timer = undefined;
      this.attempt();
    }, wait);
  }

  succeeded(): void {
    if (this.failures === 0) return;
    this.rt.log.info(this.say.again(this.failures));
    this.failures = 0;
  }

  /** The attempt waiting for its backoff is made now (a flush wants it delivered). */
  now(): void {
    if (this.timer === undefined) return;
    this.cancel();
    this.attempt();
  }

  /** After a failure a flush saw: a short wait before the next attempt rather than a spin, within `deadline`. */
  async pause(deadline: number): Promise<void> {
    if (this.failures === 0) return;
    const wait = Math.min(backoffDelay(this.failures, { min: this.rt.minMs, max: this.rt.maxMs }), deadline - this.rt.clock.now());
    if (wait > 0) await new Promise<void>((resolve) => this.rt.clock.setTimeout(resolve, wait));
  }

  /** No attempt waits any more (stopped). */
  cancel(): void {
    if (this.timer !== undefined) this.rt.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** A new writer: no failures, no attempt waiting. */
  reset(): void {
    this.cancel();
    this.failures = 0;
  }
}
