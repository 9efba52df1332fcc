import { describe, expect, it } from 'vitest';
import { Fifo } from '../../src/core/fifo.js';

describe('Fifo', () => {
  it('keeps order across its periodic compaction', () => {
    const q = new Fifo<number>();
    for (let i = 0; i < 5000; i++) q.push(i);
    const out: number[] = [];
    for (let i = 0; i < 3000; i++) out.push(q.shift()!);
    for (let i = 5000; i < 6000; i++) q.push(i);
    while (q.length) out.push(q.shift()!);
    expect(out).toEqual(Array.from({ length: 6000 }, (_, i) => i));
    expect(q.shift()).toBeUndefined();
  });

  it('peek, last and removeSecond (the first item stays in front)', () => {
    const q = new Fifo<string>();
    expect(q.removeSecond()).toBeUndefined();
    q.push('a');
    q.push('b');
    q.push('c');
    expect(q.peek()).toBe('a');
    expect(q.peek(2)).toBe('c');
    expect(q.peek(3)).toBeUndefined();
    expect(q.last()).toBe('c');
    expect(q.removeSecond()).toBe('b');
    expect([q.shift(), q.shift(), q.shift()]).toEqual(['a', 'c', undefined]);
    expect(q.last()).toBeUndefined();
  });
});
