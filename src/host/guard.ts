// Bounds calls that run on libuv's thread pool and may never return (statfs on a dead NFS mount,
// reading /proc/<pid>/cmdline while that process's memory map is locked). A caller waits at
// most until its deadline; the call itself cannot be cancelled, so it stays "outstanding" until
// it settles and no second call with the same key is started meanwhile. Calls that outlive their
// deadline count as hung; once `maxHung()` are hung no new guarded call starts, so hung calls
// never take more than part of the pool. Callers asking for the same key while a call is running
// (two sources statfs-ing one mount in the same tick) share its answer (4 threads unless UV_THREADPOOL_SIZE says otherwise).

interface Outstanding {
  since: number;
  hung: boolean;
  call: Promise<unknown>;
}

/** The most guarded calls allowed to hang at once: the pool size minus two, at least one. */
export function maxHung(): number {
  const pool = Number(process.env.UV_THREADPOOL_SIZE) || 4;
  return Math.max(1, pool - 2);
}

/** Why a guarded call gave no answer; `message` is one line naming the key. */
export class GuardError extends Error {
  override name = 'GuardError';
  constructor(
    message: string,
    readonly reason: 'timeout' | 'busy' | 'saturated',
  ) {
    super(message);
  }
}

export class CallGuard {
  private readonly outstanding = new Map<string, Outstanding>();
  private hungCount = 0;

  constructor(private readonly maxHung: number) {}

  /** How many guarded calls are past their deadline and still running. */
  get hungCalls(): number {
    return this.hungCount;
  }

  /**
   * Runs `fn` unless a call with the same key is still outstanding, and waits for it until
   * `deadline` resolves (a timer or an abort). Rejects with a GuardError on timeout, busy key or
   * saturation, or with fn's own error.
   */
  run<T>(key: string, fn: () => Promise<T>, deadline: Promise<void>): Promise<T> {
    const prev = this.outstanding.get(key);
    let entry: Outstanding;
    let call: Promise<T>;
    if (prev) {
      // A call already past someone's deadline: do not wait for it again.
      if (prev.hung) {
        const secs = ((Date.now() - prev.since) / 1000).toFixed(0);
        return Promise.reject(new GuardError(`${key}: an earlier call has not returned for ${secs} s; skipped`, 'busy'));
      }
      // Another source asked for the same thing this moment: share its answer.
      entry = prev;
      call = prev.call as Promise<T>;
    } else {
      if (this.hungCount >= this.maxHung) {
        return Promise.reject(new GuardError(`${key}: ${this.hungCount} calls are hanging; not starting another`, 'saturated'));
      }
      try {
        call = fn();
      } catch (err) {
        return Promise.reject(err);
      }
      const started: Outstanding = { since: Date.now(), hung: false, call };
      entry = started;
      this.outstanding.set(key, started);
      const settle = (): void => {
        this.outstanding.delete(key);
        if (started.hung) this.hungCount--;
      };
      call.then(settle, settle);
    }
    return new Promise<T>((resolve, reject) => {
      let done = false;
      call.then(
        (v) => {
          done = true;
          resolve(v);
        },
        (e: unknown) => {
          done = true;
          reject(e);
        },
      );
      void deadline.then(() => {
        if (done) return;
        if (this.outstanding.get(key) === entry && !entry.hung) {
          entry.hung = true;
          this.hungCount++;
        }
        reject(new GuardError(`${key}: no answer before the deadline`, 'timeout'));
      });
    });
  }
}

/** The guard of this process's libuv pool: every guarded call takes a thread of that one pool, so they share one count. */
export const poolGuard = new CallGuard(maxHung());

/**
 * A promise that resolves after `ms` or when `signal` aborts, and a function to release its timer.
 * (An abort listener costs more than the timer on every tick; callers that keep `ms` short pass none.)
 */
export function deadlineAfter(ms: number, signal?: AbortSignal): { deadline: Promise<void>; clear: () => void } {
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  const deadline = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, Math.max(0, ms));
    if (signal) {
      if (signal.aborted) resolve();
      onAbort = () => resolve();
      signal.addEventListener('abort', onAbort, { once: true });
    }
  });
  return {
    deadline,
    clear: () => {
      clearTimeout(timer);
      if (signal && onAbort) signal.removeEventListener('abort', onAbort);
    },
  };
}

/** How long a probe waits for guarded calls: half its timeout (the rest is left for the probe), at most 5 s. */
export function waitBudget(timeoutMs: number): number {
  return Math.min(timeoutMs / 2, 5000);
}
