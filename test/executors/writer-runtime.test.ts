// The writer runtime on a manual clock: buffering, order, retries, log-once, and flush and stop
// bounded by their deadline, without a real sleep.
import { describe, expect, it } from 'vitest';
import { WriterRuntime, type WriterRuntimeOptions } from '../../src/executors/writer-runtime.js';
import { RetryLaterError, Writer, type Batch, type WriteOutcome } from '../../src/sdk/index.js';
import { createLogger } from '../../src/log.js';
import { ManualClock, settle } from '../helpers/clock.js';
import { batch, point } from '../helpers/points.js';

/** A batch of `n` points named `c.T.<tag>.<i>`. */
function pts(tag: string, n: number): Batch {
  return batch(Array.from({ length: n }, (_, i) => point(`c.T.${tag}.${i}`, i)));
}

/** A runtime around `writer` on `clock`, logging into `lines`. */
function setup<W extends Writer>(clock: ManualClock, writer: W, opts: Partial<WriterRuntimeOptions> = {}) {
  const lines: string[] = [];
  const log = createLogger('', { level: 'debug', write: (l) => lines.push(l) });
  writer.id = 'W';
  const rt = new WriterRuntime(writer, { bufferSize: 100, log, clock, retryMinMs: 100, retryMaxMs: 800, ...opts });
  const said = (level: string, text: string) => lines.filter((l) => l.includes(level) && l.includes(text)).length;
  return { rt, lines, said, writer };
}

interface Call {
  batch: Batch;
  at: number;
  resolve: (o?: WriteOutcome) => void;
  reject: (e: Error) => void;
}

/** A writer whose writes settle only when the test says so. */
class Manual extends Writer {
  calls: Call[] = [];
  active = 0;
  maxActive = 0;
  stopped = false;
  constructor(private readonly clock: ManualClock) {
    super({ type: 'Manual' });
  }
  write(b: Batch): Promise<WriteOutcome> {
    this.active++;
    this.maxActive = Math.max(this.maxActive, this.active);
    return new Promise<WriteOutcome>((resolve, reject) => {
      const done = () => this.active--;
      this.calls.push({
        batch: b,
        at: this.clock.now(),
        resolve: (o) => {
          done();
          resolve(o);
        },
        reject: (e) => {
          done();
          reject(e);
        },
      });
    });
  }
  override stop(): void {
    this.stopped = true;
  }
}

/** A writer that fails its first `failures` writes (synchronously), then takes everything. */
class Flaky extends Writer {
  calls: number[] = [];
  taken: Batch[] = [];
  constructor(
    private readonly clock: ManualClock,
    public failures: number,
  ) {
    super({ type: 'Flaky' });
  }
  write(b: Batch): void {
    this.calls.push(this.clock.now());
    if (this.calls.length <= this.failures) throw new Error('backend down');
    this.taken.push(b);
  }
}

/** The names of the points a list of batches holds, in order. */
const names = (bs: Batch[]) => bs.flatMap((b) => b.points.map((p) => p.name.id));

