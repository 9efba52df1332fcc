// The Graphite send queue on a manual clock, with no socket: what is sent, what is sent again
// after a lost connection, and for how long.
import { describe, expect, it } from 'vitest';
import { SendQueue, type Message, type SendQueueOptions } from '../../src/writers/graphite/send-queue.js';

function setup(opts: Partial<SendQueueOptions> = {}) {
  const clock = { t: 1_000_000 };
  const q = new SendQueue({ resendWindowMs: 30_000, maxSends: 4, maxUnconfirmedPoints: Infinity, now: () => clock.t, ...opts });
  /** Adds a message whose bytes name it. */
  const add = (name: string, count = 1) => q.add(Buffer.from(name), count);
  /** Sends everything due; the kernel takes all but the last `unhanded`. */
  const sendAll = (unhanded = 0): string[] => {
    const sent: Message[] = [];
    for (let m = q.next(); m; m = q.next()) sent.push(m);
    sent.slice(0, sent.length - unhanded).forEach((m) => q.handed(m));
    return sent.map((m) => m.bytes.toString());
  };
  return { q, clock, add, sendAll };
}

describe('Graphite send queue', () => {
  it('sends in order and counts what waits', () => {
    const { q, add, sendAll } = setup();
    add('a', 500);
    add('b', 20);
    expect(q.pendingPoints).toBe(520);
    expect(sendAll()).toEqual(['a', 'b']);
    expect(q.pendingPoints).toBe(0);
    expect(q.unconfirmedPoints).toBe(520);
    expect(q.next()).toBeUndefined();
  });

  it('keeps a sent message for resendWindow after its first send, then takes it as delivered', () => {
    const { q, clock, add, sendAll } = setup();
    add('old');
    sendAll();
    clock.t += 20_000;
    add('new');
    sendAll();
    clock.t += 10_000; // 'old' is 30 s old, 'new' 10 s
    q.prune();
    expect(q.unconfirmedPoints).toBe(1);
    expect(q.lost()).toBe(1);
    expect(sendAll()).toEqual(['new']);
    expect(q.resent).toBe(1);
  });

  it('sends again what a lost connection may not have delivered, the last written first, before what was already due', () => {
    const { q, clock, add, sendAll } = setup();
    add('a');
    add('b');
    add('c');
    sendAll(1); // the kernel never took all of 'c'
    expect(q.lost()).toBe(3);
    add('d');
    clock.t += 1000;
    // The connection comes back and goes again after one message.
    expect(q.next()!.bytes.toString()).toBe('c');
    q.lost();
    // Resent and new messages take turns.
    expect(sendAll()).toEqual(['c', 'd', 'b', 'a']);
    expect(q.resent).toBe(4);
  });

  it('does not keep a message the kernel has not taken only because its window passed', () => {
    const { q, clock, add, sendAll } = setup();
    add('stuck');
    sendAll(1);
    clock.t += 60_000;
    q.prune();
    expect(q.unconfirmedPoints).toBe(1);
    q.lost();
    expect(sendAll()).toEqual(['stuck']);
  });

  it('keeps the first send time on a resend, so resent messages leave the window (no livelock)', () => {
    const { q, clock, add, sendAll } = setup();
    add('a');
    sendAll();
    for (let k = 0; k < 2; k++) {
      clock.t += 14_000;
      q.lost();
      expect(sendAll()).toEqual(['a']);
    }
    clock.t += 2_000; // 30 s since 'a' was first sent, 2 s since it was last sent
    q.lost();
    expect(sendAll()).toEqual([]);
    expect(q.givenUp).toBe(0);
  });

  it('stops sending a message again after maxSends writes on lost connections, and counts it', () => {
    const { q, add, sendAll } = setup({ maxSends: 3 });
    add('x', 7);
    for (let k = 0; k < 3; k++) {
      expect(sendAll(1)).toEqual(['x']);
      q.lost();
    }
    expect(sendAll()).toEqual([]);
    expect(q.givenUp).toBe(7);
    expect(q.resent).toBe(14);
  });

  it('never starves new data: a connection reset after every few messages still delivers every tick', () => {
    // Issue 17: a proxy that resets the connection after 20-200 KB. Here: each connection takes
    // 2 to 5 messages, the last of them only partly; one new message a second for 120 s.
    const { q, clock, add } = setup();
    const firstSent = new Map<string, number>();
    let seed = 7;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    for (let tick = 0; tick < 120; tick++) {
      add(`t${tick}`);
      const cap = 2 + Math.floor(random() * 4);
      const sent: Message[] = [];
      for (let m = q.next(); m && sent.length < cap; m = sent.length < cap ? q.next() : undefined) sent.push(m);
      sent.slice(0, -1).forEach((m) => q.handed(m));
      for (const m of sent) if (!firstSent.has(m.bytes.toString())) firstSent.set(m.bytes.toString(), tick);
      q.lost();
      clock.t += 1000;
    }
    for (let tick = 0; tick < 115; tick++) {
      const at = firstSent.get(`t${tick}`);
      expect(at, `t${tick} never sent`).toBeDefined();
      expect(at! - tick).toBeLessThanOrEqual(2);
    }
    // Bounded work: each message is written at most maxSends times.
    expect(q.resent).toBeLessThanOrEqual(120 * 3);
  });

  it('forgets the oldest delivered messages beyond maxUnconfirmedPoints', () => {
    const { q, add, sendAll } = setup({ maxUnconfirmedPoints: 10 });
    add('a', 6);
    add('b', 6);
    add('c', 6);
    sendAll(1);
    q.prune();
    // 'c' is kept although over the bound: the kernel has not taken it.
    expect(q.unconfirmedPoints).toBe(6);
    q.lost();
    expect(sendAll()).toEqual(['c']);
  });

  it('with resendWindow 0, sends again only what the kernel never took', () => {
    const { q, add, sendAll } = setup({ resendWindowMs: 0 });
    add('a');
    add('b');
    sendAll(1);
    q.lost();
    expect(sendAll()).toEqual(['b']);
  });

  it('confirmAll forgets what carbon confirmed; clear reports what was left', () => {
    const { q, add, sendAll } = setup();
    add('a', 3);
    sendAll();
    q.confirmAll();
    expect(q.lost()).toBe(0);
    add('b', 2);
    add('c', 4);
    q.next();
    expect(q.clear()).toEqual({ pending: 4, unconfirmed: 2 });
    expect(q.pendingPoints + q.unconfirmedPoints).toBe(0);
  });

  it('says when a message counts as delivered: out of the resend window, or confirmed by carbon; never while it may be sent again', () => {
    const { q, clock, sendAll } = setup();
    const delivered: string[] = [];
    const add = (name: string) => q.add(Buffer.from(name), 1, () => delivered.push(name));
    add('a');
    add('b');
    sendAll();
    clock.t += 10_000;
    q.prune();
    expect(delivered).toEqual([]);
    // Lost: both due again, not delivered.
    q.lost();
    expect(delivered).toEqual([]);
    sendAll();
    clock.t += 20_000; // 30 s since the first send
    q.prune();
    // (sent again last written first)
    expect(delivered).toEqual(['b', 'a']);
    add('c');
    sendAll();
    q.confirmAll();
    expect(delivered).toEqual(['b', 'a', 'c']);
    add('d');
    sendAll();
    q.clear();
    expect(delivered).toEqual(['b', 'a', 'c']);
  });
});
