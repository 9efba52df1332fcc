import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Executor, alignedAfter } from '../../src/executors/executor.js';
import { SourceRunner } from '../../src/executors/source-runner.js';
import { Source, SourceError, type ProbeContext, type Sample, type SourceConfig } from '../../src/sdk/index.js';
import { DummySource } from '../../src/sources/dummy/index.js';
import { Writer, type Batch, type Logger, type Point } from '../../src/sdk/index.js';
import { WriterRuntime } from '../../src/executors/writer-runtime.js';
import { createLogger } from '../../src/log.js';
import { CaptureWriter } from '../helpers/capture.js';
import { build } from '../helpers/plugin.js';

function logSink() {
  const lines: string[] = [];
  return { lines, log: createLogger('', { level: 'debug', write: (l) => lines.push(l) }) };
}

function runner(source: Source<SourceConfig>, opts: { tickTime?: number; typeName?: string; log?: ReturnType<typeof createLogger>; maxBackoff?: number } = {}) {
  const typeName = opts.typeName ?? 'Dummy';
  return new SourceRunner({
    id: `c.${typeName}${source.config.name ? '.' + source.config.name : ''}`,
    collection: 'c',
    typeName,
    source,
    tickTime: opts.tickTime ?? 10,
    maxBackoff: opts.maxBackoff ?? 300,
    log: opts.log ?? logSink().log,
    configDir: '.',
  });
}

/** The core's runtime around a writer, as the daemon adopts it. */
function rt(writer: Writer, log: Logger = logSink().log): WriterRuntime {
  return new WriterRuntime(writer, { bufferSize: 1000, log });
}

/** A source whose probes are counted and can be made to fail or hang. */
class ScriptedSource extends Source<SourceConfig> {
  calls = 0;
  concurrent = 0;
  maxConcurrent = 0;
  mode: 'ok' | 'fail' | 'hang' = 'ok';
  async probe(ctx: ProbeContext): Promise<number> {
    this.calls++;
    this.concurrent++;
    this.maxConcurrent = Math.max(this.maxConcurrent, this.concurrent);
    try {
      if (this.mode === 'fail') throw new SourceError('boom');
      if (this.mode === 'hang') await new Promise((resolve) => setTimeout(resolve, 60_000));
      return this.calls;
    } finally {
      this.concurrent--;
    }
  }
}

/** Stops an executor under fake timers: the running probes' timeouts have to be advanced by hand. */
async function stopFake(ex: Executor, timeoutMs: number): Promise<void> {
  const done = ex.stop();
  await vi.advanceTimersByTimeAsync(timeoutMs);
  await done;
}

describe('alignment', () => {
  it('alignedAfter gives the next multiple strictly after t', () => {
    expect(alignedAfter(0, 10_000)).toBe(10_000);
    expect(alignedAfter(9_999, 10_000)).toBe(10_000);
    expect(alignedAfter(10_000, 10_000)).toBe(20_000);
    expect(alignedAfter(1_795_306_214_001, 1000)).toBe(1_795_306_215_000);
  });
});