describe('WriterRuntime', () => {
  it('writes one batch at a time, in order, and counts what was written', async () => {
    const clock = new ManualClock();
    const { rt, writer } = setup(clock, new Manual(clock));
    rt.add(pts('a', 2));
    rt.add(pts('b', 3));
    rt.add(pts('c', 1));
    await settle();
    expect(writer.calls).toHaveLength(1);
    expect(rt.stats()).toMatchObject({ queueLength: 6, written: 0 });
    for (let i = 0; i < 3; i++) {
      writer.calls[i]!.resolve();
      await settle();
    }
    expect(writer.maxActive).toBe(1);
    expect(names(writer.calls.map((c) => c.batch))).toEqual(['c.T.a.0', 'c.T.a.1', 'c.T.b.0', 'c.T.b.1', 'c.T.b.2', 'c.T.c.0']);
    expect(rt.stats()).toEqual({ writer: 'W', queueLength: 0, written: 6, dropped: 0, errors: 0 });
    expect(rt.idle).toBe(true);
  });

  it('counts the points a writer refuses for good ({ dropped }) as dropped, not written', async () => {
    const clock = new ManualClock();
    const { rt, writer } = setup(clock, new Manual(clock));
    rt.add(pts('a', 5));
    await settle();
    writer.calls[0]!.resolve({ dropped: 2 });
    await settle();
    expect(rt.stats()).toMatchObject({ written: 3, dropped: 2, errors: 0, queueLength: 0 });
    // A writer cannot refuse more than it was given, nor a negative number.
    rt.add(pts('b', 1));
    await settle();
    writer.calls[1]!.resolve({ dropped: 9 });
    rt.add(pts('c', 1));
    await settle();
    writer.calls[2]!.resolve({ dropped: -4 });
    await settle();
    expect(rt.stats()).toMatchObject({ written: 4, dropped: 3 });
  });

  it('keeps at most bufferSize points while the writer fails, dropping the oldest batches, counted and logged once', async () => {
    const clock = new ManualClock();
    const { rt, writer, said } = setup(clock, new Flaky(clock, 1), { bufferSize: 5 });
    rt.add(pts('a', 2)); // fails, kept for the retry
    rt.add(pts('b', 2));
    rt.add(pts('c', 2)); // 6 points: a goes
    rt.add(pts('d', 2)); // b goes
    await settle();
    expect(rt.stats()).toMatchObject({ queueLength: 4, dropped: 4, written: 0, errors: 1 });
    expect(said('WARN', 'writer W: buffer full (5 points): dropping the oldest')).toBe(1);
    await clock.advance(100);
    expect(names(writer.taken)).toEqual(['c.T.c.0', 'c.T.c.1', 'c.T.d.0', 'c.T.d.1']);
    expect(rt.stats()).toMatchObject({ queueLength: 0, dropped: 4, written: 4 });
  });

  it('keeps the newest points of a batch larger than the whole buffer', async () => {
    const clock = new ManualClock();
    const { rt, writer } = setup(clock, new Flaky(clock, 0), { bufferSize: 3 });
    rt.add(pts('big', 5));
    await settle();
    expect(names(writer.taken)).toEqual(['c.T.big.2', 'c.T.big.3', 'c.T.big.4']);
    expect(rt.stats()).toMatchObject({ written: 3, dropped: 2 });
  });

  it('never drops the batch being written: the buffer may hold it besides bufferSize points', async () => {
    const clock = new ManualClock();
    const { rt, writer } = setup(clock, new Manual(clock), { bufferSize: 4 });
    rt.add(pts('a', 4));
    rt.add(pts('b', 2));
    rt.add(pts('c', 2)); // b goes, a is in flight
    await settle();
    expect(rt.stats()).toMatchObject({ queueLength: 6, dropped: 2 });
    writer.calls[0]!.resolve();
    await settle();
    writer.calls[1]!.resolve();
    await settle();
    expect(names(writer.calls.map((c) => c.batch))).toEqual(['c.T.a.0', 'c.T.a.1', 'c.T.a.2', 'c.T.a.3', 'c.T.c.0', 'c.T.c.1']);
    expect(rt.stats()).toMatchObject({ queueLength: 0, written: 6, dropped: 2 });
  });

  it('logs a buffer overflow again once the writer had caught up in between', async () => {
    const clock = new ManualClock();
    const { rt, writer, said } = setup(clock, new Manual(clock), { bufferSize: 2 });
    for (let round = 0; round < 2; round++) {
      rt.add(pts(`x${round}`, 2));
      rt.add(pts(`y${round}`, 2));
      rt.add(pts(`z${round}`, 2)); // y goes
      await settle();
      while (!rt.idle) {
        writer.calls.at(-1)!.resolve(); // the one in flight
        await settle();
      }
    }
    expect(rt.stats()).toMatchObject({ dropped: 4, written: 8 });
    expect(said('WARN', 'buffer full')).toBe(2);
  });

  it('logs a failure once and its recovery once, and retries with a doubling backoff up to the cap', async () => {
    const clock = new ManualClock();
    const t0 = clock.now();
    const { rt, writer, said, lines } = setup(clock, new Flaky(clock, 6));
    rt.add(pts('a', 1));
    await settle();
    // Waits 100, 200, 400, 800, 800, 800 ms (with up to 20% taken off so agents do not retry in step).
    await clock.advance(5000);
    expect(writer.calls).toHaveLength(7);
    const waits = writer.calls.slice(1).map((t, i) => t - writer.calls[i]!);
    const nominal = [100, 200, 400, 800, 800, 800];
    waits.forEach((w, i) => {
      expect(w).toBeGreaterThanOrEqual(nominal[i]! * 0.8);
      expect(w).toBeLessThanOrEqual(nominal[i]!);
    });
    expect(writer.calls[0]).toBe(t0);
    expect(rt.stats()).toMatchObject({ errors: 6, written: 1, queueLength: 0 });
    expect(said('ERROR', 'writer W: backend down')).toBe(1);
    expect(said('DEBUG', 'still failing')).toBe(5);
    expect(said('INFO', 'writer W: writing again after 6 failed attempt(s)')).toBe(1);
    // A later failure is news again.
    writer.failures = 8;
    rt.add(pts('b', 1));
    await settle();
    expect(said('ERROR', 'writer W: backend down')).toBe(2);
    expect(lines.filter((l) => !l.includes('DEBUG'))).toHaveLength(3);
  });

  it('retries an asynchronous rejection the same way, with the batch kept in place', async () => {
    const clock = new ManualClock();
    const { rt, writer, said } = setup(clock, new Manual(clock));
    rt.add(pts('a', 1));
    rt.add(pts('b', 1));
    await settle();
    writer.calls[0]!.reject(new Error('connection reset'));
    await settle();
    expect(rt.stats()).toMatchObject({ errors: 1, queueLength: 2 });
    await clock.advance(100);
    expect(writer.calls).toHaveLength(2);
    expect(writer.calls[1]!.batch).toBe(writer.calls[0]!.batch);
    writer.calls[1]!.resolve();
    await settle();
    writer.calls[2]!.resolve();
    await settle();
    expect(names(writer.calls.map((c) => c.batch))).toEqual(['c.T.a.0', 'c.T.a.0', 'c.T.b.0']);
    expect(said('ERROR', 'connection reset')).toBe(1);
    expect(said('INFO', 'writing again after 1 failed attempt(s)')).toBe(1);
  });

  it('waits at least what the backend asks for (RetryLaterError, from Retry-After), then backs off as usual', async () => {
    const clock = new ManualClock();
    const { rt, writer } = setup(clock, new Manual(clock));
    rt.add(pts('a', 1));
    await settle();
    writer.calls[0]!.reject(new RetryLaterError('429 Too Many Requests', 5000));
    await settle();
    await clock.advance(4999);
    expect(writer.calls).toHaveLength(1);
    await clock.advance(1);
    expect(writer.calls).toHaveLength(2);
    // A shorter ask than the backoff does not shorten it.
    writer.calls[1]!.reject(new RetryLaterError('503', 10));
    await settle();
    await clock.advance(150);
    expect(writer.calls).toHaveLength(2);
    await clock.advance(50);
    expect(writer.calls).toHaveLength(3);
  });

  it('flush tries a writer in backoff again at once and resolves as soon as all is written', async () => {
    const clock = new ManualClock();
    const { rt, writer } = setup(clock, new Flaky(clock, 1), { retryMinMs: 10_000 });
    rt.add(pts('a', 1));
    await settle();
    expect(writer.calls).toHaveLength(1);
    let flushed = false;
    const done = rt.flush(clock.now() + 5000).then(() => (flushed = true));
    await settle();
    expect(flushed).toBe(true);
    await done;
    expect(writer.calls).toEqual([clock.now(), clock.now()]);
    expect(rt.stats()).toMatchObject({ written: 1, queueLength: 0 });
    // Nothing is left waiting on the clock.
    expect(clock.pending).toBe(0);
  });

  it('flush keeps retrying a failing writer until the deadline, then gives up', async () => {
    const clock = new ManualClock();
    const { rt, writer } = setup(clock, new Flaky(clock, 1000));
    rt.add(pts('a', 1));
    await settle();
    let flushed = false;
    const done = rt.flush(clock.now() + 3000).then(() => (flushed = true));
    await clock.advance(2999);
    expect(flushed).toBe(false);
    expect(writer.calls.length).toBeGreaterThanOrEqual(4);
    await clock.advance(1);
    await done;
    expect(flushed).toBe(true);
    expect(rt.stats()).toMatchObject({ written: 0, queueLength: 1 });
  });

  it('flush and stop end at the deadline when a write never resolves; what is left is dropped', async () => {
    const clock = new ManualClock();
    const { rt, writer, said } = setup(clock, new Manual(clock));
    rt.add(pts('a', 2));
    rt.add(pts('b', 3));
    await settle();
    let flushed = false;
    const flush = rt.flush(clock.now() + 1000).then(() => (flushed = true));
    await clock.advance(999);
    expect(flushed).toBe(false);
    await clock.advance(1);
    await flush;
    expect(flushed).toBe(true);

    let stopped = false;
    const stop = rt.stop(clock.now() + 2000).then(() => (stopped = true));
    await clock.advance(1999);
    expect(stopped).toBe(false);
    await clock.advance(1);
    await stop;
    expect(stopped).toBe(true);
    expect(writer.stopped).toBe(true);
    expect(rt.stats()).toMatchObject({ written: 0, dropped: 5, queueLength: 0 });
    expect(said('WARN', 'writer W: stopped with 5 point(s) not written')).toBe(1);
    // The write that never ended may still end: it is not counted twice.
    writer.calls[0]!.resolve();
    await settle();
    expect(rt.stats()).toMatchObject({ written: 0, dropped: 5 });
    // Nothing added after stop is written; it is counted as dropped.
    rt.add(pts('late', 4));
    await settle();
    expect(writer.calls).toHaveLength(1);
    expect(rt.stats().dropped).toBe(9);
  });

  it("bounds the writer's own flush and stop by the deadline, and logs what failed", async () => {
    const clock = new ManualClock();
    class Stuck extends Writer {
      write(): void {}
      override flush(): Promise<void> {
        return new Promise(() => {});
      }
      override stop(): void {
        throw new Error('socket already closed');
      }
    }
    const { rt, said } = setup(clock, new Stuck({ type: 'Stuck' }));
    rt.add(pts('a', 1));
    let stopped = false;
    const stop = rt.stop(clock.now() + 500).then(() => (stopped = true));
    await clock.advance(499);
    expect(stopped).toBe(false);
    await clock.advance(1);
    await stop;
    expect(said('WARN', 'writer W: flush did not finish in time')).toBe(1);
    expect(said('WARN', 'writer W: stop failed: socket already closed')).toBe(1);
    expect(rt.stats()).toMatchObject({ written: 1, dropped: 0 });
    expect(clock.pending).toBe(0);
  });

  it('adds the points a writer holds itself to the queue length', () => {
    class Holding extends Writer {
      write(): void {}
      override pending(): number {
        return 7;
      }
    }
    const { rt } = setup(new ManualClock(), new Holding({ type: 'Holding' }));
    expect(rt.stats().queueLength).toBe(7);
  });
});

