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

const timeouts = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;

describe('Deadlines', () => {
  it('ends each probe at its own timeout, with one timer for all', async () => {
    const deadlines = new Deadlines();
    const before = timeouts();
    const started = performance.now();
    const ended = (p: Promise<{ error?: string }>) => p.then((s) => ({ error: s.error, ms: performance.now() - started }));
    const ticks = [
      ended(runner(new HangSource({ type: 'Hang', timeout: 0.2 }), deadlines, 'slow').tick(0, [])),
      ended(runner(new HangSource({ type: 'Hang', timeout: 0.05 }), deadlines, 'fast').tick(0, [])),
      ended(runner(new QuickSource({ type: 'Quick', timeout: 0.05 }), deadlines, 'quick').tick(0, [])),
    ];
    expect(timeouts() - before).toBe(1);
    const [slow, fast, quick] = await Promise.all(ticks);
    expect(quick!.error).toBeUndefined();
    expect(fast!.error).toBe('timed out after 0.05 s');
    expect(slow!.error).toBe('timed out after 0.2 s');
    expect(fast!.ms).toBeGreaterThanOrEqual(49);
    expect(fast!.ms).toBeLessThan(190);
    expect(slow!.ms).toBeGreaterThanOrEqual(199);
    expect(timeouts() - before).toBeLessThanOrEqual(0);
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
