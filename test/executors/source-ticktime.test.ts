// A source's own tickTime (the Python pollect's pollect.json has one on SmartCtl and Sensors): it
// is probed on every n-th tick of its executor, on wall-clock multiples of its interval, and sits
// out the ticks between (absent from those batches, so no writer takes it for failed).
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { buildConfig } from '../../src/config/load.js';
import type { ConfigError } from '../../src/config/errors.js';
import { Daemon } from '../../src/executors/daemon.js';
import { createLogger } from '../../src/log.js';
import { CaptureWriter } from '../helpers/capture.js';

const log = createLogger('test', { level: 'error', write: () => {} });

function config(sources: object[], tickTime = 10) {
  return buildConfig({ tickTime, selfMetrics: false, executors: [{ collection: 'c', sources }] }, '/x/c.json', { env: {}, writersOptional: true });
}

describe('a source with its own tickTime', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('is probed every n-th tick, on multiples of its interval, and left out of the batches between', async () => {
    vi.setSystemTime(new Date('2026-01-01T00:00:03.000Z'));
    const cfg = await config([
      { type: 'Dummy', name: 'fast' },
      { type: 'Dummy', name: 'slow', tickTime: 60 },
    ]);
    expect(cfg.executors[0]!.sources.map((s) => s.tickTime)).toEqual([undefined, 60]);
    const w = new CaptureWriter();
    const daemon = new Daemon(cfg, { dryRun: true, dryRunWriter: w, log });
    await daemon.start();
    await vi.advanceTimersByTimeAsync(130_000);
    const stop = daemon.stop();
    await vi.advanceTimersByTimeAsync(10_000);
    await stop;
    const slowAt = w.batches.filter((b) => b.sources.some((s) => s.id === 'c.Dummy.slow')).map((b) => new Date(b.timestamp).toISOString());
    expect(slowAt).toEqual(['2026-01-01T00:00:03.000Z', '2026-01-01T00:01:00.000Z', '2026-01-01T00:02:00.000Z']);
    // The executor's other source keeps its 10 s tick.
    expect(w.batches.filter((b) => b.sources.some((s) => s.id === 'c.Dummy.fast')).length).toBe(w.batches.length);
    expect(w.batches.length).toBe(14);
    // Its points come only with its probes, and every probe succeeded (no tick counted as skipped).
    const slowPoints = w.batches.flatMap((b) => b.points.filter((p) => p.source === 'c.Dummy.slow'));
    expect(slowPoints).toHaveLength(3);
    expect(w.batches.flatMap((b) => b.sources).every((s) => s.state === 'probed' && s.success)).toBe(true);
  });

  it('is rounded up to a whole number of ticks; one shorter than the tick is a config error', async () => {
    const cfg = await config(
      [
        { type: 'Dummy', tickTime: 25 },
        { type: 'Dummy', tickTime: 0.3 },
      ],
      0.1,
    );
    expect(cfg.executors[0]!.sources.map((s) => s.tickTime)).toEqual([25, expect.closeTo(0.3, 9)]);
    expect((await config([{ type: 'Dummy', tickTime: 25 }])).executors[0]!.sources[0]!.tickTime).toBe(30);
    const err = await config([{ type: 'Dummy', tickTime: 5 }]).catch((e: unknown) => e);
    expect((err as ConfigError).problems).toEqual([
      "executors[0].sources[0].tickTime: 5 is shorter than its executor's tickTime (10): a source is probed at most once a tick",
    ]);
  });
});