describe('WriterRuntime: samples for one naming (Sample.naming)', () => {
  it('hands each writer only the points for its naming, and counts only those', async () => {
    const clock = new ManualClock();
    const both = batch([
      point('c.Cpu', 50, { mode: 'user' }, 1, { naming: 'pollect' }),
      point('c.Cpu.seconds_total', 1234, { mode: 'user' }, 1, { naming: 'prometheus', type: 'counter' }),
      point('c.LoadAvg', 0.5),
    ]);
    const pollect = setup(clock, new Manual(clock));
    const prom = setup(clock, Object.assign(new Manual(clock), { naming: 'prometheus' as const }));
    pollect.rt.add(both);
    prom.rt.add(both);
    await settle();
    expect(names([pollect.writer.calls[0]!.batch])).toEqual(['c.Cpu', 'c.LoadAvg']);
    expect(names([prom.writer.calls[0]!.batch])).toEqual(['c.Cpu.seconds_total', 'c.LoadAvg']);
    pollect.writer.calls[0]!.resolve();
    prom.writer.calls[0]!.resolve();
    await settle();
    expect(pollect.rt.stats()).toMatchObject({ written: 2, dropped: 0 });
    expect(prom.rt.stats()).toMatchObject({ written: 2, dropped: 0 });
    // A batch without marked points is handed over as it is.
    const plain = pts('p', 2);
    pollect.rt.add(plain);
    await settle();
    expect(pollect.writer.calls[1]!.batch).toBe(plain);
  });
});

