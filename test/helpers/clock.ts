// A clock that moves only when a test says so (src/core/clock.ts), so tests of timeouts, retries
// and deadlines never sleep.
import type { Clock, ClockTimer } from '../../src/core/clock.js';

interface Pending {
  at: number;
  seq: number;
  fn: () => void;
}

export class ManualClock implements Clock {
  private t: number;
  private seq = 0;
  private readonly timers = new Map<ClockTimer, Pending>();

  constructor(start = 1_700_000_000_000) {
    this.t = start;
  }

  now(): number {
    return this.t;
  }

  setTimeout(fn: () => void, ms: number): ClockTimer {
    const handle: ClockTimer = {};
    this.timers.set(handle, { at: this.t + Math.max(0, ms), seq: this.seq++, fn });
    return handle;
  }

  clearTimeout(timer: ClockTimer): void {
    this.timers.delete(timer);
  }

  /** Timers waiting to fire. */
  get pending(): number {
    return this.timers.size;
  }

  /** When the next timer fires, or undefined. */
  get nextAt(): number | undefined {
    let next: number | undefined;
    for (const p of this.timers.values()) if (next === undefined || p.at < next) next = p.at;
    return next;
  }

  /**
   * Moves time forward by `ms`, firing every timer that falls due in order, and lets the promise
   * callbacks each timer starts run before the next one (as the event loop would).
   */
  async advance(ms: number): Promise<void> {
    const end = this.t + ms;
    await settle();
    for (;;) {
      const due = this.nextDue(end);
      if (!due) break;
      this.timers.delete(due[0]);
      this.t = due[1].at;
      due[1].fn();
      await settle();
    }
    this.t = end;
    await settle();
  }

  private nextDue(end: number): [ClockTimer, Pending] | undefined {
    let best: [ClockTimer, Pending] | undefined;
    for (const e of this.timers) {
      if (e[1].at > end) continue;
      if (!best || e[1].at < best[1].at || (e[1].at === best[1].at && e[1].seq < best[1].seq)) best = e;
    }
    return best;
  }
}

/** Lets pending promise callbacks run (a few turns of the microtask queue and one macrotask). */
export async function settle(): Promise<void> {
  for (let i = 0; i < 10; i++) await Promise.resolve();
  await new Promise<void>((resolve) => setImmediate(resolve));
}

/** Waits in real time (for real I/O) until `cond()` holds; throws after `timeoutMs`. */
export async function waitUntil(cond: () => boolean, timeoutMs = 5000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > until) throw new Error(`condition not met within ${timeoutMs} ms: ${cond.toString()}`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}
