// SIGHUP's reload, in-process: a config that does not validate or cannot be built changes nothing;
// a valid one keeps what did not change running (same objects, no lost tick, the same open port)
// and restarts what changed, flushing it first. Under fake timers, a reload in the middle of a
// tick loses no sample.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Daemon } from '../../src/executors/daemon.js';
import { selfSeriesName } from '../../src/executors/self-metrics.js';
import { createNamer } from '../../src/writers/prometheus/naming.js';
import { freeId, match } from '../../src/executors/reload.js';
import { buildConfig, type ExecutorPlan, type PollectConfig, type ResolvedSource, type ResolvedWriter } from '../../src/config/load.js';
import { ParamError, Source, Writer, type AnySourceClass, type AnyWriterClass, type Batch, type Point, type SourceConfig } from '../../src/sdk/index.js';
import { DummySource } from '../../src/sources/dummy/index.js';
import { createLogger } from '../../src/log.js';
import { configFor, typeName } from '../helpers/plugin.js';
import { freePort, tempDir } from '../helpers/net.js';
import { settle } from '../helpers/clock.js';
import { readdirSync, readFileSync, renameSync } from 'node:fs';
import path from 'node:path';

/** What the Count writers saw: every point with the tag of the writer that took it, and their lifecycle. */
const seen = { points: [] as { tag: string; point: Point }[], events: [] as string[] };

class CountWriter extends Writer<{ type: string; tag: string }> {
  override start(): void {
    seen.events.push(`start ${this.config.tag}`);
  }
  write(batch: Batch): void {
    for (const point of batch.points) seen.points.push({ tag: this.config.tag, point });
  }
  override flush(): void {
    seen.events.push(`flush ${this.config.tag}`);
  }
  override stop(): void {
    seen.events.push(`stop ${this.config.tag}`);
  }
}

/** A source whose constructor rejects `bad: true`, as one with an invalid regex would. */
class PickySource extends Source<SourceConfig & { bad?: boolean }> {
  constructor(...args: ConstructorParameters<typeof Source<SourceConfig & { bad?: boolean }>>) {
    super(...args);
    if (this.config.bad) throw new ParamError('bad', 'is not acceptable');
  }
  probe(): number {
    return 1;
  }
}

function source(cls: AnySourceClass, params: Record<string, unknown>, at: string): ResolvedSource {
  const config = cls === DummySource ? configFor(DummySource, params) : { type: typeName(cls), ...params };
  return { cls, config: config as SourceConfig, typeName: typeName(cls), path: at };
}

function countWriter(tag: string, at = 'writers[0]'): ResolvedWriter {
  return { cls: CountWriter as AnyWriterClass, config: { type: 'Count', tag, bufferSize: 1000 } as never, typeName: 'Count', path: at };
}

/** A config as the loader makes it, built anew on every call (a reload compares structure, not identity). */
function config(executors: Omit<ExecutorPlan, 'path' | 'maxBackoff'>[], writers: ResolvedWriter[], over: Partial<PollectConfig> = {}): PollectConfig {
  return {
    file: 'test.json',
    configDir: process.cwd(),
    tickTime: 1,
    shutdownGrace: 2,
    selfMetrics: false,
    writers,
    executors: executors.map((e, i) => ({ maxBackoff: 10, ...e, path: `executors[${i}]` })),
    ...over,
  };
}

function logSink() {
  const lines: string[] = [];
  return { lines, log: createLogger('', { level: 'debug', write: (l) => lines.push(l) }) };
}

afterEach(() => {
  vi.useRealTimers();
  seen.points.length = 0;
  seen.events.length = 0;
});

describe('matching a new config with the running one', () => {
  it('keeps equal items, pairs what is left by type, and says what is new and what goes', () => {
    const m = match(
      ['a:1', 'b:1', 'c:1'],
      ['b:1', 'a:2', 'd:1'],
      (o, n) => o === n,
      (o, n) => o[0] === n[0],
    );
    expect(m).toEqual({ kept: [['b:1', 'b:1']], replaced: [['a:1', 'a:2']], added: ['d:1'], removed: ['c:1'] });
  });

  it('names a second item of one type Type#1, and reuses a name that has become free', () => {
    expect(freeId('File', new Set())).toBe('File');
    expect(freeId('File', new Set(['File']))).toBe('File#1');
    expect(freeId('File', new Set(['File', 'File#2']))).toBe('File#1');
  });
});