describe('WriterRuntime with a synchronous writer', () => {
  it('writes a long backlog after a failure without deepening the stack', async () => {
    const clock = new ManualClock();
    const { rt, writer } = setup(clock, new Flaky(clock, 1), { bufferSize: 100_000 });
    for (let i = 0; i < 20_000; i++) rt.add(batch([point('c.T.one', i)]));
    expect(rt.stats()).toMatchObject({ errors: 1, queueLength: 20_000 });
    await clock.advance(100);
    expect(writer.taken).toHaveLength(20_000);
    expect(writer.taken.at(-1)!.points[0]!.value).toBe(19_999);
    expect(rt.stats()).toMatchObject({ written: 20_000, queueLength: 0 });
  });
});

describe('hold and release (a reload replacing the writer)', () => {
  it('hold waits for the write in flight; batches queue meanwhile and go, in order, to the writer released to', async () => {
    const clock = new ManualClock();
    const { rt, writer } = setup(clock, new Manual(clock));
    rt.add(pts('a', 1));
    expect(writer.calls).toHaveLength(1);
    let held = false;
    const holding = rt.hold(clock.now() + 5000).then(() => (held = true));
    rt.add(pts('b', 1));
    await settle();
    expect(held).toBe(false); // the write of a is still in flight
    writer.calls[0]!.resolve();
    await holding;
    rt.add(pts('c', 1));
    await settle();
    expect(writer.calls).toHaveLength(1); // held: b and c wait
    await rt.retire(clock.now() + 5000);
    expect(writer.stopped).toBe(true);
    const next = new Flaky(clock, 0);
    rt.release({ writer: next, bufferSize: 100 });
    expect(next.taken.map((b) => b.points[0]!.name.id)).toEqual(['c.T.b.0', 'c.T.c.0']);
    expect(rt.stats()).toMatchObject({ written: 3, dropped: 0, queueLength: 0 });
  });

  it('a flush while held does not spin: it gives up at once, and the queue stays', async () => {
    const clock = new ManualClock();
    const { rt } = setup(clock, new Flaky(clock, 0));
    await rt.hold(clock.now());
    rt.add(pts('a', 2));
    await rt.flush(clock.now() + 5000);
    expect(rt.stats()).toMatchObject({ written: 0, queueLength: 2 });
    rt.release();
    expect(rt.stats()).toMatchObject({ written: 2, queueLength: 0 });
  });
});

