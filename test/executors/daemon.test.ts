// The daemon's start: writers start, then every source's init() runs before the first tick. An
// init that fails stops pollect (a port that cannot be bound) unless its class says the backend
// may come later (initRetried): then start goes on and init is tried again before each probe.
import { afterEach, describe, expect, it, vi } from 'vitest';
import net from 'node:net';
import { Daemon, StartError } from '../../src/executors/daemon.js';
import type { PollectConfig, ResolvedSource } from '../../src/config/load.js';
import { Source, Writer, type AnySourceClass, type AnyWriterClass, type Batch, type SourceConfig } from '../../src/sdk/index.js';
import { createLogger } from '../../src/log.js';
import { HttpIngressSource } from '../../src/sources/httpingress/index.js';
import { DramatiqSource } from '../../src/sources/dramatiq/index.js';
import { configFor, typeName } from '../helpers/plugin.js';
import { freePort } from '../helpers/net.js';
import { ManualClock } from '../helpers/clock.js';

/** Every batch any Capture writer was given, and whether one was stopped. */
const captured = { batches: [] as Batch[], started: 0, stopped: 0 };

class CaptureWriter extends Writer {
  override start(): void {
    captured.started++;
  }
  write(batch: Batch): void {
    captured.batches.push(batch);
  }
  override stop(): void {
    captured.stopped++;
  }
}

function daemon(
  sources: { cls: AnySourceClass; config: SourceConfig }[],
  opts: { writer?: AnyWriterClass; writers?: AnyWriterClass[]; shutdownGrace?: number; writerKeys?: Record<string, unknown> } = {},
) {
  const lines: string[] = [];
  const log = createLogger('', { level: 'debug', write: (l) => lines.push(l) });
  const resolved: ResolvedSource[] = sources.map((s, i) => ({ ...s, typeName: typeName(s.cls), path: `executors[0].sources[${i}]` }));
  const config: PollectConfig = {
    file: 'test.json',
    configDir: process.cwd(),
    tickTime: 10,
    shutdownGrace: opts.shutdownGrace ?? 2,
    selfMetrics: false,
    writers: (opts.writers ?? [opts.writer ?? (CaptureWriter as AnyWriterClass)]).map((cls, i) => ({
      cls,
      config: { type: typeName(cls), bufferSize: 1000, ...opts.writerKeys },
      typeName: typeName(cls),
      path: `writers[${i}]`,
    })),
    executors: [{ collection: 'c', tickTime: 10, maxBackoff: 10, sources: resolved, path: 'executors[0]' }],
  };
  return { d: new Daemon(config, { log }), lines };
}

afterEach(() => {
  captured.batches.length = 0;
  captured.started = captured.stopped = 0;
});

/** A source whose init fails its first `failures` times. */
function flakyInit(failures: number, retried: boolean) {
  return class Backend extends Source {
    static override initRetried = retried;
    static inits = 0;
    override init(): void {
      if (++Backend.inits <= failures) throw new Error('backend not up');
    }
    probe(): number {
      return 42;
    }
  };
}

