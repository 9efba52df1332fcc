// Objects made once per series and reused on every tick: a sample's labels are never changed
// downstream, and a new object (or key string) per sample per tick is garbage the GC must sweep.
import type { Labels } from '../../sdk/index.js';

/** Values made once per key by `make`; at most `max` are kept, then it starts over. */
export class SeriesCache<V> {
  private readonly byKey = new Map<string, V>();

  constructor(
    private readonly make: (key: string) => V,
    private readonly max = 4096,
  ) {}

  get(key: string): V {
    let value = this.byKey.get(key);
    if (value === undefined) {
      // Keys that change all the time (a pid, a container's veth, a USB disk) must not grow the
      // map without bound.
      if (this.byKey.size >= this.max) this.byKey.clear();
      value = this.make(key);
      this.byKey.set(key, value);
    }
    return value;
  }
}

/** `{ [key]: value }` label objects for one label key, one per value seen. */
export class LabelCache<K extends string> extends SeriesCache<Labels & Record<K, string>> {
  constructor(key: K, max?: number) {
    super((value) => ({ [key]: value }) as Labels & Record<K, string>, max);
  }
}
