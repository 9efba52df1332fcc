// Probes that misbehave against their timeout: one that blocks the event loop past it, and one
// that ignores its abort signal and never settles.
import { describe, expect, it, vi } from 'vitest';
import { SourceRunner } from '../../src/executors/source-runner.js';
import { Source, type Point, type SourceConfig } from '../../src/sdk/index.js';
import { createLogger } from '../../src/log.js';

function capture() {
  const lines: string[] = [];
  return { lines, log: createLogger('', { level: 'debug', write: (l) => lines.push(l) }) };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

class BusySource extends Source {
  probe(): number {
    const until = Date.now() + 300;
    while (Date.now() < until) {
      // a synchronous probe that holds the event loop
    }
    return 1;
  }
}

class NeverSource extends Source {
  static built = 0;
  constructor(config: SourceConfig) {
    super(config);
    NeverSource.built++;
  }
  probe(): Promise<number> | number {
    // The first instance hangs for good, ignoring its signal; a rebuilt one answers.
    return NeverSource.built === 1 ? new Promise<number>(() => {}) : 5;
  }
}

describe('a probe that blocks the event loop past its timeout', () => {
  it('is a failure naming how long it blocked, logged once', async () => {
    const { lines, log } = capture();
    const r = new SourceRunner({
      id: 'c.Busy',
      collection: 'c',
      typeName: 'Busy',
      source: new BusySource({ type: 'Busy', timeout: 0.1 }),
      tickTime: 1,
      maxBackoff: 1,
      log,
      configDir: '.',
    });
    const out: Point[] = [];
    const status = await r.tick(Date.now(), out);
    expect(status.success).toBe(false);
    expect(status.error).toMatch(/^the probe blocked the event loop for 0\.[3-9] s, past its timeout of 0\.1 s; other sources' ticks waited for it$/);
    expect(out).toEqual([]);
    expect(lines.filter((l) => l.includes('ERROR c.Busy: the probe blocked the event loop'))).toHaveLength(1);
  });
});

describe('a probe that ignores its abort signal and never settles', () => {
  it('is warned about once, and the source is built anew after a few skipped ticks', async () => {
    const { lines, log } = capture();
    NeverSource.built = 0;
    const config = { type: 'Never', timeout: 0.05 };
    const r = new SourceRunner({
      id: 'c.Never',
      collection: 'c',
      typeName: 'Never',
      source: new NeverSource(config),
      tickTime: 1,
      maxBackoff: 0.001,
      log,
      configDir: '.',
      recreate: () => new NeverSource(config),
    });
    const first = await r.tick(Date.now(), []);
    expect(first.error).toBe('timed out after 0.05 s');
    const states: string[] = [];
    for (let i = 0; i < 3; i++) {
      await sleep(60);
      states.push((await r.tick(Date.now(), [])).state);
    }
    expect(states).toEqual(['skipped', 'skipped', 'skipped']);
    expect(lines.filter((l) => l.includes('still running past its timeout'))).toHaveLength(1);
    expect(lines.filter((l) => l.includes('c.Never: built anew after 3 ticks skipped behind a stuck probe'))).toHaveLength(1);
    expect(NeverSource.built).toBe(2);
    const out: Point[] = [];
    const after = await r.tick(Date.now(), out);
    expect(after.success).toBe(true);
    expect(out.map((p) => p.value)).toEqual([5]);
  });

  it('a slow probe within a timeout longer than the tick is left alone', async () => {
    const { lines, log } = capture();
    let resolve: (v: number) => void = () => {};
    let built = 0;
    class SlowSource extends Source {
      probe(): Promise<number> {
        built++;
        return new Promise((r) => (resolve = r));
      }
    }
    const r = new SourceRunner({
      id: 'c.Slow',
      collection: 'c',
      typeName: 'Slow',
      source: new SlowSource({ type: 'Slow', timeout: 10 }),
      tickTime: 0.01,
      maxBackoff: 1,
      log,
      configDir: '.',
      recreate: () => new SlowSource({ type: 'Slow' }),
    });
    const first = r.tick(Date.now(), []);
    for (let i = 0; i < 4; i++) expect((await r.tick(Date.now(), [])).state).toBe('skipped');
    await vi.waitFor(() => expect(built).toBe(1));
    expect((await r.tick(Date.now(), [])).state).toBe('skipped');
    resolve(1);
    expect((await first).success).toBe(true);
    expect(built).toBe(1);
    expect(lines.filter((l) => l.includes('WARN'))).toEqual([]);
  });
});