describe('the reload self-metrics', () => {
  it('are named as Prometheus names its own, in both namings of the Prometheus writer', () => {
    for (const mode of ['pollect', 'prometheus'] as const) {
      const namer = createNamer(mode);
      expect(namer.metric(selfSeriesName('pollect.config.last_reload_successful'), 'gauge').family).toBe('pollect_config_last_reload_successful');
      expect(namer.metric(selfSeriesName('pollect.config.last_reload_success_timestamp_seconds'), 'gauge', 'seconds').family).toBe(
        'pollect_config_last_reload_success_timestamp_seconds',
      );
    }
  });
});

describe('reload', () => {
  it('a config that does not validate is logged with every problem and path; the running config stays', async () => {
    vi.useFakeTimers({ now: Date.UTC(2026, 0, 1) });
    const { lines, log } = logSink();
    const d = new Daemon(config([{ collection: 'c', tickTime: 1, sources: [source(DummySource, {}, 'executors[0].sources[0]')] }], [countWriter('x')]), {
      log,
    });
    await d.start();
    const [executor] = d.executors;
    const [writer] = d.writers;
    const bad = { writer: { type: 'Nope' }, executors: [{ sources: [{ type: 'Dummy', value: 'high' }] }] };
    expect(await d.reload(() => buildConfig(bad, '/etc/pollect.json'))).toBe(false);
    expect(lines.join('\n')).toContain('reload: invalid config, the running one stays');
    expect(lines.some((l) => l.includes('reload: writer.type: '))).toBe(true);
    expect(lines.some((l) => l.includes('reload: executors[0].sources[0].value: '))).toBe(true);
    expect(d.executors).toEqual([executor]);
    expect(d.writers).toEqual([writer]);
    await vi.advanceTimersByTimeAsync(3000);
    expect(seen.points.length).toBe(4); // ticks at 0, 1, 2, 3 s: none lost
    const done = d.stop();
    await vi.advanceTimersByTimeAsync(2000);
    await done;
  });

  it('a plugin whose constructor rejects its params fails the reload before anything stops or starts', async () => {
    const { lines, log } = logSink();
    const good = () => config([{ collection: 'c', tickTime: 1, sources: [source(PickySource, {}, 'executors[0].sources[0]')] }], [countWriter('x')]);
    const d = new Daemon(good(), { log, selfMetrics: true });
    await d.start();
    const before = [...d.executors];
    const broken = config([{ collection: 'c', tickTime: 1, sources: [source(PickySource, { bad: true }, 'executors[0].sources[0]')] }], [countWriter('y')]);
    expect(await d.reload(broken)).toBe(false);
    expect(lines.some((l) => l.endsWith('ERROR reload: executors[0].sources[0].bad: is not acceptable'))).toBe(true);
    expect(d.executors).toEqual(before);
    expect(seen.events).toEqual(['start x']); // the changed writer was neither stopped nor started
    // The self-metrics say so, under Prometheus's own names.
    await settle(); // the self-metrics' tick at start has ended
    const batch = await d.executors.at(-1)!.runTick();
    const byName = new Map(batch.points.map((p) => [p.name.id, p.value]));
    expect(byName.get('pollect.config.last_reload_successful')).toBe(0);
    expect(byName.get('pollect.config.last_reload_success_timestamp_seconds')).toBeGreaterThan(0);
    expect(await d.reload(good())).toBe(true);
    await settle();
    const after = await d.executors.at(-1)!.runTick();
    expect(after.points.find((p) => p.name.id === 'pollect.config.last_reload_successful')?.value).toBe(1);
    await d.stop();
  });

  it('turns the self-metrics on and off, and follows a new top-level tickTime', async () => {
    vi.useFakeTimers({ now: Date.UTC(2026, 0, 1) });
    const { log } = logSink();
    const cfg = (selfMetrics: boolean, tickTime: number) =>
      config([{ collection: 'a', tickTime: 1, sources: [source(DummySource, {}, 'executors[0].sources[0]')] }], [countWriter('x')], { selfMetrics, tickTime });
    const self = () => seen.points.filter((p) => p.point.name.id === 'pollect.config.last_reload_successful').length;
    const d = new Daemon(cfg(false, 1), { log });
    await d.start();
    const [a] = d.executors;
    await vi.advanceTimersByTimeAsync(2000);
    expect(self()).toBe(0);
    expect(await d.reload(cfg(true, 1))).toBe(true);
    expect(d.executors).toHaveLength(2);
    expect(d.executors[0]).toBe(a);
    await vi.advanceTimersByTimeAsync(2000);
    expect(self()).toBe(3); // at the reload, then at 3 and 4 s
    expect(await d.reload(cfg(true, 2))).toBe(true);
    expect(d.executors.at(-1)!.tickTime).toBe(2);
    expect(await d.reload(cfg(false, 2))).toBe(true);
    expect(d.executors).toEqual([a]);
    const before = self();
    await vi.advanceTimersByTimeAsync(4000);
    expect(self()).toBe(before);
    const done = d.stop();
    await vi.advanceTimersByTimeAsync(2000);
    await done;
  });

  it('restarts only the executor whose source changed; the other keeps its runners and its ticks', async () => {
    vi.useFakeTimers({ now: Date.UTC(2026, 0, 1) });
    const { lines, log } = logSink();
    const two = (b: number) =>
      config(
        [
          { collection: 'a', tickTime: 1, sources: [source(DummySource, { value: 1 }, 'executors[0].sources[0]')] },
          { collection: 'b', tickTime: 1, sources: [source(DummySource, { value: b }, 'executors[1].sources[0]')] },
        ],
        [countWriter('x')],
      );
    const d = new Daemon(two(1), { log });
    await d.start();
    const [a, b] = d.executors;
    const runnerA = a!.runners[0];
    await vi.advanceTimersByTimeAsync(1500);
    expect(await d.reload(two(2))).toBe(true);
    expect(d.executors[0]).toBe(a);
    expect(d.executors[0]!.runners[0]).toBe(runnerA);
    expect(d.executors[1]).not.toBe(b);
    expect(d.executors[1]!.runners[0]!.id).toBe('b.Dummy');
    expect(seen.events).toEqual(['start x']); // the writer did not change: not touched
    expect(lines.some((l) => l.endsWith('reload: done: executors 1 kept, 1 started, 1 stopped; writers 1 kept, 0 restarted, 0 started, 0 stopped'))).toBe(true);
    await vi.advanceTimersByTimeAsync(2000);
    const at = (collection: string) =>
      seen.points.filter((p) => p.point.name.collection === collection).map((p) => [p.point.timestamp % 10_000, p.point.value]);
    expect(at('a')).toEqual([0, 1000, 2000, 3000].map((t) => [t, 1]));
    // b: the old executor's ticks, the new one's first tick at the reload, then its aligned ones.
    expect(at('b')).toEqual([
      [0, 1],
      [1000, 1],
      [1500, 2],
      [2000, 2],
      [3000, 2],
    ]);
    const done = d.stop();
    await vi.advanceTimersByTimeAsync(2000);
    await done;
  });

  it('a changed writer port: the old port is closed, the new one serves; an unchanged one keeps its server', async () => {
    const { log } = logSink();
    const [p1, p2] = [await freePort(), await freePort()];
    const raw = (port: number, value: number) => ({
      tickTime: 0.2,
      selfMetrics: false,
      writer: { type: 'Prometheus', host: '127.0.0.1', port },
      executors: [{ collection: 'c', sources: [{ type: 'Dummy', value }] }],
    });
    const d = new Daemon(await buildConfig(raw(p1, 1), '/tmp/pollect.json'), { log });
    await d.start();
    const served = async (port: number) => (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    await expect.poll(() => served(p1), { timeout: 10_000 }).toContain('c_Dummy 1');
    const prometheus = d.writers[0]!.writer;
    // Only the source changes: the same writer, its port never closed.
    expect(await d.reload(await buildConfig(raw(p1, 2), '/tmp/pollect.json'))).toBe(true);
    expect(d.writers[0]!.writer).toBe(prometheus);
    await expect.poll(() => served(p1), { timeout: 10_000 }).toContain('c_Dummy 2');
    // The port changes: the writer is restarted on the new port, the old port is closed.
    expect(await d.reload(await buildConfig(raw(p2, 2), '/tmp/pollect.json'))).toBe(true);
    expect(d.writers[0]!.writer).not.toBe(prometheus);
    expect(d.writers[0]!.id).toBe('Prometheus');
    await expect(served(p1)).rejects.toThrow();
    await expect.poll(() => served(p2), { timeout: 10_000 }).toContain('c_Dummy 2');
    await d.stop();
  });

  it('an unchanged Graphite writer keeps what it buffered while carbon was down through a reload', async () => {
    const { log } = logSink();
    const port = await freePort();
    const raw = (value: number) => ({
      tickTime: 0.2,
      selfMetrics: false,
      writer: { type: 'Graphite', host: '127.0.0.1', port, protocol: 'plaintext', reconnectMin: 0.05, reconnectMax: 0.1 },
      executors: [{ collection: 'c', sources: [{ type: 'Dummy', value }] }],
    });
    const d = new Daemon(await buildConfig(raw(1), '/tmp/pollect.json'), { log });
    await d.start();
    const graphite = d.writers[0]!;
    await expect.poll(() => graphite.stats().queueLength, { timeout: 10_000 }).toBeGreaterThanOrEqual(3);
    const buffered = graphite.stats().queueLength;
    expect(await d.reload(await buildConfig(raw(2), '/tmp/pollect.json'))).toBe(true);
    expect(d.writers[0]).toBe(graphite);
    expect(graphite.stats().queueLength).toBeGreaterThanOrEqual(buffered);
    // carbon comes up: what was buffered before the reload arrives, then the new config's samples.
    const net = await import('node:net');
    let received = '';
    const carbon = net.createServer((sock) => sock.on('data', (b) => (received += b.toString()))).listen(port, '127.0.0.1');
    try {
      await expect.poll(() => received.includes('c.Dummy 2 '), { timeout: 10_000 }).toBe(true);
      const ones = received.split('\n').filter((l) => l.startsWith('c.Dummy 1 '));
      expect(ones.length).toBeGreaterThanOrEqual(buffered);
      expect(graphite.stats().dropped).toBe(0);
      await d.stop();
    } finally {
      carbon.close();
    }
  });

  it('a writer that cannot start on its new port is given its old config back; the reload says it failed', async () => {
    const { lines, log } = logSink();
    const [p1, busy] = [await freePort(), await freePort()];
    const net = await import('node:net');
    const blocker = net.createServer().listen(busy, '127.0.0.1');
    await new Promise((r) => blocker.once('listening', r));
    try {
      const raw = (port: number) => ({
        tickTime: 0.2,
        selfMetrics: false,
        writer: { type: 'Prometheus', host: '127.0.0.1', port },
        executors: [{ collection: 'c', sources: [{ type: 'Dummy', value: 3 }] }],
      });
      const d = new Daemon(await buildConfig(raw(p1), '/tmp/pollect.json'), { log });
      await d.start();
      expect(await d.reload(await buildConfig(raw(busy), '/tmp/pollect.json'))).toBe(false);
      expect(lines.join('\n')).toMatch(/reload: writer Prometheus \(writer\) cannot start with its new config, keeping the old one/);
      await expect.poll(async () => (await fetch(`http://127.0.0.1:${p1}/metrics`)).text(), { timeout: 10_000 }).toContain('c_Dummy 3');
      // Tried again at the next reload, which sees the old config running.
      expect(await d.reload(await buildConfig(raw(p1), '/tmp/pollect.json'))).toBe(true);
      await d.stop();
    } finally {
      blocker.close();
    }
  });

  it('under load: a reload during a tick, changing a writer and an executor, loses no sample', async () => {
    vi.useFakeTimers({ now: Date.UTC(2026, 0, 1) });
    const { log } = logSink();
    // Probes take 300 ms: the reload at 5.1 s falls in the middle of the tick of 5 s.
    const cfg = (tag: string, b: number) =>
      config(
        [
          { collection: 'a', tickTime: 1, sources: [source(DummySource, { value: 1, sleep: 0.3 }, 'executors[0].sources[0]')] },
          { collection: 'b', tickTime: 1, sources: [source(DummySource, { value: b, sleep: 0.3 }, 'executors[1].sources[0]')] },
        ],
        [countWriter(tag)],
        { selfMetrics: true },
      );
    const d = new Daemon(cfg('x', 1), { log });
    await d.start();
    await vi.advanceTimersByTimeAsync(5100);
    const reloaded = d.reload(cfg('y', 2));
    await vi.advanceTimersByTimeAsync(300); // the tick of 5 s ends: the old executor has stopped
    expect(await reloaded).toBe(true);
    await vi.advanceTimersByTimeAsync(4700); // to 10.1 s: the tick of 10 s is running
    const done = d.stop();
    await vi.advanceTimersByTimeAsync(2000);
    await done;

    const ticksOf = (collection: string, value?: number) =>
      seen.points
        .filter((p) => p.point.name.collection === collection && (value === undefined || p.point.value === value))
        .map((p) => (p.point.timestamp - Date.UTC(2026, 0, 1)) / 1000);
    // The kept executor: every tick from 0 to 10 s, once each.
    expect(ticksOf('a')).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    // The changed one: the old executor's ticks to the one running at the reload, then the new one's.
    expect(ticksOf('b', 1)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(ticksOf('b', 2)).toEqual([5.3, 6, 7, 8, 9, 10]); // 5.3: started once the old one's tick had ended
    // The writer: x took what came before the reload, y the rest; x was flushed and stopped before y started.
    const tags = seen.points.filter((p) => p.point.name.collection === 'a').map((p) => p.tag);
    expect(tags.join('')).toMatch(/^x{5,6}y{5,6}$/);
    expect(seen.events).toEqual(['start x', 'flush x', 'stop x', 'start y', 'flush y', 'stop y']);
    expect(d.writers.map((w) => w.stats())).toMatchObject([{ writer: 'Count', dropped: 0, queueLength: 0 }]);
    // The self-metrics executor kept running: its ticks went on through the reload.
    const self = seen.points.filter((p) => p.point.name.id === 'pollect.config.last_reload_successful');
    expect(self.map((p) => p.point.value)).toEqual([1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1]);
  });

  it('a File writer rotating under a 1 s tick, moved away by logrotate and reloaded (SIGHUP), loses no line', async () => {
    vi.useFakeTimers({ now: Date.UTC(2026, 0, 1), toFake: ['Date', 'setTimeout', 'clearTimeout'] });
    const t = tempDir();
    const { log } = logSink();
    try {
      const raw = {
        tickTime: 1,
        selfMetrics: false,
        writer: { type: 'File', path: 'out.jsonl', rotation: { maxSize: 4000, interval: 10, keep: 100 } },
        executors: [{ collection: 'c', sources: [{ type: 'Dummy', value: { a: 1, b: 2, c: 3 } }] }],
      };
      const file = path.join(t.dir, 'pollect.json');
      const d = new Daemon(await buildConfig(structuredClone(raw), file), { log });
      await d.start();
      const file0 = d.writers[0]!.writer;
      const tick = async (n: number) => {
        for (let i = 0; i < n; i++) {
          await vi.advanceTimersByTimeAsync(1000);
          // The file system is real: let the writes finish (setImmediate is not faked).
          while (!d.writers[0]!.idle) await new Promise((r) => setImmediate(r));
        }
      };
      await tick(15);
      renameSync(path.join(t.dir, 'out.jsonl'), path.join(t.dir, 'moved.jsonl'));
      expect(await d.reload(await buildConfig(structuredClone(raw), file))).toBe(true);
      expect(d.writers[0]!.writer).toBe(file0); // unchanged: kept, and it opens the path anew at each write
      await tick(15);
      await d.stop();
      const names = readdirSync(t.dir).filter((n) => n !== 'pollect.json');
      expect(names.length).toBeGreaterThan(3);
      const lines = names.flatMap((n) => readFileSync(path.join(t.dir, n), 'utf8').split('\n').filter(Boolean));
      const perTick = new Map<number, number>();
      for (const l of lines) {
        const ts = (JSON.parse(l) as { timestamp: number }).timestamp;
        perTick.set(ts, (perTick.get(ts) ?? 0) + 1);
      }
      // Ticks at 0 to 30 s, three samples each, every one in exactly one file.
      expect([...perTick.keys()].sort((a, b) => a - b)).toEqual(Array.from({ length: 31 }, (_, s) => Date.UTC(2026, 0, 1) + s * 1000));
      expect(new Set(perTick.values())).toEqual(new Set([3]));
    } finally {
      t.remove();
    }
  });
});