describe('init at start', () => {
  it('an init that fails and is not retried is a start error naming the source; no tick runs and the writers are stopped', async () => {
    const Bad = flakyInit(1, false);
    const { d } = daemon([{ cls: Bad, config: { type: 'Backend' } }]);
    const err = await d.startAll().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StartError);
    expect((err as Error).message).toBe('c.Backend: init failed: backend not up');
    expect(captured).toMatchObject({ started: 1, stopped: 1, batches: [] });
  });

  it('an init the class retries: start goes on with a warning, and init is tried again before each probe until it works', async () => {
    const Later = flakyInit(2, true);
    const { d, lines } = daemon([{ cls: Later, config: { type: 'Backend' } }]);
    await d.startAll();
    expect(lines.filter((l) => l.includes('WARN') && l.includes('c.Backend: init failed: backend not up; retried before each probe'))).toHaveLength(1);
    const first = await d.executors[0]!.runTick(1000);
    expect(first.sources[0]).toMatchObject({ success: false, error: 'backend not up' });
    let last = first;
    for (let tick = 2; tick < 6 && !last.sources[0]!.success; tick++) last = await d.executors[0]!.runTick(tick * 1000);
    expect(Later.inits).toBe(3);
    expect(last.points.map((p) => [p.name.id, p.value])).toEqual([['c.Backend', 42]]);
    await d.stop();
  });

  it('HttpIngress binds its port in init: it accepts pushes before the first tick', async () => {
    const port = await freePort();
    const { d } = daemon([{ cls: HttpIngressSource, config: configFor(HttpIngressSource, { port, metrics: { m: {} } }) }]);
    await d.startAll();
    const res = await fetch(`http://127.0.0.1:${port}/`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ metrics: { m: { value: 7 } } }),
    });
    expect(res.status).toBe(200);
    const batch = await d.executors[0]!.runTick();
    expect(batch.points.map((p) => [p.name.id, p.value])).toEqual([['c.HttpIngress.m', 7]]);
    await d.stop();
    // Stopped: the port is free again.
    const again = net.createServer();
    await new Promise<void>((resolve, reject) => again.once('error', reject).listen(port, '127.0.0.1', () => resolve()));
    await new Promise((r) => again.close(r));
  });

  it('Dramatiq with its Redis not up yet is no start error: its probes fail until Redis comes', async () => {
    const port = await freePort();
    const { d } = daemon([{ cls: DramatiqSource, config: configFor(DramatiqSource, { port }) }]);
    await d.startAll();
    const batch = await d.executors[0]!.runTick();
    expect(batch.sources[0]).toMatchObject({ success: false, error: expect.stringMatching(new RegExp(`^Redis 127\\.0\\.0\\.1:${port}: .*ECONNREFUSED`)) });
    await d.stop();
  });
});

describe('stop', () => {
  it('gives a running probe half the grace at most, and the writers the rest to deliver its tick', async () => {
    class Hang extends Source {
      probe(): Promise<number> {
        return new Promise(() => {});
      }
    }
    class Fast extends Source {
      probe(): number {
        return 1;
      }
    }
    // A writer that takes its time: 300 ms a batch.
    class Slow extends Writer {
      async write(batch: Batch): Promise<void> {
        await new Promise((r) => setTimeout(r, 300));
        captured.batches.push(batch);
      }
    }
    const { d, lines } = daemon(
      [
        { cls: Hang, config: { type: 'Hang', timeout: 60 } },
        { cls: Fast, config: { type: 'Fast' } },
      ],
      { writer: Slow, shutdownGrace: 2 },
    );
    await d.start();
    await new Promise((r) => setTimeout(r, 50)); // the first tick is waiting on Hang
    const started = Date.now();
    await d.stop();
    const took = Date.now() - started;
    expect(took).toBeGreaterThanOrEqual(1000 - 20);
    expect(took).toBeLessThan(2000);
    expect(captured.batches).toHaveLength(1);
    expect(captured.batches[0]!.points.map((p) => p.name.id)).toEqual(['c.Fast']);
    expect(captured.batches[0]!.sources[0]).toMatchObject({ success: false, error: 'pollect is stopping' });
    expect(lines.filter((l) => l.includes('not written'))).toEqual([]);
  });
});

