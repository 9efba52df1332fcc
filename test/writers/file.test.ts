import { afterEach, describe, expect, it } from 'vitest';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { FileWriter, CSV_HEADER, csvField } from '../../src/writers/file/index.js';
import { DryRunWriter } from '../../src/writers/dryrun/index.js';
import type { Batch, Point, WriterContext } from '../../src/sdk/index.js';
import { createLogger } from '../../src/log.js';
import { tempDir } from '../helpers/net.js';

const logged: string[] = [];
const ctx = (configDir: string): WriterContext => ({
  log: createLogger('test', { level: 'debug', write: (l) => logged.push(l) }),
  configDir,
  allWriterStats: () => [],
});

function point(name: string, value: number, labels: Record<string, string> = {}, ts = 1_700_000_000_000): Point {
  return { name, value, labels, type: 'gauge', timestamp: ts, source: 'c.Dummy' };
}

function batch(points: Point[]): Batch {
  return { collection: 'c', timestamp: points[0]?.timestamp ?? 0, points, sources: [] };
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

describe('File writer', () => {
  it('appends one JSON line per point each tick', async () => {
    const { dir, remove } = tempDir();
    cleanups.push(remove);
    const w = new FileWriter({ type: 'File', path: 'out.jsonl', format: 'jsonl' });
    w.id = 'File#0';
    await w.start(ctx(dir));
    w.write(batch([point('c.LoadAvg.short', 0.25), point('c.Disk.free', 12, { mount: '/' })]));
    w.write(batch([point('c.LoadAvg.short', NaN, {}, 1_700_000_001_000)]));
    await w.flush();
    const lines = readFileSync(path.join(dir, 'out.jsonl'), 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l));
    expect(lines).toEqual([
      { name: 'c.LoadAvg.short', labels: {}, value: 0.25, timestamp: 1_700_000_000_000, type: 'gauge' },
      { name: 'c.Disk.free', labels: { mount: '/' }, value: 12, timestamp: 1_700_000_000_000, type: 'gauge' },
      { name: 'c.LoadAvg.short', labels: {}, value: 'NaN', timestamp: 1_700_000_001_000, type: 'gauge' },
    ]);
    expect(w.stats()).toMatchObject({ written: 3, errors: 0, dropped: 0, queueLength: 0 });
  });

  it('writes CSV with the header once and quotes what needs quoting', async () => {
    const { dir, remove } = tempDir();
    cleanups.push(remove);
    const odd = 'a,b "c"\nd';
    const mk = () => new FileWriter({ type: 'File', path: path.join(dir, 'out.csv'), format: 'csv' });
    const w = mk();
    await w.start(ctx(dir));
    w.write(batch([point('c.Http.latency', 1.5, { url: odd }), point('c.Weird, name', 2)]));
    w.write(batch([point('c.Http.latency', 3, { url: odd }, 1_700_000_010_000)]));
    await w.stop();
    // A restart appends to the same file without a second header.
    const w2 = mk();
    await w2.start(ctx(dir));
    w2.write(batch([point('c.After.restart', 4)]));
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

  it('a missing directory is a clear, counted error and never a throw', async () => {
    const { dir, remove } = tempDir();
    cleanups.push(remove);
    const file = path.join(dir, 'no', 'such', 'dir', 'out.jsonl');
    const w = new FileWriter({ type: 'File', path: file });
    w.id = 'File#1';
    await expect(w.start(ctx(dir))).resolves.toBeUndefined();
    expect(() => w.write(batch([point('c.X', 1), point('c.Y', 2)]))).not.toThrow();
    await expect(w.flush()).resolves.toBeUndefined();
    expect(w.stats()).toMatchObject({ written: 0, dropped: 2 });
    expect(w.stats().errors).toBeGreaterThanOrEqual(2);
    expect(w.error).toContain('File writer File#1');
    expect(w.error).toContain(`directory ${path.dirname(file)} does not exist`);
    expect(logged.some((l) => l.includes('ERROR') && l.includes('does not exist'))).toBe(true);
    expect(existsSync(file)).toBe(false);
  });

  it('a full disk (/dev/full) is a clear, counted error, and other writers keep writing', async () => {
    const full = new FileWriter({ type: 'File', path: '/dev/full', format: 'csv' });
    full.id = 'File#full';
    const seen: string[] = [];
    const dry = new DryRunWriter({ type: 'DryRun' });
    dry.sink = (t) => void seen.push(t);
    await full.start(ctx('/'));
    for (let tick = 0; tick < 3; tick++) {
      const b = batch([point('c.Tick', tick)]);
      // What an executor does: hand the batch to each writer in turn.
      for (const w of [full, dry]) expect(() => w.write(b)).not.toThrow();
    }
    await full.flush();
    expect(seen).toHaveLength(3);
    expect(full.stats()).toMatchObject({ written: 0, dropped: 3, errors: 3 });
    expect(full.error).toBe('File writer File#full: cannot append to /dev/full: no space left on device (disk full)');
    // Logged once, not once per tick.
    expect(logged.filter((l) => l.includes('no space left')).length).toBe(1);
  });

  it('recovers when the directory appears', async () => {
    const { dir, remove } = tempDir();
    cleanups.push(remove);
    const w = new FileWriter({ type: 'File', path: 'later/out.jsonl' });
    await w.start(ctx(dir));
    w.write(batch([point('c.Lost', 1)]));
    await w.flush();
    const { mkdirSync } = await import('node:fs');
    mkdirSync(path.join(dir, 'later'));
    w.write(batch([point('c.Kept', 2)]));
    await w.flush();
    const lines = readFileSync(path.join(dir, 'later/out.jsonl'), 'utf8').trimEnd().split('\n');
    expect(lines.map((l) => JSON.parse(l).name)).toEqual(['c.Kept']);
    expect(w.stats()).toMatchObject({ written: 1, dropped: 1 });
    expect(w.error).toBe('');
  });

  it('a path that is a directory is a clear error', async () => {
    const { dir, remove } = tempDir();
    cleanups.push(remove);
    writeFileSync(path.join(dir, 'x'), '');
    const w = new FileWriter({ type: 'File', path: dir });
    await w.start(ctx(dir));
    w.write(batch([point('c.X', 1)]));
    await w.flush();
    expect(w.error).toContain('it is a directory');
  });
});
