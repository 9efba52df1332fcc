// The line-printing child supervisor (LineChild) with a manual clock and fake child processes:
// line splitting, restart backoff, clean exits, failed starts and stop. The sources that use it
// (Tegrastats, Exec long-running) are tested with real processes in their own files.
import { describe, expect, it } from 'vitest';
import { EventEmitter } from 'node:events';
import { PassThrough } from 'node:stream';
import type { ChildProcess } from 'node:child_process';
import type { Clock, ClockTimer } from '../../src/core/clock.js';
import { LineChild, LineSplitter, formatDelay, type ChildExit, type LineChildOptions } from '../../src/sdk/child.js';

/** A clock whose time moves only by advance(); due timers fire in order. */
class ManualClock implements Clock {
  private t = 0;
  private timers: { at: number; fn: () => void; id: number }[] = [];
  private ids = 0;
  now(): number {
    return this.t;
  }
  setTimeout(fn: () => void, ms: number): ClockTimer {
    const id = ++this.ids;
    this.timers.push({ at: this.t + ms, fn, id });
    return { id } as unknown as ClockTimer;
  }
  clearTimeout(timer: ClockTimer): void {
    const id = (timer as unknown as { id: number }).id;
    this.timers = this.timers.filter((x) => x.id !== id);
  }
  async advance(ms: number): Promise<void> {
    const until = this.t + ms;
    for (;;) {
      const next = this.timers.filter((x) => x.at <= until).sort((a, b) => a.at - b.at)[0];
      if (!next) break;
      this.timers = this.timers.filter((x) => x !== next);
      this.t = next.at;
      next.fn();
      await flush();
    }
    this.t = until;
    await flush();
  }
}

/** Lets promise callbacks and queued events run. */
const flush = (): Promise<void> => new Promise((r) => setImmediate(r));

/** A child process stand-in: the test writes its output and decides when it exits. */
class FakeChild extends EventEmitter {
  readonly stdout = new PassThrough();
  readonly stderr = new PassThrough();
  readonly pid = undefined; // never a real process group to signal
  readonly signals: string[] = [];
  exited = false;
  /** Ignores SIGTERM (a stubborn child). */
  stubborn = false;

  kill(sig: NodeJS.Signals): boolean {
    this.signals.push(sig);
    if (this.exited || (sig === 'SIGTERM' && this.stubborn)) return false;
    this.exit(null, sig);
    return true;
  }

  exit(code: number | null, signal: NodeJS.Signals | null = null): void {
    this.exited = true;
    this.emit('exit', code, signal);
    this.stdout.end();
    this.stderr.end();
    // As node does: 'close' after the output streams ended.
    setImmediate(() => this.emit('close', code, signal));
  }
}

interface Harness {
  clock: ManualClock;
  children: FakeChild[];
  lines: string[];
  bad: string[];
  exits: ChildExit[];
  lc: LineChild;
}

/** A LineChild on a manual clock whose spawns make FakeChilds; `fail` makes a spawn fail with ENOENT. */
function harness(opts: Partial<LineChildOptions> = {}, fail = () => false): Harness {
  const clock = new ManualClock();
  const h: Harness = { clock, children: [], lines: [], bad: [], exits: [], lc: undefined as unknown as LineChild };
  h.lc = new LineChild({
    file: 'daemon',
    minRestartMs: 100,
    maxRestartMs: 1000,
    clock,
    spawn: () => {
      const c = new FakeChild();
      h.children.push(c);
      setImmediate(() => {
        if (fail()) {
          c.emit('error', Object.assign(new Error('spawn daemon ENOENT'), { code: 'ENOENT' }));
          c.emit('close', -2, null);
        } else {
          c.emit('spawn');
        }
      });
      return c as unknown as ChildProcess;
    },
    onLine: (line, no) => void h.lines.push(`${no}:${line}`),
    onBadLine: (no, reason) => void h.bad.push(`${no}:${reason}`),
    onExit: (e) => void h.exits.push(e),
    ...opts,
  });
  return h;
}

describe('LineSplitter', () => {
  it('splits across chunks, drops CR, numbers empty lines, ends with a last line without LF', () => {
    const got: string[] = [];
    const bad: string[] = [];
    const s = new LineSplitter(
      16,
      (l, n) => got.push(`${n}:${l}`),
      (n, r) => bad.push(`${n}:${r}`),
    );
    s.push(Buffer.from('a 1\r\nb '));
    s.push(Buffer.from('2\n\nc'));
    s.push(Buffer.from(' 3'));
    s.end();
    expect(got).toEqual(['1:a 1', '2:b 2', '3:', '4:c 3']);
    expect(bad).toEqual([]);
  });

  it('reports binary and overlong lines by number, without buffering the long one, and goes on', () => {
    const got: string[] = [];
    const bad: string[] = [];
    const s = new LineSplitter(
      8,
      (l, n) => got.push(`${n}:${l}`),
      (n, r) => bad.push(`${n}:${r}`),
    );
    s.push(Buffer.from('ok\n\x00\x01\n0123456789'));
    // The rest of the long line arrives: nothing of it is kept.
    s.push(Buffer.from('abcdefghij'.repeat(1000)));
    expect((s as unknown as { pendingBytes: number }).pendingBytes).toBe(0);
    s.push(Buffer.concat([Buffer.from('xyz\n123456789\nlast\n'), Buffer.from([0xff, 0xfe, 0x0a])]));
    expect(got).toEqual(['1:ok', '5:last']);
    expect(bad).toEqual(['2:binary data, not text', '3:longer than 8 bytes', '4:longer than 8 bytes', '6:binary data, not text']);
  });
});

