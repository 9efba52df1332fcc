// Label objects made once per distinct value and reused on every tick: a sample's labels are
// never changed downstream, and a new object per sample per tick is garbage the GC must sweep.
import type { Labels } from '../source.js';

/** `{ [key]: value }` objects for one label key, one per value seen (at most `max`, then it starts over). */
export class LabelCache<K extends string> {
  private readonly byValue = new Map<string, Labels & Record<K, string>>();

  constructor(
    private readonly key: K,
    private readonly max = 4096,
  ) {}

  get(value: string): Labels & Record<K, string> {
    let labels = this.byValue.get(value);
    if (!labels) {
      // Values that change all the time (a pid, a random name) must not grow the map without bound.
      if (this.byValue.size >= this.max) this.byValue.clear();
      labels = { [this.key]: value } as Labels & Record<K, string>;
      this.byValue.set(value, labels);
    }
    return labels;
  }
}
