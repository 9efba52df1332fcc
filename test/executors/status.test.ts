// The status board: what the daemon's executors report after each tick, as a writer reads it
// (WriterContext.status): readiness, each source's state, last error, recent probes, last values.
import { describe, expect, it } from 'vitest';
import { LAST_VALUES, PROBE_HISTORY, StatusBoard } from '../../src/executors/status.js';
import { Daemon } from '../../src/executors/daemon.js';
import { buildConfig } from '../../src/config/load.js';
import { Writer, type Batch, type SourceStatus, type WriterContext } from '../../src/sdk/index.js';
import { quietLog } from '../helpers/probe.js';
import { point } from '../helpers/points.js';

function st(id: string, over: Partial<SourceStatus> = {}): SourceStatus {
  return {
    id,
    collection: 'c',
    type: 'Dummy',
    state: 'probed',
    success: true,
    durationSeconds: 0.01,
    errorsTotal: 0,
    skippedTotal: 0,
    rejectedTotal: 0,
    consecutiveFailures: 0,
    ...over,
  };
}

function tick(at: number, sources: SourceStatus[], points = [point('c.Dummy', 1, {}, at)]): Batch {
  return { collection: 'c', timestamp: at, points, sources };
}

describe('StatusBoard', () => {
  it('is ready once every executor has reported a tick; sources are pending until then', () => {
    const board = new StatusBoard();
    const a = board.track('a', 1, ['a.Dummy']);
    const b = board.track('b', 10, ['b.Dummy', 'b.Dummy#1']);
    expect(board.ready()).toBe(false);
    expect(board.executors().map((e) => e.sources.map((s) => s.state))).toEqual([['pending'], ['pending', 'pending']]);
    a(tick(1000, [st('a.Dummy')]));
    expect(board.ready()).toBe(false);
    b(tick(1000, [st('b.Dummy'), st('b.Dummy#1', { state: 'skipped', success: false })]));
    expect(board.ready()).toBe(true);
    expect(board.executors()[1]).toMatchObject({ collection: 'b', tickTime: 10, ticks: 1 });
  });

  it('forgets an executor a reload removed; a new one is pending until its first tick', () => {
    const board = new StatusBoard();
    const a = board.track('a', 1, ['a.Dummy']);
    const b = board.track('b', 1, ['b.Dummy']);
    a(tick(1000, [st('a.Dummy')]));
    b(tick(1000, [st('b.Dummy')]));
    board.untrack(b);
    board.untrack(b); // twice, or an executor never tracked: nothing happens
    board.untrack(undefined);
    expect(board.executors().map((e) => e.collection)).toEqual(['a']);
    expect(board.ready()).toBe(true);
    const c = board.track('c', 1, ['c.Dummy']);
    expect(board.ready()).toBe(false);
    c(tick(2000, [st('c.Dummy')]));
    expect(board.ready()).toBe(true);
  });

  it('states, the last error (kept after recovery), probes that ran and last values', () => {
    const board = new StatusBoard();
    const report = board.track('c', 1, ['c.Dummy']);
    const view = () => board.executors()[0]!.sources[0]!;
    report(tick(1000, [st('c.Dummy', { durationSeconds: 0.5 })], [point('c.Dummy.x', 7, { k: 'v' }, 1000)]));
    expect(view()).toMatchObject({ state: 'ok', probes: [{ at: 1000, seconds: 0.5, ok: true }], lastValuesTotal: 1 });
    expect(view().lastValues[0]!.value).toBe(7);
    report(tick(2000, [st('c.Dummy', { success: false, error: 'refused', consecutiveFailures: 1, errorsTotal: 1 })], []));
    expect(view()).toMatchObject({ state: 'failing', lastError: { message: 'refused', at: 2000 }, consecutiveFailures: 1 });
    // A failed probe without points keeps the values of the last one that had some.
    expect(view().lastValues[0]!.value).toBe(7);
    report(tick(3000, [st('c.Dummy', { state: 'backoff', success: false, error: 'refused', consecutiveFailures: 1 })], []));
    expect(view().state).toBe('backing off');
    expect(view().probes).toHaveLength(2);
    report(tick(4000, [st('c.Dummy', { state: 'skipped', success: false, error: 'previous probe still running' })], []));
    expect(view()).toMatchObject({ state: 'skipped', lastError: { message: 'refused', at: 2000 } });
    report(tick(5000, [st('c.Dummy')], [point('c.Dummy.x', 8, {}, 5000)]));
    expect(view()).toMatchObject({ state: 'ok', lastError: { message: 'refused', at: 2000 } });
    expect(view().lastValues[0]!.value).toBe(8);
  });

  it('keeps a bounded number of probes and values, and counts the rest', () => {
    const board = new StatusBoard();
    const report = board.track('c', 1, ['c.A', 'c.B']);
    for (let i = 0; i < PROBE_HISTORY + 5; i++) {
      const points = [...Array.from({ length: 50 }, (_, j) => point(`c.A.v${j}`, j, {}, i, { source: 'c.A' })), point('c.B', i, {}, i, { source: 'c.B' })];
      report(tick(i, [st('c.A', { durationSeconds: i }), st('c.B')], points));
    }
    const [a, b] = board.executors()[0]!.sources;
    expect(a!.probes).toHaveLength(PROBE_HISTORY);
    expect(a!.probes[0]!.seconds).toBe(5);
    expect(a!.probes.at(-1)!.seconds).toBe(PROBE_HISTORY + 4);
    expect(a!.lastValues).toHaveLength(LAST_VALUES);
    expect(a!.lastValuesTotal).toBe(50);
    expect(b!.lastValues.map((p) => p.value)).toEqual([PROBE_HISTORY + 4]);
  });

  it('the daemon hands it to its writers as WriterContext.status, fed by every executor (self-metrics too)', async () => {
    let ctx: WriterContext | undefined;
    class Spy extends Writer {
      override start(c: WriterContext): void {
        ctx = c;
      }
      write(): void {}
    }
    const config = await buildConfig(
      {
        tickTime: 10,
        executors: [
          {
            collection: 'c',
            sources: [
              { type: 'Dummy', value: 3 },
              { type: 'Dummy', name: 'bad', error: 'no' },
            ],
          },
        ],
      },
      '/tmp/pollect.json',
      { writersOptional: true },
    );
    const d = new Daemon(config, { log: quietLog, dryRun: true, dryRunWriter: new Spy({ type: 'Spy' }), selfMetrics: true });
    expect(await d.runOnce()).toBe(false);
    expect(ctx?.status?.ready()).toBe(true);
    const [c, self] = ctx!.status!.executors();
    expect(c!.sources.map((s) => [s.id, s.state, s.lastError?.message])).toEqual([
      ['c.Dummy', 'ok', undefined],
      ['c.Dummy.bad', 'failing', 'no'],
    ]);
    expect(c!.sources[0]!.lastValues.map((p) => p.value)).toEqual([3]);
    expect(self!.sources.map((s) => [s.id, s.state])).toEqual([['pollect.self', 'ok']]);
  });
});