describe('release to a new writer while the old one hangs', () => {
  it('the batch the old writer never finished goes to the new one; a late answer of the old one is ignored', async () => {
    const clock = new ManualClock();
    const { rt, writer } = setup(clock, new Manual(clock));
    rt.add(pts('a', 1));
    const holding = rt.hold(clock.now() + 1000);
    await clock.advance(1000);
    await holding; // gave up waiting for the hung write
    const next = new Flaky(clock, 0);
    rt.release({ writer: next, bufferSize: 100 });
    expect(next.taken.map((b) => b.points[0]!.name.id)).toEqual(['c.T.a.0']);
    writer.calls[0]!.resolve();
    await settle();
    expect(rt.stats()).toMatchObject({ written: 1, queueLength: 0, errors: 0 });
  });
});

describe('WriterRuntime batching (batchWait, batchSize)', () => {
  const names = (b: Batch) => b.points.map((p) => p.name.id);

  it('holds batches until the oldest waited batchWait, then writes them as one; batchSize queued go at once, each write at most batchSize', async () => {
    const clock = new ManualClock();
    const { rt, writer } = setup(clock, new Manual(clock), { batchWaitMs: 1000, batchSize: 5 });
    rt.add(pts('a', 1));
    await clock.advance(400);
    rt.add(pts('b', 2));
    await clock.advance(500);
    expect(writer.calls).toHaveLength(0);
    expect(rt.stats()).toMatchObject({ queueLength: 3, written: 0 });
    await clock.advance(100);
    expect(writer.calls).toHaveLength(1);
    expect(names(writer.calls[0]!.batch)).toEqual(['c.T.a.0', 'c.T.b.0', 'c.T.b.1']);
    writer.calls[0]!.resolve();
    await settle();
    // 2 + 2 + 2 queued reach batchSize: at once, 4 points (2 more would pass 5), then the rest waits.
    rt.add(pts('c', 2));
    rt.add(pts('d', 2));
    expect(writer.calls).toHaveLength(1);
    rt.add(pts('e', 2));
    await settle();
    expect(writer.calls).toHaveLength(2);
    expect(names(writer.calls[1]!.batch)).toEqual(['c.T.c.0', 'c.T.c.1', 'c.T.d.0', 'c.T.d.1']);
    writer.calls[1]!.resolve();
    await settle();
    expect(writer.calls).toHaveLength(2);
    await clock.advance(1000);
    expect(names(writer.calls[2]!.batch)).toEqual(['c.T.e.0', 'c.T.e.1']);
    writer.calls[2]!.resolve();
    await settle();
    expect(rt.stats()).toMatchObject({ written: 9, dropped: 0, queueLength: 0 });
  });

  it('a failed write is retried with the same batch (a writer resuming a split batch knows it), not a new merge', async () => {
    const clock = new ManualClock();
    const { rt, writer } = setup(clock, new Manual(clock), { batchWaitMs: 1000 });
    rt.add(pts('a', 1));
    rt.add(pts('b', 1));
    await clock.advance(1000);
    const first = writer.calls[0]!.batch;
    writer.calls[0]!.reject(new Error('down'));
    await settle();
    rt.add(pts('c', 1));
    await clock.advance(150);
    expect(writer.calls).toHaveLength(2);
    expect(writer.calls[1]!.batch).toBe(first);
    writer.calls[1]!.resolve();
    await settle();
    await clock.advance(1000);
    expect(names(writer.calls[2]!.batch)).toEqual(['c.T.c.0']);
  });

  it('flush and stop write what waits at once', async () => {
    const clock = new ManualClock();
    const { rt, writer } = setup(clock, new Manual(clock), { batchWaitMs: 60_000 });
    rt.add(pts('a', 2));
    rt.add(pts('b', 1));
    await settle();
    expect(writer.calls).toHaveLength(0);
    const stopped = rt.stop(clock.now() + 5000);
    await settle();
    expect(writer.calls).toHaveLength(1);
    expect(names(writer.calls[0]!.batch)).toEqual(['c.T.a.0', 'c.T.a.1', 'c.T.b.0']);
    writer.calls[0]!.resolve();
    await stopped;
    expect(rt.stats()).toMatchObject({ written: 3, dropped: 0, queueLength: 0 });
  });
});
