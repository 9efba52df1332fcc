// The Graphite writer's connection against small loopback servers, with the backoff on a manual
// clock: reconnect delays, retry on demand, the write timeout and the half-close receipt.
import { afterEach, describe, expect, it } from 'vitest';
import net from 'node:net';
import type { Clock, ClockTimer } from '../../src/core/clock.js';
import { Connection, STABLE_MS, type ConnectionOptions } from '../../src/writers/graphite/connection.js';
import { freePort } from '../helpers/net.js';

/** Timers that fire only when the test advances time. */
class ManualClock implements Clock {
  t = 1_000_000;
  private seq = 0;
  private timers = new Map<number, { at: number; fn: () => void }>();
  now(): number {
    return this.t;
  }
  setTimeout(fn: () => void, ms: number): ClockTimer {
    const id = ++this.seq;
    this.timers.set(id, { at: this.t + ms, fn });
    return { id } as unknown as ClockTimer;
  }
  clearTimeout(timer: ClockTimer): void {
    this.timers.delete((timer as unknown as { id: number }).id);
  }
  /** Delays of the timers armed now, shortest first. */
  pending(): number[] {
    return [...this.timers.values()].map((x) => x.at - this.t).sort((a, b) => a - b);
  }
  advance(ms: number): void {
    this.t += ms;
    for (const [id, x] of [...this.timers].sort((a, b) => a[1].at - b[1].at)) {
      if (x.at > this.t) break;
      this.timers.delete(id);
      x.fn();
    }
  }
}

type Event = { type: 'connect' } | { type: 'lost'; reason: string; wasConnected: boolean };

function connection(port: number, opts: Partial<ConnectionOptions> = {}) {
  const clock = new ManualClock();
  const events: Event[] = [];
  let wake: (() => void) | undefined;
  const push = (e: Event) => {
    events.push(e);
    wake?.();
  };
  const conn = new Connection({
    host: '127.0.0.1',
    port,
    connectTimeoutMs: 5_000,
    writeTimeoutMs: 30_000,
    reconnectMinMs: 500,
    reconnectMaxMs: 4_000,
    clock,
    random: () => 0, // no jitter: the waits are exact
    onConnect: () => push({ type: 'connect' }),
    onLost: (reason, upMs) => push({ type: 'lost', reason, wasConnected: upMs !== undefined }),
    onDrain: () => {},
    ...opts,
  });
  /** Resolves with the next event not yet taken. */
  let taken = 0;
  const next = async (): Promise<Event> => {
    while (taken === events.length) await new Promise<void>((r) => (wake = r));
    return events[taken++]!;
  };
  opened.push(conn);
  return { conn, clock, next };
}

const opened: Connection[] = [];
const servers: net.Server[] = [];
afterEach(() => {
  for (const c of opened.splice(0)) c.close();
  for (const s of servers.splice(0)) s.close();
});

function listen(onSocket: (s: net.Socket) => void = () => {}, opts: net.ServerOpts = {}): Promise<number> {
  const srv = net.createServer(opts, onSocket);
  servers.push(srv);
  return new Promise((resolve) => srv.listen(0, '127.0.0.1', () => resolve((srv.address() as net.AddressInfo).port)));
}

describe('Graphite connection', () => {
  it('retries a refused connection with the core backoff, doubling up to reconnectMax', async () => {
    const { conn, clock, next } = connection(await freePort());
    conn.open();
    const waits: number[] = [];
    for (let k = 0; k < 5; k++) {
      const e = await next();
      expect(e).toMatchObject({ type: 'lost', wasConnected: false });
      expect((e as { reason: string }).reason).toContain('connection refused');
      expect(conn.state).toBe('waiting');
      const [wait] = clock.pending();
      waits.push(wait!);
      clock.advance(wait! - 1);
      expect(conn.state).toBe('waiting'); // not a millisecond early
      clock.advance(1);
      expect(conn.state).toBe('connecting');
    }
    expect(waits).toEqual([500, 1000, 2000, 4000, 4000]);
  });

  it('retryNow() tries at once and resolves when the attempt has settled', async () => {
    const port = await freePort();
    const { conn, clock, next } = connection(port);
    conn.open();
    await next();
    expect(conn.state).toBe('waiting');
    const srv = net.createServer(() => {});
    servers.push(srv);
    await new Promise<void>((r) => srv.listen(port, '127.0.0.1', r));
    await conn.retryNow();
    expect(conn.state).toBe('connected');
    expect(await next()).toEqual({ type: 'connect' });
    expect(clock.pending()).toEqual([]); // the backoff timer is gone
  });

  it('reconnects at once after losing a connection that had been up for a while, with backoff after a short one', async () => {
    const sockets: net.Socket[] = [];
    const { conn, clock, next } = connection(await listen((s) => sockets.push(s)));
    conn.open();
    expect(await next()).toEqual({ type: 'connect' });
    clock.advance(STABLE_MS);
    sockets.shift()!.destroy();
    expect(await next()).toMatchObject({ type: 'lost', wasConnected: true });
    expect(conn.state).toBe('connecting');
    expect(await next()).toEqual({ type: 'connect' });
    // Carbon closes again at once: that counts as a failure.
    sockets.shift()!.destroy();
    expect(await next()).toMatchObject({ type: 'lost', wasConnected: true });
    expect(conn.state).toBe('waiting');
    expect(clock.pending()).toEqual([500]);
  });

  it('drops a connection whose peer stopped reading, once bytes wait for writeTimeout', async () => {
    const { conn, next } = connection(await listen((s) => s.pause()), { writeTimeoutMs: 300 });
    conn.open();
    expect(await next()).toEqual({ type: 'connect' });
    const handed: boolean[] = [];
    // More than both kernel buffers hold.
    for (let k = 0; k < 64; k++) conn.write(Buffer.alloc(1 << 20), (h) => handed.push(h));
    const began = Date.now();
    const e = await next();
    expect(e).toMatchObject({ type: 'lost', wasConnected: true, reason: 'carbon took no data for 0.3 s' });
    expect(Date.now() - began).toBeGreaterThanOrEqual(250);
    // The writes cut short are reported as not taken by the kernel.
    expect(handed.filter((h) => !h).length).toBeGreaterThan(0);
  });

  it('keeps an idle connection: no bytes waiting is not a timeout', async () => {
    const { conn, next } = connection(await listen(), { writeTimeoutMs: 100 });
    conn.open();
    expect(await next()).toEqual({ type: 'connect' });
    await new Promise((r) => setTimeout(r, 350));
    expect(conn.state).toBe('connected');
  });

  it('end() is confirmed when the peer closes after reading everything', async () => {
    let received = 0;
    const { conn, next } = connection(
      await listen((s) => {
        s.on('data', (d: Buffer) => (received += d.length));
        s.on('end', () => s.end());
      }),
    );
    conn.open();
    await next();
    conn.write(Buffer.alloc(3 << 20), () => {});
    expect(await conn.end()).toBe(true);
    expect(received).toBe(3 << 20);
    expect(conn.state).toBe('closed');
  });

  it('end() is not confirmed when the peer never closes; it gives up after writeTimeout', async () => {
    // A half-open peer: reads our FIN and keeps its side open.
    const { conn, clock, next } = connection(await listen(() => {}, { allowHalfOpen: true }), { writeTimeoutMs: 2_000 });
    conn.open();
    await next();
    const ended = conn.end();
    await new Promise((r) => setTimeout(r, 50));
    expect(clock.pending()).toEqual([2_000]);
    clock.advance(2_000);
    expect(await ended).toBe(false);
  });
});
