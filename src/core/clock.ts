// Time as the core sees it: tests hand in a manual clock instead of sleeping.
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  setTimeout(fn: () => void, ms: number): ClockTimer;
  clearTimeout(timer: ClockTimer): void;
}

export type ClockTimer = { readonly __timer?: never } | NodeJS.Timeout;

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (t) => clearTimeout(t as NodeJS.Timeout),
};

/** Resolves after `ms` on `clock`, or at once when `signal` aborts. */
export function sleep(clock: Clock, ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const t = clock.setTimeout(done, ms);
    function done(): void {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }
    function onAbort(): void {
      clock.clearTimeout(t);
      done();
    }
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** Waits for `p` until `deadline` (ms since the epoch on `clock`); true when `p` settled first. Never rejects. */
export function within(p: Promise<unknown>, deadline: number, clock: Clock = systemClock): Promise<boolean> {
  return new Promise((resolve) => {
    const t = clock.setTimeout(() => resolve(false), Math.max(0, deadline - clock.now()));
    const done = (): void => {
      clock.clearTimeout(t);
      resolve(true);
    };
    p.then(done, done);
  });
}
