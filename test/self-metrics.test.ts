// pollect's own metrics reach every writer, not only Prometheus: a File and the DryRun writer get
// them too. They are on by default, off with `selfMetrics: false`, and left out of
// `--dry-run --once` unless --self-metrics asks for them.
import { afterEach, describe, expect, it } from 'vitest';
import { closeSync, openSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { tempDir } from './helpers/net.js';
import { cli } from './helpers/cli.js';

interface Line {
  name: string;
  labels: Record<string, string>;
  value: number;
  type: string;
}

const cleanups: (() => void)[] = [];
afterEach(() => {
  while (cleanups.length) cleanups.pop()!();
});

/** Writes `cfg` (with a File writer to out.jsonl added unless it has writers) and returns its paths. */
function setup(cfg: Record<string, unknown>): { file: string; out: string } {
  const t = tempDir();
  cleanups.push(t.remove);
  const out = path.join(t.dir, 'out.jsonl');
  const file = path.join(t.dir, 'c.json');
  writeFileSync(file, JSON.stringify({ writer: { type: 'File', path: 'out.jsonl' }, ...cfg }));
  return { file, out };
}

const SOURCES = [
  { type: 'Dummy', value: 5 },
  { type: 'Dummy', name: 'bad', error: 'backend down' },
];

function readLines(out: string): Line[] {
  return readFileSync(out, 'utf8')
    .trimEnd()
    .split('\n')
    .map((l) => JSON.parse(l) as Line);
}

const SELF = /^(pollect\.(source|writer|ticks)\.|process\.|nodejs\.)/;

describe('self-metrics', () => {
  it('a File writer receives them, reporting on the tick that just ran', async () => {
    const { file, out } = setup({ executors: [{ sources: SOURCES }] });
    const r = await cli(['-c', file, '--once']);
    expect(r.code).toBe(1);
    const lines = readLines(out);
    const find = (name: string, labels: Record<string, string>) =>
      lines.filter((l) => l.name === name && Object.entries(labels).every(([k, v]) => l.labels[k] === v));
    expect(find('pollect.source.success', { source: 'pollect.Dummy' })).toMatchObject([{ value: 1, labels: { collection: 'pollect', type: 'Dummy' } }]);
    expect(find('pollect.source.success', { source: 'pollect.Dummy.bad' })).toMatchObject([{ value: 0 }]);
    expect(find('pollect.source.errors_total', { source: 'pollect.Dummy.bad' })).toMatchObject([{ value: 1, type: 'counter' }]);
    expect(find('pollect.source.duration_seconds', { source: 'pollect.Dummy' })).toHaveLength(1);
    expect(find('pollect.writer.written_total', { writer: 'File' })).toHaveLength(1);
    expect(find('pollect.writer.dropped_total', { writer: 'File' })).toMatchObject([{ value: 0 }]);
    for (const name of ['process.cpu.seconds_total', 'process.resident_memory.bytes', 'nodejs.heap_size.used_bytes', 'nodejs.eventloop.lag_seconds']) {
      expect(find(name, {})).toHaveLength(1);
    }
    // And the sources' own points, of course.
    expect(find('pollect.Dummy', {})).toMatchObject([{ value: 5 }]);
  });

  it('the DryRun writer prints them with --dry-run --self-metrics, and also when configured', async () => {
    const { file } = setup({ writer: { type: 'DryRun' }, executors: [{ sources: SOURCES }] });
    const dry = await cli(['-c', file, '--once', '--dry-run', '--self-metrics']);
    expect(dry.stdout).toMatch(/^pollect\.source\.success\{collection="pollect",source="pollect\.Dummy\.bad",type="Dummy"\} 0 \d{13}$/m);
    expect(dry.stdout).toMatch(/^pollect\.writer\.written_total\{writer="DryRun"\} \d+ \d{13}$/m);
    expect(dry.stdout).toMatch(/^process\.cpu\.seconds_total [\d.e-]+ \d{13}$/m);
    const configured = await cli(['-c', file, '--once']);
    expect(configured.stdout).toMatch(/^pollect\.source\.success\{collection="pollect",source="pollect\.Dummy",type="Dummy"\} 1 \d{13}$/m);
  });

  it('--dry-run --once leaves them out unless asked for', async () => {
    const { file } = setup({ executors: [{ sources: SOURCES }] });
    const r = await cli(['-c', file, '--once', '--dry-run']);
    const names = r.stdout
      .trim()
      .split('\n')
      .map((l) => l.split(/[{ ]/)[0]);
    expect(names).toEqual(['pollect.Dummy']);
  });

  it('`selfMetrics: false` turns them off', async () => {
    const { file, out } = setup({ selfMetrics: false, executors: [{ sources: SOURCES }] });
    expect((await cli(['-c', file, '--once'])).code).toBe(1);
    const names = readLines(out).map((l) => l.name);
    expect(names).toEqual(['pollect.Dummy']);
    expect(names.some((n) => SELF.test(n))).toBe(false);
  });
});

describe('process.open.fds', () => {
  it('counts the descriptors open, one more for each opened', async () => {
    const { SelfMetricsSource } = await import('../src/executors/self-metrics.js');
    const src = new SelfMetricsSource({ sources: () => [], writers: () => [], lagMs: () => 0 });
    const fds = () => src.probe().find((s) => s.name === 'process.open.fds')?.value;
    const before = fds();
    expect(before).toBe(readdirSync('/proc/self/fd').length - 1);
    const opened = [openSync('/proc/loadavg', 'r'), openSync('/proc/loadavg', 'r'), openSync('/proc/loadavg', 'r')];
    try {
      expect(fds()).toBe(before! + 3);
    } finally {
      for (const fd of opened) closeSync(fd);
    }
    expect(fds()).toBe(before);
  });
});