describe('LineChild', () => {
  it('passes lines on and reports a handler that throws as a bad line', async () => {
    const h = harness({
      onLine: (line, no) => {
        if (line === 'boom') throw new Error('cannot parse');
        h.lines.push(`${no}:${line}`);
      },
    });
    await h.lc.start();
    h.children[0]!.stdout.write('one\nboom\ntwo\n');
    await flush();
    expect(h.lines).toEqual(['1:one', '3:two']);
    expect(h.bad).toEqual(['2:cannot parse']);
  });

  it('restarts a child that keeps failing after 0.1, 0.2, 0.4, 0.8 s, then at most 1 s', async () => {
    const h = harness();
    await h.lc.start();
    const waits: number[] = [];
    for (let i = 0; i < 6; i++) {
      h.children.at(-1)!.exit(1);
      await flush();
      const wait = h.exits.at(-1)!.restartInMs;
      waits.push(wait);
      // Not a moment earlier.
      await h.clock.advance(wait - 1);
      expect(h.children).toHaveLength(i + 1);
      await h.clock.advance(1);
      expect(h.children).toHaveLength(i + 2);
    }
    expect(waits).toEqual([100, 200, 400, 800, 1000, 1000]);
    expect(h.exits[0]).toEqual({ message: 'daemon exited with code 1', clean: false, restartInMs: 100 });
  });

  it('starts the backoff over after a child that ran as long as the longest wait', async () => {
    const h = harness();
    await h.lc.start();
    for (const ran of [0, 0, 1000]) {
      await h.clock.advance(ran);
      h.children.at(-1)!.exit(2);
      await flush();
      await h.clock.advance(h.exits.at(-1)!.restartInMs);
    }
    expect(h.exits.map((e) => e.restartInMs)).toEqual([100, 200, 100]);
  });

  it('restarts after a clean exit at its own pace, leaving the backoff alone', async () => {
    const h = harness({ cleanRestartMs: 5000 });
    await h.lc.start();
    h.children[0]!.exit(1);
    await flush();
    await h.clock.advance(100);
    h.children[1]!.exit(0);
    await flush();
    expect(h.exits.at(-1)).toEqual({ message: 'daemon exited with code 0', clean: true, restartInMs: 5000 });
    await h.clock.advance(5000);
    expect(h.children).toHaveLength(3);
    h.children[2]!.exit(1);
    await flush();
    expect(h.exits.at(-1)!.restartInMs).toBe(200);
  });

  it('names the signal and the first stderr line of a dead child', async () => {
    const h = harness();
    await h.lc.start();
    const c = h.children[0]!;
    c.stderr.write('\n  daemon: lost \x1b[31m/dev/nvhost\n  and more\n');
    await flush();
    c.exit(null, 'SIGSEGV');
    await flush();
    expect(h.exits[0]!.message).toBe('daemon was killed by SIGSEGV: daemon: lost ?[31m/dev/nvhost');
  });

  it('rejects start() for a missing command, retries with backoff, and stops retrying at stop()', async () => {
    let missing = true;
    const h = harness({}, () => missing);
    await expect(h.lc.start()).rejects.toThrow(/^daemon: command not found$/);
    await h.clock.advance(100);
    expect(h.children).toHaveLength(2);
    expect(h.exits).toEqual([{ message: 'daemon: command not found', clean: false, restartInMs: 200 }]);
    missing = false;
    await h.clock.advance(200);
    expect(h.children).toHaveLength(3);
    expect(h.lc.pid).toBeUndefined(); // the fake has no pid, but it runs:
    h.children[2]!.stdout.write('up\n');
    await flush();
    expect(h.lines).toEqual(['1:up']);
    await h.lc.stop();
    // SIGTERM from stop(), then once it exited, to its process group for what it left running.
    expect(h.children[2]!.signals).toEqual(['SIGTERM', 'SIGTERM']);
    await h.clock.advance(60_000);
    expect(h.children).toHaveLength(3);
  });

  it('stop() sends SIGKILL after the grace period to a child that ignores SIGTERM, and waits for it', async () => {
    const h = harness({ killGraceMs: 500 });
    await h.lc.start();
    const c = h.children[0]!;
    c.stubborn = true;
    let stopped = false;
    const stopping = h.lc.stop().then(() => (stopped = true));
    await h.clock.advance(499);
    expect(c.signals).toEqual(['SIGTERM']);
    expect(stopped).toBe(false);
    await h.clock.advance(1);
    await stopping;
    expect(c.signals).toEqual(['SIGTERM', 'SIGKILL', 'SIGTERM']);
    // Stopped on purpose: no exit report, no restart.
    expect(h.exits).toEqual([]);
    await h.clock.advance(10_000);
    expect(h.children).toHaveLength(1);
  });
});

describe('LineChild stop() while the child is starting', () => {
  it('terminates it as soon as it runs, and start() twice starts one child', async () => {
    let starts = 0;
    const h = harness({ onStart: () => void starts++ });
    const started = h.lc.start();
    const again = h.lc.start();
    const stopped = h.lc.stop();
    await Promise.all([started, again, stopped]);
    expect(h.children).toHaveLength(1);
    expect(h.children[0]!.exited).toBe(true);
    expect(h.children[0]!.signals[0]).toBe('SIGTERM');
    expect(starts).toBe(0);
    await h.clock.advance(60_000);
    expect(h.children).toHaveLength(1);
  });
});

describe('formatDelay', () => {
  it('says ms below a second, seconds above', () => {
    expect([100, 999, 1000, 1600, 60_000].map(formatDelay)).toEqual(['100 ms', '999 ms', '1 s', '1.6 s', '60 s']);
  });
});
