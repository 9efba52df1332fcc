// The probes' timeouts share one timer (Deadlines): each probe still ends at its own timeout, and
// nothing is left armed once every probe has answered.
import { describe, expect, it, vi } from 'vitest';
import { Deadlines, SourceRunner } from '../../src/executors/source-runner.js';
import { Source, type ProbeContext, type SourceConfig } from '../../src/sdk/index.js';
import { createLogger } from '../../src/log.js';

class HangSource extends Source {
  probe(ctx: ProbeContext): Promise<number> {
    return new Promise((_, reject) => ctx.signal.addEventListener('abort', () => reject(new Error('aborted')), { once: true }));
  }
}

class QuickSource extends Source {
  async probe(): Promise<number> {
    return 1;
  }
}

function runner(source: Source<SourceConfig>, deadlines: Deadlines, id: string) {
  return new SourceRunner({
    id,
    collection: 'c',
    typeName: 'T',
    source,
    tickTime: 10,
    maxBackoff: 10,
    log: createLogger('', { level: 'error' }),
    configDir: '.',
    deadlines,
  });
}

describe('Deadlines', () => {
  it('ends each probe at its own timeout, with one timer for all', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
    try {
      const deadlines = new Deadlines();
      const ended: Record<string, number> = {};
      const tick = (id: string, source: Source<SourceConfig>) =>
        runner(source, deadlines, id)
          .tick(0, [])
          .then((s) => {
            ended[id] = performance.now();
            return s.error;
          });
      const started = performance.now();
      const errors = Promise.all([
        tick('slow', new HangSource({ type: 'Hang', timeout: 0.2 })),
        tick('fast', new HangSource({ type: 'Hang', timeout: 0.05 })),
        tick('quick', new QuickSource({ type: 'Quick', timeout: 0.05 })),
      ]);
      expect(vi.getTimerCount()).toBe(1);
      await vi.advanceTimersByTimeAsync(200);
      expect(await errors).toEqual(['timed out after 0.2 s', 'timed out after 0.05 s', undefined]);
      expect(ended.quick! - started).toBe(0);
      expect(ended.fast! - started).toBe(50);
      expect(ended.slow! - started).toBe(200);
      expect(vi.getTimerCount()).toBe(0);
    } finally {
      vi.useRealTimers();
    }
  });

  it('costs one timer per tick of many sources, cleared once every probe has answered', async () => {
    const deadlines = new Deadlines();
    const runners = [1, 2, 3].map((i) => runner(new QuickSource({ type: 'Quick' }), deadlines, `q${i}`));
    await Promise.all(runners.map((r) => r.init()));
    const set = vi.spyOn(globalThis, 'setTimeout');
    const clear = vi.spyOn(globalThis, 'clearTimeout');
    try {
      const statuses = await Promise.all(runners.map((r) => r.tick(0, [])));
      expect(statuses.every((s) => s.success)).toBe(true);
      expect(set).toHaveBeenCalledTimes(1);
      expect(clear).toHaveBeenCalledTimes(1);
    } finally {
      set.mockRestore();
      clear.mockRestore();
    }
  });
});
