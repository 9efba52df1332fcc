import { afterEach, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { FileWriter, CSV_HEADER, csvField } from '../../src/writers/file/index.js';
import { DryRunWriter } from '../../src/writers/dryrun/index.js';
import type { Writer } from '../../src/sdk/index.js';
import { WriterRuntime } from '../../src/executors/writer-runtime.js';
import { createLogger } from '../../src/log.js';
import { tempDir } from '../helpers/net.js';
import { build, writerContext } from '../helpers/plugin.js';
import { batch, point } from '../helpers/points.js';
import { ManualClock, waitUntil } from '../helpers/clock.js';

const logged: string[] = [];
const log = createLogger('test', { level: 'debug', write: (l) => logged.push(l) });

function file(params: { path: string; format?: 'jsonl' | 'csv' }, configDir: string, id = 'File'): FileWriter {
  const w = build(FileWriter, params, { configDir, log });
  w.id = id;
  return w;
}

/** The core's runtime around a writer, as the daemon adopts it. */
function runtime(w: Writer, clock?: ManualClock): WriterRuntime {
  return new WriterRuntime(w, { bufferSize: 1000, log, clock });
}

/** A minimal RFC 4180 reader, to check the writer's quoting from the reader's side. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(field);
      field = '';
    } else if (c === '\n') {
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
    } else field += c;
  }
  if (field !== '' || row.length) rows.push([...row, field]);
  return rows;
}

const cleanups: (() => void)[] = [];
afterEach(() => {
  while (cleanups.length) cleanups.pop()!();
  logged.length = 0;
});

function temp(): string {
  const { dir, remove } = tempDir();
  cleanups.push(remove);
  return dir;
}

describe('File writer', () => {
  it('appends one JSON line per point each tick (jsonl is the default format)', async () => {
    const dir = temp();
    const w = file({ path: 'out.jsonl' }, dir);
    expect(w.config.format).toBe('jsonl');
    const rt = runtime(w);
    await w.start(writerContext(w));
    rt.add(batch([point('c.LoadAvg.short', 0.25), point('c.Disk.free', 12, { mount: '/' })]));
    rt.add(batch([point('c.LoadAvg.short', NaN, {}, 1_700_000_001_000)]));
    await rt.stop(Date.now() + 5000);
    const lines = readFileSync(path.join(dir, 'out.jsonl'), 'utf8')
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines).toEqual([
      { name: 'c.LoadAvg.short', labels: {}, value: 0.25, timestamp: 1_700_000_000_000, type: 'gauge' },
      { name: 'c.Disk.free', labels: { mount: '/' }, value: 12, timestamp: 1_700_000_000_000, type: 'gauge' },
      { name: 'c.LoadAvg.short', labels: {}, value: 'NaN', timestamp: 1_700_000_001_000, type: 'gauge' },
    ]);
    expect(rt.stats()).toMatchObject({ written: 3, errors: 0, dropped: 0, queueLength: 0 });
  });

  it('writes CSV with the header once and quotes what needs quoting', async () => {
    const dir = temp();
    const odd = 'a,b "c"\nd';
    const mk = () => file({ path: path.join(dir, 'out.csv'), format: 'csv' }, dir);
    const w = mk();
    await w.start(writerContext(w));
    await w.write(batch([point('c.Http.latency', 1.5, { url: odd }), point('c.Weird, name', 2)]));
    await w.write(batch([point('c.Http.latency', 3, { url: odd }, 1_700_000_010_000)]));
    await w.stop();
    // A restart appends to the same file without a second header.
    const w2 = mk();
    await w2.start(writerContext(w2));
    await w2.write(batch([point('c.After.restart', 4)]));
    await w2.stop();
    const text = readFileSync(path.join(dir, 'out.csv'), 'utf8');
    expect(text.startsWith(CSV_HEADER)).toBe(true);
    expect(text.split(CSV_HEADER).length - 1).toBe(1);
    const rows = parseCsv(text);
    expect(rows[0]).toEqual(['name', 'labels', 'value', 'timestamp', 'type']);
    expect(rows.slice(1)).toEqual([
      ['c.Http.latency', JSON.stringify({ url: odd }), '1.5', '1700000000000', 'gauge'],
      ['c.Weird, name', '{}', '2', '1700000000000', 'gauge'],
      ['c.Http.latency', JSON.stringify({ url: odd }), '3', '1700000010000', 'gauge'],
      ['c.After.restart', '{}', '4', '1700000000000', 'gauge'],
    ]);
    expect(JSON.parse(rows[1]![1]!)).toEqual({ url: odd });
  });

  it('quotes fields as RFC 4180 says', () => {
    expect(csvField('plain')).toBe('plain');
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField('line\nbreak')).toBe('"line\nbreak"');
    expect(csvField(' edge')).toBe('" edge"');
  });

  it('a missing directory is said at start, and each write rejects with a clear message', async () => {
    const dir = temp();
    const target = path.join(dir, 'no', 'such', 'dir', 'out.jsonl');
    const w = file({ path: target }, dir, 'File#1');
    await expect(w.start(writerContext(w))).resolves.toBeUndefined();
    expect(logged.filter((l) => l.includes('ERROR') && l.includes(`writer File#1: cannot append to ${target}`))).toHaveLength(1);
    await expect(w.write(batch([point('c.X', 1), point('c.Y', 2)]))).rejects.toThrow(
      `cannot append to ${target}: directory ${path.dirname(target)} does not exist`,
    );
    expect(existsSync(target)).toBe(false);
  });

  it('a missing directory through the core: counted, logged once, never thrown, dropped at stop', async () => {
    const dir = temp();
    const w = file({ path: 'no/out.jsonl' }, dir, 'File#1');
    const clock = new ManualClock();
    const rt = runtime(w, clock);
    for (let tick = 0; tick < 3; tick++) expect(() => rt.add(batch([point('c.X', tick), point('c.Y', tick)]))).not.toThrow();
    // Each failed attempt is retried after a backoff.
    for (let attempt = 1; attempt <= 3; attempt++) {
      await waitUntil(() => rt.stats().errors === attempt);
      await clock.advance(clock.nextAt! - clock.now());
    }
    await waitUntil(() => rt.stats().errors === 4);
    expect(logged.filter((l) => l.includes('ERROR') && l.includes('does not exist'))).toHaveLength(1);
    const stopped = rt.stop(clock.now() + 1000);
    await clock.advance(1000);
    await stopped;
    expect(rt.stats()).toMatchObject({ written: 0, dropped: 6, queueLength: 0 });
  });

  it('a full disk (/dev/full) is a clear error, logged once, and other writers keep writing', async () => {
    const full = file({ path: '/dev/full', format: 'csv' }, '/', 'File#full');
    await expect(full.write(batch([point('c.Tick', 0)]))).rejects.toThrow('cannot append to /dev/full: no space left on device (disk full)');
    const seen: string[] = [];
    const dry = build(DryRunWriter);
    dry.sink = (t) => void seen.push(t);
    const clock = new ManualClock();
    const writers = [runtime(full, clock), runtime(dry, clock)];
    for (let tick = 0; tick < 3; tick++) {
      // What an executor does: hand the batch to each writer's runtime in turn.
      for (const w of writers) w.add(batch([point('c.Tick', tick)]));
      await waitUntil(() => writers[0]!.stats().errors === tick + 1);
      await clock.advance(10_000);
    }
    expect(seen).toHaveLength(3);
    await waitUntil(() => writers[0]!.stats().errors === 4);
    expect(writers[0]!.stats()).toMatchObject({ written: 0, queueLength: 3 });
    expect(logged.filter((l) => !l.includes('DEBUG') && l.includes('no space left'))).toHaveLength(1);
  });

  it('recovers when the directory appears, and writes what it kept meanwhile', async () => {
    const dir = temp();
    const w = file({ path: 'later/out.jsonl' }, dir, 'File');
    const clock = new ManualClock();
    const rt = runtime(w, clock);
    rt.add(batch([point('c.Kept', 1)]));
    await waitUntil(() => rt.stats().errors === 1);
    expect(rt.stats()).toMatchObject({ queueLength: 1 });
    mkdirSync(path.join(dir, 'later'));
    rt.add(batch([point('c.Also', 2)]));
    // A flush tries again at once rather than after the backoff.
    await rt.flush(clock.now() + 5000);
    const lines = readFileSync(path.join(dir, 'later/out.jsonl'), 'utf8').trimEnd().split('\n');
    expect(lines.map((l) => JSON.parse(l).name)).toEqual(['c.Kept', 'c.Also']);
    expect(rt.stats()).toMatchObject({ written: 2, dropped: 0, queueLength: 0 });
    expect(logged.filter((l) => l.includes('writer File: writing again after 1 failed attempt(s)'))).toHaveLength(1);
  });

  it('a path that is a directory is a clear error', async () => {
    const dir = temp();
    writeFileSync(path.join(dir, 'x'), '');
    const w = file({ path: dir }, dir);
    await w.start(writerContext(w));
    await expect(w.write(batch([point('c.X', 1)]))).rejects.toThrow('it is a directory');
  });
});

describe('File writer rotation', () => {
  const T0 = Date.UTC(2026, 0, 1);

  /** The file and its rotated copies, oldest first, each with its lines (a CSV header left out). */
  function files(dir: string, name: string): { name: string; size: number; lines: string[] }[] {
    const out: { name: string; size: number; lines: string[] }[] = [];
    for (let i = 100; i >= 0; i--) {
      const f = path.join(dir, i === 0 ? name : `${name}.${i}`);
      if (!existsSync(f)) continue;
      const text = readFileSync(f, 'utf8');
      out.push({ name: path.basename(f), size: Buffer.byteLength(text), lines: text.split('\n').filter((l) => l && l !== CSV_HEADER.trimEnd()) });
    }
    return out;
  }

  /** Seconds since T0 of a jsonl or csv line's timestamp. */
  function second(line: string): number {
    const ts = line.startsWith('{') ? (JSON.parse(line) as { timestamp: number }).timestamp : Number(line.split(',').at(-2));
    return (ts - T0) / 1000;
  }

  /** One batch of three points per second, as a 1 s tick would hand them over, from second `from` on. */
  function ticks(rt: WriterRuntime, from: number, count: number): void {
    for (let s = from; s < from + count; s++) {
      const t = T0 + s * 1000;
      rt.add(batch([point('c.LoadAvg.short', s, {}, t), point('c.LoadAvg.mid', s, {}, t), point('c.LoadAvg.long', s, {}, t)]));
    }
  }

  it('by size: no file grows past maxSize, and every line of every tick is in one of the files, in order', async () => {
    const dir = temp();
    const w = build(FileWriter, { path: 'out.jsonl', rotation: { maxSize: 2000, keep: 50 } }, { configDir: dir, log });
    const rt = runtime(w);
    await w.start(writerContext(w));
    ticks(rt, 0, 120);
    await rt.stop(Date.now() + 10_000);
    const all = files(dir, 'out.jsonl');
    expect(all.length).toBeGreaterThan(10);
    for (const f of all) expect(f.size).toBeLessThanOrEqual(2000);
    const seconds = all.flatMap((f) => f.lines.map(second));
    expect(seconds).toEqual(Array.from({ length: 120 }, (_, s) => [s, s, s]).flat());
    expect(rt.stats()).toMatchObject({ written: 360, dropped: 0, errors: 0 });
  });

  it('keeps `keep` rotated files: the newest, whole; older ones are deleted', async () => {
    const dir = temp();
    const w = build(FileWriter, { path: 'out.jsonl', rotation: { maxSize: 1000, keep: 3 } }, { configDir: dir, log });
    const rt = runtime(w);
    await w.start(writerContext(w));
    ticks(rt, 0, 100);
    await rt.stop(Date.now() + 10_000);
    const all = files(dir, 'out.jsonl');
    expect(all.map((f) => f.name)).toEqual(['out.jsonl.3', 'out.jsonl.2', 'out.jsonl.1', 'out.jsonl']);
    const seconds = all.flatMap((f) => f.lines.map(second));
    // What is kept is the newest ticks, each with its three lines, up to the last one.
    const first = seconds[0]!;
    expect(seconds).toEqual(Array.from({ length: 100 - first }, (_, i) => [first + i, first + i, first + i]).flat());
  });

  it('by time: each file holds the samples of one interval (by their timestamps), each CSV file with its header', async () => {
    const dir = temp();
    const w = build(FileWriter, { path: 'out.csv', format: 'csv', rotation: { interval: 10, keep: 10 } }, { configDir: dir, log });
    const rt = runtime(w);
    await w.start(writerContext(w));
    ticks(rt, 5, 60); // seconds 5 to 64: seven intervals
    await rt.stop(Date.now() + 10_000);
    const all = files(dir, 'out.csv');
    expect(all.map((f) => f.name)).toEqual(['out.csv.6', 'out.csv.5', 'out.csv.4', 'out.csv.3', 'out.csv.2', 'out.csv.1', 'out.csv']);
    for (const f of all) {
      expect(readFileSync(path.join(dir, f.name), 'utf8').startsWith(CSV_HEADER)).toBe(true);
      expect(new Set(f.lines.map((l) => Math.floor(second(l) / 10))).size).toBe(1);
    }
    expect(all.flatMap((f) => f.lines).length).toBe(180);
  });

  it('a file left from an earlier interval is rotated at the first write after a restart', async () => {
    const dir = temp();
    const out = path.join(dir, 'out.jsonl');
    writeFileSync(out, '{"old":true}\n');
    const { utimesSync } = await import('node:fs');
    utimesSync(out, new Date(T0), new Date(T0));
    const w = build(FileWriter, { path: 'out.jsonl', rotation: { interval: 3600 } }, { configDir: dir, log });
    await w.start(writerContext(w));
    await w.write(batch([point('c.X', 1, {}, T0 + 3600_000)]));
    expect(readFileSync(`${out}.1`, 'utf8')).toBe('{"old":true}\n');
    expect(readFileSync(out, 'utf8').split('\n').filter(Boolean)).toHaveLength(1);
    expect(w.config.rotation?.keep).toBe(5);
  });

  it('an external logrotate moves the file away: the next write makes a new one, the moved one gets nothing more', async () => {
    const dir = temp();
    const out = path.join(dir, 'out.jsonl');
    const w = build(FileWriter, { path: 'out.jsonl' }, { configDir: dir, log });
    const rt = runtime(w);
    await w.start(writerContext(w));
    ticks(rt, 0, 10);
    await rt.flush(Date.now() + 5000);
    renameSync(out, `${out}.old`);
    ticks(rt, 10, 10);
    await rt.stop(Date.now() + 5000);
    expect(readFileSync(`${out}.old`, 'utf8').split('\n').filter(Boolean).map(second)).toHaveLength(30);
    expect(readFileSync(out, 'utf8').split('\n').filter(Boolean).map(second)[0]).toBe(10);
  });

  it('a rotation that fails is an error of the write: the batch is kept, and written once rotating works again', async () => {
    const dir = temp();
    const out = path.join(dir, 'out.jsonl');
    const w = build(FileWriter, { path: 'out.jsonl', rotation: { maxSize: 200, keep: 1 } }, { configDir: dir, log });
    w.id = 'File';
    const clock = new ManualClock();
    const rt = runtime(w, clock);
    await w.start(writerContext(w));
    ticks(rt, 0, 1);
    await rt.flush(clock.now() + 5000);
    mkdirSync(`${out}.1/in-the-way`, { recursive: true }); // where the rotated file must go
    ticks(rt, 1, 1);
    await waitUntil(() => rt.stats().errors === 1);
    expect(logged.some((l) => l.endsWith(`writer File: cannot rotate ${out}: ${out}.1: it is a directory`))).toBe(true);
    rmSync(`${out}.1`, { recursive: true });
    await rt.flush(clock.now() + 5000);
    expect(files(dir, 'out.jsonl').flatMap((f) => f.lines.map(second))).toEqual([0, 0, 0, 1, 1, 1]);
    expect(rt.stats()).toMatchObject({ written: 6, dropped: 0, queueLength: 0 });
  });

  it("the README's writer examples are configs the schema accepts", () => {
    const readme = readFileSync(path.resolve(__dirname, '../../src/writers/file/README.md'), 'utf8');
    const examples = [...readme.matchAll(/```json\n([\s\S]*?)```/g)].map((m) => JSON.parse(m[1]!) as { type?: string });
    const writers = examples.filter((e) => e.type === 'File');
    expect(writers.length).toBeGreaterThan(0);
    for (const w of writers) expect(() => build(FileWriter, w as never)).not.toThrow();
  });

  it('rejects rotation params that cannot work, naming their path', () => {
    expect(() => build(FileWriter, { path: 'x', rotation: { maxSize: 0 } } as never)).toThrow(/rotation\.maxSize/);
    expect(() => build(FileWriter, { path: 'x', rotation: { keep: 0, interval: 60 } } as never)).toThrow(/rotation\.keep/);
    expect(() => build(FileWriter, { path: 'x', rotation: { every: 60 } } as never)).toThrow(/unknown key "every"/);
  });
});