describe('Executor scheduling (fake timers)', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('ticks at start, then on wall-clock multiples of tickTime without drift', async () => {
    vi.setSystemTime(new Date('2026-01-01T00:00:03.250Z'));
    const w = new CaptureWriter();
    const ex = new Executor({ collection: 'c', tickTime: 10, runners: [runner(build(DummySource))], writers: [rt(w)] });
    ex.start();
    await vi.advanceTimersByTimeAsync(100 * 1000);
    await ex.stop();
    const stamps = w.batches.map((b) => new Date(b.timestamp).toISOString());
    expect(stamps[0]).toBe('2026-01-01T00:00:03.250Z');
    // From the second tick on, exactly on :10, :20, ... however long the run.
    expect(stamps.slice(1, 4)).toEqual(['2026-01-01T00:00:10.000Z', '2026-01-01T00:00:20.000Z', '2026-01-01T00:00:30.000Z']);
    expect(stamps.at(-1)).toBe('2026-01-01T00:01:40.000Z');
    expect(w.batches).toHaveLength(11);
  });

  it('skips an aligned tick that would come less than half a period after start', async () => {
    vi.setSystemTime(new Date('2026-01-01T00:00:08.000Z'));
    const w = new CaptureWriter();
    const ex = new Executor({ collection: 'c', tickTime: 10, runners: [runner(build(DummySource))], writers: [rt(w)] });
    ex.start();
    await vi.advanceTimersByTimeAsync(13_000);
    await ex.stop();
    expect(w.batches.map((b) => new Date(b.timestamp).toISOString())).toEqual(['2026-01-01T00:00:08.000Z', '2026-01-01T00:00:20.000Z']);
  });

  it('two executors keep their own periods', async () => {
    vi.setSystemTime(new Date('2026-01-01T00:00:00.500Z'));
    const fast = new CaptureWriter();
    const slow = new CaptureWriter();
    const a = new Executor({ collection: 'a', tickTime: 1, runners: [runner(build(DummySource), { tickTime: 1 })], writers: [rt(fast)] });
    const b = new Executor({ collection: 'b', tickTime: 5, runners: [runner(build(DummySource), { tickTime: 5 })], writers: [rt(slow)] });
    a.start();
    b.start();
    await vi.advanceTimersByTimeAsync(20_000);
    await Promise.all([a.stop(), b.stop()]);
    expect(fast.batches.length).toBe(21); // start at :00.5, then :01 .. :20 (half a period away is not too close)
    expect(slow.batches.map((x) => x.timestamp % 5000)).toEqual([500, 0, 0, 0, 0]);
  });

  it('never probes a source twice at once: a tick that finds it running skips it and counts the skip', async () => {
    vi.setSystemTime(new Date('2026-01-01T00:00:00.000Z'));
    const slow = build(DummySource, { sleep: 2.5, timeout: 10 });
    const fast = build(DummySource, { name: 'fast' });
    const w = new CaptureWriter();
    const ex = new Executor({ collection: 'c', tickTime: 1, runners: [runner(slow, { tickTime: 1 }), runner(fast, { tickTime: 1 })], writers: [rt(w)] });
    ex.start();
    await vi.advanceTimersByTimeAsync(5_100);
    await stopFake(ex, 5000);
    const slowStates = w.batches.map((b) => b.sources[0]!.state);
    expect(slowStates.filter((s) => s === 'skipped').length).toBeGreaterThanOrEqual(2);
    const last = w.batches.at(-1)!.sources[0]!;
    expect(last.skippedTotal).toBe(slowStates.filter((s) => s === 'skipped').length);
    // The fast source was written every tick regardless.
    expect(w.batches.every((b) => b.points.some((p) => p.name.id === 'c.Dummy.fast'))).toBe(true);
  });

  it('abandons a probe past its timeout, counts an error, and writes the other sources on time', async () => {
    vi.setSystemTime(new Date('2026-01-01T00:00:00.000Z'));
    const hung = new ScriptedSource({ type: 'Scripted', timeout: 2 });
    hung.mode = 'hang';
    const ok = build(DummySource, { value: 7 });
    const w = new CaptureWriter();
    const ex = new Executor({ collection: 'c', tickTime: 10, runners: [runner(hung, { typeName: 'Scripted' }), runner(ok)], writers: [rt(w)] });
    ex.start();
    await vi.advanceTimersByTimeAsync(1_999);
    expect(w.batches).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(2);
    expect(w.batches).toHaveLength(1);
    expect(hung.calls).toBe(1);
    const b = w.batches[0]!;
    expect(b.points.map((p) => [p.name.id, p.value])).toEqual([['c.Dummy', 7]]);
    expect(b.sources[0]).toMatchObject({ success: false, error: 'timed out after 2 s', errorsTotal: 1 });
    await stopFake(ex, 10);
  });

  it('backs off a failing source 1, 2, 4 ... ticks up to the cap, logs once on failure and once on recovery', async () => {
    vi.setSystemTime(new Date('2026-01-01T00:00:00.000Z'));
    const src = new ScriptedSource({ type: 'Scripted' });
    src.mode = 'fail';
    const { lines, log } = logSink();
    const w = new CaptureWriter();
    const r = runner(src, { tickTime: 1, typeName: 'Scripted', log, maxBackoff: 8 });
    const ex = new Executor({ collection: 'c', tickTime: 1, runners: [r], writers: [rt(w, log)] });
    ex.start();
    await vi.advanceTimersByTimeAsync(40_000);
    // Probes at ticks 0,1,3,7,15,23,31,39 (waits 1,2,4,8,8,8,8 ticks) — 41 ticks in all.
    const probedAt = w.batches.map((b, i) => (b.sources[0]!.state === 'probed' ? i : -1)).filter((i) => i >= 0);
    expect(probedAt).toEqual([0, 1, 3, 7, 15, 23, 31, 39]);
    expect(w.batches.filter((b) => b.sources[0]!.state === 'backoff').every((b) => b.sources[0]!.error === 'boom')).toBe(true);
    expect(lines.filter((l) => l.includes('ERROR'))).toHaveLength(1);
    src.mode = 'ok';
    await vi.advanceTimersByTimeAsync(9_000);
    await ex.stop();
    expect(lines.filter((l) => l.includes('recovered after 8 failed probe(s)'))).toHaveLength(1);
    expect(w.batches.at(-1)!.sources[0]).toMatchObject({ success: true, consecutiveFailures: 0, errorsTotal: 8 });
  });

  it('isolates a throwing source: the others are written and the executor keeps ticking', async () => {
    vi.setSystemTime(new Date('2026-01-01T00:00:00.000Z'));
    const bad = build(DummySource, { name: 'bad', error: 'kaput' });
    const good = build(DummySource, { name: 'good', value: 5 });
    const w = new CaptureWriter();
    const ex = new Executor({ collection: 'c', tickTime: 1, runners: [runner(bad, { tickTime: 1 }), runner(good, { tickTime: 1 })], writers: [rt(w)] });
    ex.start();
    await vi.advanceTimersByTimeAsync(3_000);
    await ex.stop();
    expect(w.batches.length).toBe(4); // :00 (start), :01, :02, :03
    for (const b of w.batches) expect(b.points.map((p) => p.name.id)).toEqual(['c.Dummy.good']);
  });

  it('a writer that throws or hangs never blocks the next tick or the other writers', async () => {
    vi.setSystemTime(new Date('2026-01-01T00:00:00.000Z'));
    class Throwing extends Writer {
      calls = 0;
      write(): void {
        this.calls++;
        throw new Error('disk full');
      }
    }
    class Hanging extends Writer {
      write(): Promise<void> {
        return new Promise(() => {});
      }
    }
    const t = new Throwing({ type: 'T' });
    t.id = 'T';
    const h = new Hanging({ type: 'H' });
    h.id = 'H';
    const w = new CaptureWriter();
    const { lines, log } = logSink();
    const ex = new Executor({
      collection: 'c',
      tickTime: 1,
      runners: [runner(build(DummySource), { tickTime: 1 })],
      writers: [rt(t, log), rt(h, log), rt(w, log)],
    });
    const [tr, hr] = ex.writers as [WriterRuntime, WriterRuntime];
    ex.start();
    await vi.advanceTimersByTimeAsync(3_500);
    await ex.stop();
    expect(w.batches.length).toBe(4);
    // The throwing writer is retried with backoff (0.5 s, 1 s, 2 s ...), not once per tick, and logged once.
    expect(t.calls).toBeGreaterThanOrEqual(3);
    expect(t.calls).toBeLessThanOrEqual(4);
    expect(tr.stats()).toMatchObject({ errors: t.calls, written: 0, queueLength: 4 });
    expect(lines.filter((l) => l.includes('writer T: disk full'))).toHaveLength(1);
    // The hanging writer holds its first batch; the next three wait behind it.
    expect(hr.stats()).toMatchObject({ written: 0, queueLength: 4 });
  });
});

