// The one backoff rule: the wait doubles after each failure, from `min` up to `max`, with an
// optional random spread so that many agents do not retry in step.
export interface BackoffOptions {
  /** First wait, ms. */
  min: number;
  /** Longest wait, ms. */
  max: number;
  /** 0..1: the wait is drawn from [wait * (1 - jitter), wait]. */
  jitter?: number;
  random?: () => number;
}

/** The wait before retry number `attempt` (1 = after the first failure). */
export function backoffDelay(attempt: number, opts: BackoffOptions): number {
  const exp = Math.min(Math.max(0, attempt - 1), 52);
  const wait = Math.min(opts.max, opts.min * 2 ** exp);
  const jitter = opts.jitter ?? 0;
  if (jitter <= 0) return wait;
  return wait * (1 - jitter * (opts.random ?? Math.random)());
}