describe('--once (runOnce)', () => {
  class Fast extends Source {
    probe(): number {
      return 1;
    }
  }

  it('with an interval, a source whose first probe primes it is probed that long before the tick; the others once', async () => {
    const probes: string[] = [];
    class Rate extends Source {
      override get reportsChanges(): boolean {
        return true;
      }
      private last: number | undefined;
      probe(): number | undefined {
        const now = clock.now();
        probes.push(`Rate@${now}`);
        const rate = this.last === undefined ? undefined : now - this.last;
        this.last = now;
        return rate;
      }
    }
    class Once extends Source {
      probe(): number {
        probes.push(`Once@${clock.now()}`);
        return 1;
      }
    }
    const clock = new ManualClock(0);
    const { d } = daemon([
      { cls: Rate, config: { type: 'Rate' } },
      { cls: Once, config: { type: 'Once' } },
    ]);
    const run = d.runOnce({ interval: 1.5, clock });
    await vi.waitFor(() => expect(clock.pending).toBe(1));
    expect(probes).toEqual(['Rate@0']);
    await clock.advance(1500);
    expect(await run).toBe(true);
    expect(probes.slice(1).sort()).toEqual(['Once@1500', 'Rate@1500']);
    expect(captured.batches).toHaveLength(1);
    expect(captured.batches[0]!.points.map((p) => [p.name.id, p.value])).toEqual([
      ['c.Rate', 1500],
      ['c.Once', 1],
    ]);
    // Without an interval nothing is primed (the Python pollect's behaviour: rates print nothing).
    probes.length = 0;
    captured.batches.length = 0;
    const again = daemon([{ cls: Rate, config: { type: 'Rate' } }]);
    expect(await again.d.runOnce()).toBe(true);
    expect(probes).toHaveLength(1);
    expect(captured.batches[0]!.points).toEqual([]);
  });

  it('a failing priming probe is not counted: the tick reports the source as it fares then', async () => {
    let calls = 0;
    class FlakyRate extends Source {
      override get reportsChanges(): boolean {
        return true;
      }
      probe(): number {
        if (++calls === 1) throw new Error('not yet');
        return 7;
      }
    }
    const { d, lines } = daemon([{ cls: FlakyRate, config: { type: 'FlakyRate' } }]);
    expect(await d.runOnce({ interval: 0 })).toBe(true);
    expect(captured.batches[0]!.sources[0]).toMatchObject({ success: true, errorsTotal: 0, consecutiveFailures: 0 });
    expect(captured.batches[0]!.points.map((p) => p.value)).toEqual([7]);
    expect(lines.some((l) => l.includes('priming probe failed: not yet'))).toBe(true);
  });

  it('an init that never settles is a start error at the probe timeout', async () => {
    class Stuck extends Source {
      override init(): Promise<void> {
        return new Promise(() => {});
      }
      probe(): number {
        return 1;
      }
    }
    const { d } = daemon([{ cls: Stuck, config: { type: 'Stuck', timeout: 0.2 } }]);
    const started = Date.now();
    const err = await d.runOnce().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StartError);
    expect((err as Error).message).toBe('c.Stuck: init failed: init timed out after 0.2 s');
    // The 0.2 s timeout ends it, not the 10 s tick.
    const took = Date.now() - started;
    expect(took).toBeGreaterThanOrEqual(190);
    expect(took).toBeLessThan(3000);
    expect(captured).toMatchObject({ started: 1, stopped: 1, batches: [] });
  });

  it('a writer whose write never settles fails the run within shutdownGrace; the other writers deliver', async () => {
    class Never extends Writer {
      write(): Promise<void> {
        return new Promise(() => {});
      }
    }
    const { d, lines } = daemon([{ cls: Fast, config: { type: 'Fast' } }], {
      writers: [Never as AnyWriterClass, CaptureWriter as AnyWriterClass],
      shutdownGrace: 0.4,
    });
    const started = Date.now();
    expect(await d.runOnce()).toBe(false);
    // The 0.4 s grace ends the wait, not the helper's 2 s (nor nothing: the test would time out);
    // the slack above 0.4 s is for a machine loaded by the parallel suite.
    const took = Date.now() - started;
    expect(took).toBeGreaterThanOrEqual(390);
    expect(took).toBeLessThan(1500);
    expect(captured.batches.map((b) => b.points.map((p) => p.name.id))).toEqual([['c.Fast']]);
    expect(lines.filter((l) => l.includes('writer Never: stopped with 1 point(s) not written'))).toHaveLength(1);
  });
});

describe("a writer's batchWait and batchSize", () => {
  it('reach its runtime: ticks wait for batchWait and go out as one write (here at the stop, which writes at once)', async () => {
    class Fixed extends Source {
      probe(): number {
        return 1;
      }
    }
    const { d } = daemon([{ cls: Fixed, config: { type: 'Fixed' } }], { writerKeys: { batchWait: 60, batchSize: 10 } });
    await d.startAll();
    await d.executors[0]!.runTick(1000);
    await d.executors[0]!.runTick(2000);
    await new Promise((r) => setTimeout(r, 20));
    expect(captured.batches).toHaveLength(0);
    await d.stop();
    expect(captured.batches.map((b) => b.points.map((p) => p.timestamp))).toEqual([[1000, 2000]]);
  });
});