describe('names and labels', () => {
  it('builds <collection>.<Type>[.<name>][.<valueName>] and merges static labels without mutating samples', async () => {
    const returned: Sample[] = [{ name: 'x', value: 1, labels: { disk: '_home' } }, { value: 2 }];
    const frozen = JSON.stringify(returned);
    class ListSource extends Source<SourceConfig> {
      probe(): Sample[] {
        return returned;
      }
    }
    const r = runner(new ListSource({ type: 'List', name: 'n', labels: { env: 'prod' } }), { typeName: 'List' });
    const points: Point[] = [];
    const status = await r.tick(1234, points);
    expect(status.success).toBe(true);
    expect(points).toEqual([
      expect.objectContaining({
        name: { collection: 'c', source: 'List', instance: 'n', value: 'x', id: 'c.List.n.x' },
        value: 1,
        labels: { env: 'prod', disk: '_home' },
        timestamp: 1234,
        type: 'gauge',
      }),
      expect.objectContaining({ name: { collection: 'c', source: 'List', instance: 'n', id: 'c.List.n' }, value: 2, labels: { env: 'prod' } }),
    ]);
    // Names are built once: the next tick's points share them.
    const again: Point[] = [];
    await r.tick(1235, again);
    expect(again[0]!.name).toBe(points[0]!.name);
    expect(again[1]!.name).toBe(points[1]!.name);
    expect(JSON.stringify(returned)).toBe(frozen);
    points[0]!.labels.env = 'changed';
    expect(returned[0]!.labels).toEqual({ disk: '_home' });
  });

  it('a record result gives one point per key; a bad value is left out and counted, a result of the wrong shape is an error', async () => {
    const pts: Point[] = [];
    const ok = await runner(build(DummySource, { value: { a: 1, b: 2 } })).tick(1, pts);
    expect(ok.success).toBe(true);
    expect(pts.map((p) => p.name.id)).toEqual(['c.Dummy.a', 'c.Dummy.b']);
    class Bad extends Source<SourceConfig> {
      probe() {
        return { a: 'nope', b: 3 } as unknown as Record<string, number>;
      }
    }
    const badPts: Point[] = [];
    const { lines, log } = logSink();
    const bad = await runner(new Bad({ type: 'Bad' }), { typeName: 'Bad', log }).tick(1, badPts);
    expect(bad).toMatchObject({ success: true, rejectedTotal: 1 });
    expect(badPts.map((p) => [p.name.id, p.value])).toEqual([['c.Bad.b', 3]]);
    expect(lines.filter((l) => l.includes('WARN') && l.includes('c.Bad: sample left out: sample "a": value "nope" is not a number'))).toHaveLength(1);
    class Shapeless extends Source<SourceConfig> {
      probe() {
        return 'twelve' as unknown as number;
      }
    }
    const wrong = await runner(new Shapeless({ type: 'Shapeless' }), { typeName: 'Shapeless' }).tick(1, []);
    expect(wrong.success).toBe(false);
    expect(wrong.error).toMatch(/^probe\(\) returned .*twelve.*; expected a number, a record of numbers or a list of samples$/);
  });
});

