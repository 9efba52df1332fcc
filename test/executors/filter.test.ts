// Filters at executor and writer level: include/exclude by name, keep/drop/rename labels, with
// globs; checked by the config schema (--check) and run by the built daemon.
import { afterEach, describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { compileFilter, globRegex } from '../../src/executors/filter.js';
import { point } from '../helpers/points.js';
import { tempDir } from '../helpers/net.js';
import { cli } from '../helpers/cli.js';

const cleanups: (() => void)[] = [];
afterEach(() => {
  while (cleanups.length) cleanups.pop()!();
});

describe('filter', () => {
  it('globs: * any run of characters (dots included), ? one character, the rest literal', () => {
    expect(globRegex('pollect.*').test('pollect.DiskUsage.free')).toBe(true);
    expect(globRegex('*.free').test('pollect.DiskUsage.free')).toBe(true);
    expect(globRegex('pollect.Load?vg').test('pollect.LoadAvg')).toBe(true);
    expect(globRegex('pollect.LoadAvg').test('pollectXLoadAvg')).toBe(false);
    expect(globRegex('a+b(c)[d]').test('a+b(c)[d]')).toBe(true);
  });

  it('include and exclude by dotted name; keep, drop and rename labels', () => {
    const f = compileFilter({ include: ['c.Disk*', 'c.Load*'], exclude: ['*.debug'], dropLabels: ['pid*'], renameLabels: { hostname: 'host' } });
    const labels = { hostname: 'web01', host: 'old', pid: '1', pidfile: 'x', disk: '/' };
    const out = f([point('c.DiskUsage.free', 1, labels), point('c.DiskUsage.debug', 2, labels), point('c.Http.shop', 3, labels), point('c.LoadAvg', 4)]);
    expect(out.map((p) => [p.name.id, p.labels])).toEqual([
      ['c.DiskUsage.free', { host: 'web01', disk: '/' }],
      ['c.LoadAvg', {}],
    ]);
    const keep = compileFilter({ keepLabels: ['disk', 'host*'] })([point('c.T', 1, labels)]);
    expect(keep[0]!.labels).toEqual({ hostname: 'web01', host: 'old', disk: '/' });
  });

  it('the same labels object gives the same filtered object tick after tick (writers cache by it); points it does not change are kept as they are', () => {
    const f = compileFilter({ dropLabels: ['x'] });
    const labels = { x: '1', y: '2' };
    const a = f([point('c.T', 1, labels)])[0]!;
    const b = f([point('c.T', 2, labels)])[0]!;
    expect(a.labels).toBe(b.labels);
    const p = point('c.T', 1, labels);
    expect(compileFilter({ exclude: ['nothing'] })([p])[0]).toBe(p);
  });
});

describe('filters in a config', () => {
  function setup(config: Record<string, unknown>) {
    const t = tempDir();
    cleanups.push(t.remove);
    const file = path.join(t.dir, 'c.json');
    writeFileSync(file, JSON.stringify(config));
    const read = (name: string) =>
      readFileSync(path.join(t.dir, name), 'utf8')
        .trimEnd()
        .split('\n')
        .map((l) => JSON.parse(l) as { name: string; labels: Record<string, string> });
    return { file, read };
  }

  it('an executor filter applies before every writer, a writer filter to that writer only, self-metrics included', async () => {
    const { file, read } = setup({
      writers: [
        { type: 'File', path: 'all.jsonl' },
        { type: 'File', path: 'some.jsonl', filter: { exclude: ['pollect.*', 'process.*', 'nodejs.*'], renameLabels: { env: 'environment' } } },
      ],
      executors: [
        {
          collection: 'a',
          filter: { include: ['a.Dummy.keep*'], dropLabels: ['secret'] },
          sources: [
            { type: 'Dummy', name: 'keep', value: 1, labels: { env: 'prod', secret: 's' } },
            { type: 'Dummy', name: 'skip', value: 2 },
          ],
        },
      ],
    });
    const r = await cli(['-c', file, '--once']);
    expect(r.code).toBe(0);
    const all = read('all.jsonl');
    expect(all.filter((l) => l.name.startsWith('a.'))).toEqual([expect.objectContaining({ name: 'a.Dummy.keep', labels: { env: 'prod' } })]);
    expect(all.some((l) => l.name === 'pollect.source.success')).toBe(true);
    expect(read('some.jsonl')).toEqual([expect.objectContaining({ name: 'a.Dummy.keep', labels: { environment: 'prod' } })]);
  });

  it('a bad filter is a config error with its path (--check)', async () => {
    const { file } = setup({
      writer: { type: 'File', path: 'x.jsonl', filter: { includes: ['x'] } },
      executors: [{ filter: { include: [] }, sources: [{ type: 'Dummy' }] }],
    });
    const r = await cli(['-c', file, '--check']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/executors\[0\]\.filter\.include: /);
    expect(r.stderr).toMatch(/writer\.filter: unknown key "includes".*include/);
  });
});
