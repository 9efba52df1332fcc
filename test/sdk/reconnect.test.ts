// The kept connection of a source (src/sdk/reconnect.ts): opened at start, opened again after a
// backoff that doubles from 1 s to a minute, a probe waiting for the first one within its budget.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Reconnect } from '../../src/sdk/reconnect.js';
import type { ProbeContext } from '../../src/sdk/index.js';
import { quietLog } from '../helpers/probe.js';

function ctx(timeoutMs: number): ProbeContext {
  return { signal: AbortSignal.timeout(timeoutMs), timeoutMs, tickTime: 10, log: quietLog, reportProblem: () => {}, notify: () => {}, wants: () => true };
}

describe('Reconnect', () => {
  beforeEach(() => vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] }));
  afterEach(() => vi.useRealTimers());

  it('opens once, lets a probe wait for the first connection, and reopens after a doubling backoff', async () => {
    const opened: number[] = [];
    const link: Reconnect = new Reconnect({ peer: 'peer:1', log: quietLog, open: () => void opened.push(Date.now()) });
    link.start();
    link.start(); // already opening: no second connection
    await Promise.resolve();
    expect(opened).toHaveLength(1);
    const waiting = link.ready(ctx(5000));
    link.up();
    await expect(waiting).resolves.toBeUndefined();
    expect(link.connected).toBe(true);
    // An open connection is kept: later probes and starts open no other.
    await link.ready(ctx(5000));
    link.start();
    await Promise.resolve();
    expect(opened).toHaveLength(1);

    const delays: number[] = [];
    for (let i = 0; i < 8; i++) {
      link.lost('reset by peer');
      expect(link.connected).toBe(false);
      // A lost connection waits for its backoff: a probe fails at once, with the reason.
      await expect(link.ready(ctx(5000))).rejects.toThrow(/^not connected to peer:1: reset by peer; reconnecting in \d+ s/);
      const before = opened.length;
      const delay = Number(/in (\d+) s/.exec(link.problem!)![1]) * 1000;
      await vi.advanceTimersByTimeAsync(delay - 1);
      expect(opened).toHaveLength(before);
      await vi.advanceTimersByTimeAsync(1);
      expect(opened).toHaveLength(before + 1);
      delays.push(delay);
    }
    expect(delays).toEqual([1000, 2000, 4000, 8000, 16_000, 32_000, 60_000, 60_000]);
    link.up();
    link.lost('again');
    expect(link.problem).toMatch(/in 1 s$/); // up() starts the backoff over
  });

  it('a probe waits at most its budget for the first connection; an open that throws is a loss', async () => {
    vi.useRealTimers();
    const link = new Reconnect({ peer: 'peer:2', notConnected: 'no session with', log: quietLog, open: () => {} });
    await expect(link.ready(ctx(50))).rejects.toThrow('no session with peer:2 within 50 ms');
    const failing = new Reconnect({ peer: 'peer:3', log: quietLog, open: () => Promise.reject(new Error('module missing')) });
    await expect(failing.ready(ctx(2000))).rejects.toThrow(/not connected to peer:3: module missing; reconnecting in 1 s/);
    failing.stop();
  });

  it('stop() ends the backoff timer and wakes a waiting probe, which fails', async () => {
    const opened: number[] = [];
    const link = new Reconnect({ peer: 'peer:4', log: quietLog, open: () => void opened.push(1) });
    const waiting = link.ready(ctx(60_000));
    await Promise.resolve();
    link.stop();
    await expect(waiting).rejects.toThrow(/not connected to peer:4/);
    link.lost('closed by stop');
    await vi.advanceTimersByTimeAsync(120_000);
    expect(opened).toHaveLength(1);
    expect(link.stopped).toBe(true);
    await expect(link.ready(ctx(100))).rejects.toThrow('shut down');
  });
});