describe('synchronous probes', () => {
  it('runs every synchronous probe of a tick in one run of code, before any promise callback', async () => {
    // The host sources share one reading of /proc/stat, /proc/meminfo ... per run (readProcShared).
    const order: string[] = [];
    class Sync extends Source<SourceConfig> {
      probe(): number {
        order.push(`probe ${this.config.name}`);
        void Promise.resolve().then(() => order.push(`microtask after ${this.config.name}`));
        return 1;
      }
    }
    const runners = ['a', 'b', 'c'].map((name) => runner(new Sync({ type: 'Sync', name }), { typeName: 'Sync' }));
    const w = new CaptureWriter();
    const ex = new Executor({ collection: 'c', tickTime: 10, runners, writers: [rt(w)] });
    const batch = await ex.runTick(1000);
    expect(order.slice(0, 3)).toEqual(['probe a', 'probe b', 'probe c']);
    expect(batch.points.map((p) => p.name.id)).toEqual(['c.Sync.a', 'c.Sync.b', 'c.Sync.c']);
    expect(batch.sources.every((s) => s.success)).toBe(true);
  });

  it('gives a synchronous probe a working signal on demand, and reports its synchronous throw as its failure', async () => {
    let seen: AbortSignal | undefined;
    class UsesSignal extends Source<SourceConfig> {
      probe(ctx: ProbeContext): number {
        seen = ctx.signal;
        return 1;
      }
    }
    class Throws extends Source<SourceConfig> {
      probe(): number {
        throw new SourceError('no such file');
      }
    }
    const pts: Point[] = [];
    const r = runner(new UsesSignal({ type: 'U' }), { typeName: 'U' });
    expect((await r.tick(1, pts)).success).toBe(true);
    expect(seen).toBeInstanceOf(AbortSignal);
    expect(seen!.aborted).toBe(false);
    const { lines, log } = logSink();
    const status = await runner(new Throws({ type: 'T' }), { typeName: 'T', log }).tick(1, pts);
    expect(status).toMatchObject({ success: false, error: 'no such file', errorsTotal: 1 });
    expect(lines.filter((l) => l.includes('no such file'))).toHaveLength(1);
    // The runner is not left "busy": the next tick probes again.
    expect((await r.tick(2, pts)).state).toBe('probed');
  });
});

