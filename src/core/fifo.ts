// A first-in first-out queue whose shift() is O(1): Array.prototype.shift moves every element and
// turns a long backlog (a writer catching up after an outage) quadratic.
export class Fifo<T> {
  private items: T[] = [];
  private head = 0;

  get length(): number {
    return this.items.length - this.head;
  }

  push(item: T): void {
    this.items.push(item);
  }

  /** The i-th item from the front (0: the oldest). */
  peek(i = 0): T | undefined {
    return this.head + i < this.items.length ? this.items[this.head + i] : undefined;
  }

  /** The newest item. */
  last(): T | undefined {
    return this.length > 0 ? this.items[this.items.length - 1] : undefined;
  }

  shift(): T | undefined {
    if (this.head === this.items.length) return undefined;
    const item = this.items[this.head]!;
    this.head++;
    if (this.head === this.items.length) {
      this.clear();
    } else if (this.head >= 1024 && this.head * 2 >= this.items.length) {
      // Drop the consumed front now and then, so the array does not grow for ever.
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return item;
  }

  /** Removes the second item, keeping the first in front (the one being written). */
  removeSecond(): T | undefined {
    if (this.length < 2) return undefined;
    const second = this.items[this.head + 1]!;
    this.items[this.head + 1] = this.items[this.head]!;
    this.shift();
    return second;
  }

  /** Replaces the `count` oldest items (1 to length) with `item`, in front. */
  replaceFront(count: number, item: T): void {
    for (let i = 1; i < count; i++) this.shift();
    this.items[this.head] = item;
  }

  clear(): void {
    this.items = [];
    this.head = 0;
  }
}
