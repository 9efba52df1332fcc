// Turns monotonically increasing counters into per-second rates. The first reading of a key
// primes it (no rate); a counter that goes backwards is a reset (re-primed, never a negative
// rate) unless a wrap modulus is given (SNMP Counter32/Counter64).
export interface RateOptions {
  /** Counter modulus, e.g. 2 ** 32: a decrease is taken as one wrap. */
  wrap?: number | bigint;
}

interface Reading {
  value: number | bigint;
  atMs: number;
  /** The sweep() round in which this key was last read. */
  round: number;
}

export class RateTracker {
  private prev = new Map<string, Reading>();
  private round = 0;

  /** Rate per second of `key` since its last reading, or undefined while priming or after a reset. */
  rate(key: string, value: number | bigint, atMs: number, opts?: RateOptions): number | undefined {
    const last = this.prev.get(key);
    if (!last) {
      this.prev.set(key, { value, atMs, round: this.round });
      return undefined;
    }
    const lastValue = last.value;
    const lastAt = last.atMs;
    last.value = value;
    last.atMs = atMs;
    last.round = this.round;
    const seconds = (atMs - lastAt) / 1000;
    if (!(seconds > 0)) return undefined;
    const wrap = opts?.wrap;
    // Two bigint readings (SNMP Counter64) keep their delta exact: a double cannot near 2^64.
    if (typeof value === 'bigint' && typeof lastValue === 'bigint') {
      let big = value - lastValue;
      if (big < 0n) {
        if (wrap === undefined) return undefined;
        big += BigInt(wrap);
        if (big < 0n) return undefined;
      }
      return Number(big) / seconds;
    }
    let delta = Number(value) - Number(lastValue);
    if (delta < 0) {
      if (wrap === undefined) return undefined;
      delta = Number(wrap) - Number(lastValue) + Number(value);
      if (delta < 0) return undefined;
    }
    return delta / seconds;
  }

  /** Whether `key` has a previous reading. */
  has(key: string): boolean {
    return this.prev.has(key);
  }

  /** Forgets keys not in `seen` (a disk removed, an interface gone). */
  retain(seen: Set<string>): void {
    for (const k of this.prev.keys()) if (!seen.has(k)) this.prev.delete(k);
  }

  /** Forgets keys not read by rate() since the last sweep() (retain() without building a set). */
  sweep(): void {
    // forEach, not for...of over entries: no [key, value] array per series per tick.
    this.prev.forEach((reading, key) => {
      if (reading.round !== this.round) this.prev.delete(key);
    });
    this.round++;
  }
}

/** Milliseconds from a monotonic clock, for elapsed times that must not jump with the wall clock. */
export function monotonicMs(): number {
  return Number(process.hrtime.bigint() / 1000n) / 1000;
}