describe('Batch', () => {
  it('carries per-source status with durations', async () => {
    const w = new CaptureWriter();
    const ex = new Executor({ collection: 'c', tickTime: 5, runners: [runner(build(DummySource, { sleep: 0.05 }), { tickTime: 5 })], writers: [rt(w)] });
    const batch: Batch = await ex.runTick(42);
    expect(batch.timestamp).toBe(42);
    expect(batch.sources[0]!.durationSeconds).toBeGreaterThanOrEqual(0.04);
    expect(batch.sources[0]!.id).toBe('c.Dummy');
  });
});

describe('ProbeContext.wants', () => {
  /** Records what its probe is told of the namings its executor's writers take. */
  class AskingSource extends Source<SourceConfig> {
    told: { pollect: boolean; prometheus: boolean }[] = [];
    probe(ctx: ProbeContext): number {
      this.told.push({ pollect: ctx.wants('pollect'), prometheus: ctx.wants('prometheus') });
      return 1;
    }
  }
  const withNaming = (naming: 'pollect' | 'prometheus') => {
    const w = new CaptureWriter();
    w.naming = naming;
    return rt(w);
  };

  it('tells a probe the namings of the writers of the moment, so it skips samples none would get', async () => {
    const s = new AskingSource({ type: 'Asking' });
    const ex = new Executor({ collection: 'c', tickTime: 5, runners: [runner(s, { typeName: 'Asking' })], writers: [withNaming('pollect')] });
    await ex.runTick(1);
    ex.writers = [withNaming('prometheus')];
    await ex.runTick(2);
    ex.writers = [withNaming('pollect'), withNaming('prometheus')];
    await ex.runTick(3);
    ex.writers = [];
    await ex.runTick(4);
    expect(s.told).toEqual([
      { pollect: true, prometheus: false },
      { pollect: false, prometheus: true },
      { pollect: true, prometheus: true },
      { pollect: false, prometheus: false },
    ]);
  });

  it('a writer that takes only notifications gets no samples, counts none as written, and asks no source for any', async () => {
    const s = new AskingSource({ type: 'Asking' });
    const w = new CaptureWriter();
    w.takesSamples = false;
    const runtime = rt(w);
    const ex = new Executor({ collection: 'c', tickTime: 5, runners: [runner(s, { typeName: 'Asking' })], writers: [runtime] });
    await ex.runTick(1);
    await runtime.flush(1000);
    expect(w.batches).toEqual([]);
    expect(runtime.stats()).toMatchObject({ written: 0, dropped: 0, queueLength: 0 });
    expect(s.told).toEqual([{ pollect: false, prometheus: false }]);
  });

  it('a host source computes only what its writers take: no CPU seconds for a pollect-named writer, no percentages for a Prometheus one', async () => {
    const { CpuSource } = await import('../../src/sources/cpu/index.js');
    const names = async (naming: 'pollect' | 'prometheus') => {
      const ex = new Executor({
        collection: 'c',
        tickTime: 5,
        runners: [runner(build(CpuSource, { perCpu: false }), { typeName: 'Cpu' })],
        writers: [withNaming(naming)],
      });
      await ex.runTick(1);
      // Percentages need the jiffy counters to move between the two readings (100 a second per CPU).
      await new Promise((resolve) => setTimeout(resolve, 60));
      const second = await ex.runTick(2);
      return new Set(second.points.map((p) => p.name.id));
    };
    expect([...(await names('pollect'))]).toEqual(['c.Cpu']);
    expect([...(await names('prometheus'))]).toEqual(['c.Cpu.seconds_total']);
  });
});
