// The disk queue: a writer's buffer kept on disk as one file per batch, so a restart during an
// outage sends what was buffered; torn and unreadable files are skipped. Then the whole daemon:
// killed with SIGKILL during an InfluxDB outage and started again, nothing lost.
import { afterEach, describe, expect, it } from 'vitest';
import { chmodSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { DiskQueue } from '../../src/executors/disk-queue.js';
import { WriterRuntime } from '../../src/executors/writer-runtime.js';
import { createLogger } from '../../src/log.js';
import { Writer, type Batch } from '../../src/sdk/index.js';
import { ManualClock, settle } from '../helpers/clock.js';
import { batch, point } from '../helpers/points.js';
import { spawnDaemon, tempDir, type Daemon } from '../helpers/net.js';
import { needs } from '../helpers/servers.js';
import { influxd } from '../helpers/influxd.js';
import { BIN, cli } from '../helpers/cli.js';

const cleanups: (() => void | Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

function setup() {
  const tmp = tempDir();
  cleanups.push(tmp.remove);
  const lines: string[] = [];
  const log = createLogger('', { level: 'debug', write: (l) => lines.push(l) });
  return { dir: path.join(tmp.dir, 'queue'), lines, log };
}

/** A writer that fails while `down`, and records what it took. */
class Backend extends Writer {
  down = true;
  taken: Batch[] = [];
  constructor() {
    super({ type: 'Backend' });
    this.id = 'Backend';
  }
  write(b: Batch): void {
    if (this.down) throw new Error('backend down');
    this.taken.push(b);
  }
}

const tick = (i: number, n = 2) =>
  batch(Array.from({ length: n }, (_, k) => point(`c.T.v${k}`, i + k / 10, { tick: String(i) }, 1_700_000_000_000 + i * 1000)));
const files = (dir: string) => readdirSync(dir).sort();

describe('DiskQueue', () => {
  it('keeps batches as files in order, values NaN and ±Infinity included, and forgets removed ones', () => {
    const { dir, log } = setup();
    const q = new DiskQueue(dir, log);
    expect(q.load()).toEqual([]);
    const batches = Array.from({ length: 11 }, (_, i) => tick(i));
    batches[3]!.points[0]!.value = Number.NaN;
    batches[4]!.points[0]!.value = -Infinity;
    for (const b of batches) q.save(b);
    q.remove(batches[0]!);
    expect(files(dir)).toHaveLength(10);
    const again = new DiskQueue(dir, log).load();
    // In order: 10 after 9, not after 1.
    expect(again.map((b) => b.points[0]!.labels.tick)).toEqual(['1', '2', '3', '4', '5', '6', '7', '8', '9', '10']);
    expect(again[2]!.points[0]!.value).toBeNaN();
    expect(again[3]!.points[0]!.value).toBe(-Infinity);
    expect(again[0]).toEqual(batches[1]);
  });

  it('skips a torn file (a crash mid-write) and an unreadable one, removes them and says so once', () => {
    const { dir, lines, log } = setup();
    const q = new DiskQueue(dir, log);
    q.load();
    q.save(tick(1));
    q.save(tick(2));
    writeFileSync(path.join(dir, '3.tmp'), '{"collection":"c","points":[{"na');
    writeFileSync(path.join(dir, '4.batch'), '');
    writeFileSync(path.join(dir, 'notes.txt'), 'not ours');
    const q2 = new DiskQueue(dir, log);
    expect(q2.load().map((b) => b.points[0]!.labels.tick)).toEqual(['1', '2']);
    expect(q2.skipped).toBe(2);
    expect(files(dir)).toEqual(['1.batch', '2.batch', 'notes.txt']);
    expect(lines.filter((l) => l.includes('skipped 2 torn or unreadable batch file(s)'))).toHaveLength(1);
    // New files continue after the highest number seen.
    q2.save(tick(5));
    expect(files(dir)).toContain('5.batch');
  });

  it('a folder it cannot write: logged once, the core buffers in memory only', async () => {
    const { dir, lines, log } = setup();
    const q = new DiskQueue(dir, log);
    q.load();
    chmodSync(dir, 0o500);
    cleanups.push(() => chmodSync(dir, 0o700));
    const backend = new Backend();
    const rt = new WriterRuntime(backend, { bufferSize: 100, log, clock: new ManualClock(), disk: q });
    rt.add(tick(1));
    rt.add(tick(2));
    await settle();
    if (process.getuid?.() === 0) return; // root writes anyway
    expect(lines.filter((l) => l.includes('ERROR') && l.includes('disk queue') && l.includes('buffering in memory only'))).toHaveLength(1);
    expect(rt.stats().queueLength).toBe(4);
  });
});

describe('WriterRuntime with a disk queue', () => {
  it('what a stopped runtime could not write is sent by the next one, in order; taken batches leave the disk', async () => {
    const { dir, log, lines } = setup();
    const clock = new ManualClock();
    const first = new Backend();
    const rt = new WriterRuntime(first, { bufferSize: 100, log, clock, retryMinMs: 100, retryMaxMs: 100, disk: new DiskQueue(dir, log) });
    rt.restore();
    for (let i = 0; i < 3; i++) rt.add(tick(i));
    await settle();
    await rt.stop(clock.now());
    expect(files(dir)).toHaveLength(3);
    expect(lines.some((l) => l.includes(`stopped with 6 point(s) not written; kept in ${dir} for the next start`))).toBe(true);

    const second = new Backend();
    second.down = false;
    const rt2 = new WriterRuntime(second, { bufferSize: 100, log, clock, disk: new DiskQueue(dir, log) });
    rt2.restore();
    rt2.add(tick(3));
    await settle();
    expect(second.taken.map((b) => b.points[0]!.labels.tick)).toEqual(['0', '1', '2', '3']);
    expect(rt2.stats()).toMatchObject({ written: 8, dropped: 0, queueLength: 0 });
    expect(files(dir)).toEqual([]);
    expect(lines.some((l) => l.includes('writer Backend: 6 point(s) from the disk queue of the last run'))).toBe(true);
  });

  it('is bounded by bufferSize: the oldest batches are dropped from disk too, and counted', async () => {
    const { dir, log } = setup();
    const clock = new ManualClock();
    const rt = new WriterRuntime(new Backend(), { bufferSize: 4, log, clock, retryMinMs: 1000, retryMaxMs: 1000, disk: new DiskQueue(dir, log) });
    rt.restore();
    for (let i = 0; i < 5; i++) rt.add(tick(i));
    await settle();
    // Nothing is in flight while the writer waits for its retry: ticks 0-2 are dropped, 3 and 4 fit.
    expect(rt.stats()).toMatchObject({ dropped: 6, queueLength: 4 });
    const kept = new DiskQueue(dir, log).load().map((b) => b.points[0]!.labels.tick);
    expect(kept).toEqual(['3', '4']);
  });
});

describe('diskQueue in a config', () => {
  it('one folder per writer: a second writer on the same folder is a config error with its path (--check)', async () => {
    const tmp = tempDir();
    cleanups.push(tmp.remove);
    const config = path.join(tmp.dir, 'c.json');
    const influx = { type: 'Influx', url: 'http://127.0.0.1:8086', database: 'd', diskQueue: 'q' };
    writeFileSync(config, JSON.stringify({ writers: [influx, { ...influx, diskQueue: './q/' }], executors: [{ sources: [{ type: 'Dummy' }] }] }));
    const r = await cli(['-c', config, '--check']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`writers[1].diskQueue: ${path.join(tmp.dir, 'q')} is also the disk queue of writers[0]: give each writer its own folder`);
  });
});

describe.skipIf(!needs('influxd'))('disk queue: pollect killed (SIGKILL) during an InfluxDB outage and started again', () => {
  it('every tick written before the kill reaches InfluxDB after the restart', async () => {
    const db = await influxd();
    cleanups.push(() => db.remove());
    await db.start();
    await db.query('', 'CREATE DATABASE pollect');
    await db.stop();
    const tmp = tempDir();
    cleanups.push(tmp.remove);
    const config = path.join(tmp.dir, 'pollect.json');
    const ticksFile = path.join(tmp.dir, 'ticks.jsonl');
    writeFileSync(
      config,
      JSON.stringify({
        tickTime: 0.2,
        selfMetrics: false,
        executors: [
          {
            collection: 'dq',
            sources: [{ type: 'Dummy', value: 1 }],
            writers: [
              { type: 'Influx', url: db.url, database: 'pollect', diskQueue: 'queue', timeout: 1 },
              { type: 'File', path: ticksFile },
            ],
          },
        ],
      }),
    );
    const recorded = () => {
      try {
        return readFileSync(ticksFile, 'utf8').trimEnd().split('\n').filter(Boolean).length;
      } catch {
        return 0;
      }
    };
    let pollect: Daemon = spawnDaemon(process.execPath, [BIN, '-c', config]);
    cleanups.push(() => pollect.stop());
    for (const until = Date.now() + 20_000; recorded() < 15 && Date.now() < until; ) await new Promise((r) => setTimeout(r, 50));
    pollect.child.kill('SIGKILL');
    await pollect.stop();
    const before = recorded();
    expect(before).toBeGreaterThanOrEqual(15);
    expect(readdirSync(path.join(tmp.dir, 'queue')).length).toBeGreaterThanOrEqual(before - 1);

    await db.start();
    pollect = spawnDaemon(process.execPath, [BIN, '-c', config]);
    const stored = async () => {
      const s = await db.query('pollect', 'SELECT count("value") FROM "dq.Dummy"').catch(() => []);
      return Number(s[0]?.values[0]?.[1] ?? 0);
    };
    for (const until = Date.now() + 20_000; (await stored()) < before + 5 && Date.now() < until; ) await new Promise((r) => setTimeout(r, 200));
    await pollect.stop();
    // Every tick the File writer recorded (before the kill and after) is in InfluxDB.
    const stamps = readFileSync(ticksFile, 'utf8')
      .trimEnd()
      .split('\n')
      .map((l) => (JSON.parse(l) as { timestamp: number }).timestamp);
    const rows = (await db.query('pollect', 'SELECT "value" FROM "dq.Dummy"'))[0]!.values.map((r) => Date.parse(r[0] as string));
    const inDb = new Set(rows);
    expect(stamps.filter((t) => !inDb.has(t))).toEqual([]);
    expect(stamps.length).toBeGreaterThan(before);
    expect(pollect.output()).toMatch(/point\(s\) from the disk queue of the last run/);
  }, 60_000);
});

describe('WriterRuntime batching with a disk queue', () => {
  it('a merged write leaves the disk only when taken: each batch it was made of stays until then', async () => {
    const { dir, log } = setup();
    const clock = new ManualClock();
    const backend = new Backend();
    const rt = new WriterRuntime(backend, { bufferSize: 100, log, clock, retryMinMs: 100, retryMaxMs: 100, disk: new DiskQueue(dir, log), batchWaitMs: 1000 });
    rt.restore();
    for (let i = 0; i < 3; i++) rt.add(tick(i));
    await clock.advance(1000);
    // Merged and failed: all three still on disk (a crash now loses none).
    expect(files(dir)).toHaveLength(3);
    backend.down = false;
    await clock.advance(100);
    expect(backend.taken).toHaveLength(1);
    expect(backend.taken[0]!.points.map((p) => p.labels.tick)).toEqual(['0', '0', '1', '1', '2', '2']);
    expect(files(dir)).toEqual([]);
    expect(rt.stats()).toMatchObject({ written: 6, queueLength: 0 });
  });
});

describe('WriterRuntime with a disk queue and a writer that confirms later', () => {
  it('a batch taken but not yet delivered (outcome.delivered) stays on disk until it is', async () => {
    const { dir, log } = setup();
    const clock = new ManualClock();
    let deliver: () => void = () => {};
    const delivered = new Promise<void>((r) => (deliver = r));
    class Later extends Writer {
      constructor() {
        super({ type: 'Later' });
        this.id = 'Later';
      }
      write(): { delivered: Promise<void> } {
        return { delivered };
      }
    }
    const rt = new WriterRuntime(new Later(), { bufferSize: 100, log, clock, disk: new DiskQueue(dir, log) });
    rt.restore();
    rt.add(tick(0));
    await settle();
    expect(rt.stats()).toMatchObject({ written: 2, queueLength: 0 });
    expect(files(dir)).toHaveLength(1);
    deliver();
    await settle();
    expect(files(dir)).toEqual([]);
  });
});
