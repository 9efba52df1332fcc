// Ticks longer than setTimeout's limit (2^31-1 ms, 24.8 days): the wait is chained, never a hot loop.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Executor } from '../../src/executors/executor.js';
import { SourceRunner } from '../../src/executors/source-runner.js';
import { DummySource } from '../../src/sources/dummy/index.js';
import { createLogger } from '../../src/log.js';
import { build } from '../helpers/plugin.js';

const log = createLogger('test', { level: 'error', write: () => {} });

afterEach(() => {
  vi.useRealTimers();
});

describe('an executor with a 31-day tick', () => {
  it('ticks once at start, then not again until 31 days have passed', async () => {
    vi.useFakeTimers({ now: Date.UTC(2026, 0, 1) });
    const tickTime = 31 * 86_400;
    const source = build(DummySource, { value: 1 });
    const runner = new SourceRunner({ id: 'c.Dummy', collection: 'c', typeName: 'Dummy', source, tickTime, maxBackoff: 300, log, configDir: '.' });
    const ex = new Executor({ collection: 'c', tickTime, runners: [runner], writers: [] });
    ex.start();
    await vi.advanceTimersByTimeAsync(1000);
    expect(ex.ticks).toBe(1);
    // Past setTimeout's limit: a clamped timer would have fired hundreds of times by now.
    await vi.advanceTimersByTimeAsync(25 * 86_400_000);
    expect(ex.ticks).toBe(1);
    await vi.advanceTimersByTimeAsync(tickTime * 1000);
    expect(ex.ticks).toBe(2);
    void ex.stop();
  });
});
