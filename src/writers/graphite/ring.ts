// A bounded FIFO of datapoints in three parallel arrays (no object per point). When full, pushing
// drops the oldest datapoint; the caller counts it.
export class PointRing {
  readonly capacity: number;
  readonly paths: string[];
  readonly timestamps: Float64Array;
  readonly values: Float64Array;
  /** Index of the oldest datapoint. */
  head = 0;
  length = 0;

  constructor(capacity: number) {
    this.capacity = capacity;
    this.paths = new Array<string>(capacity).fill('');
    this.timestamps = new Float64Array(capacity);
    this.values = new Float64Array(capacity);
  }

  /** Appends; returns true when the oldest datapoint had to go to make room. */
  push(path: string, timestamp: number, value: number): boolean {
    let dropped = false;
    if (this.length === this.capacity) {
      this.shift(1);
      dropped = true;
    }
    let i = this.head + this.length;
    if (i >= this.capacity) i -= this.capacity;
    this.paths[i] = path;
    this.timestamps[i] = timestamp;
    this.values[i] = value;
    this.length++;
    return dropped;
  }

  /** How many datapoints from head are stored contiguously (a message never wraps). */
  contiguous(): number {
    return Math.min(this.length, this.capacity - this.head);
  }

  /** Forgets the `n` oldest datapoints. */
  shift(n: number): void {
    const k = Math.min(n, this.length);
    // Release the strings so a long-gone series does not stay in memory.
    for (let j = 0, i = this.head; j < k; j++) {
      this.paths[i] = '';
      if (++i === this.capacity) i = 0;
    }
    this.head = (this.head + k) % this.capacity;
    this.length -= k;
  }
}
