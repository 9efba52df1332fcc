// `naming: "prometheus"` never changes a value but by the unit its sample declares: a property test
// over generated names and units, the examples of issue 11 through the real sources and promtool,
// every built-in host source's units, histograms from Exec served as histograms (a real
// Prometheus runs histogram_quantile on them), and a real daemon serving the host sources in both
// namings: raw counters in `prometheus`, the Python pollect's rates in `pollect`.
import { afterAll, describe, expect, it } from 'vitest';
import http from 'node:http';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { PrometheusWriter } from '../../src/writers/prometheus/index.js';
import { unitConversion } from '../../src/writers/prometheus/units.js';
import type { Batch, Labels, MetricType, Point, Sample, Source, SourceConfig, SourceStatus } from '../../src/sdk/index.js';
import { sourceSeriesName, toPoints, toSamples } from '../../src/executors/samples.js';
import { HttpSource } from '../../src/sources/http/index.js';
import { ProcessSource } from '../../src/sources/process/index.js';
import { LoadAvgSource } from '../../src/sources/loadavg/index.js';
import { MemoryUsageSource } from '../../src/sources/memoryusage/index.js';
import { DiskUsageSource } from '../../src/sources/diskusage/index.js';
import { CpuSource } from '../../src/sources/cpu/index.js';
import { InterfaceSource } from '../../src/sources/interface/index.js';
import { IOSource } from '../../src/sources/io/index.js';
import { HostSource } from '../../src/sources/host/index.js';
import { DummySource } from '../../src/sources/dummy/index.js';
import { ExecSource } from '../../src/sources/exec/index.js';
import { readingSamples, TEGRASTATS_METRICS } from '../../src/sources/tegrastats/index.js';
import { parseTegrastatsLine } from '../../src/sources/tegrastats/parse.js';
import { fixtureDir } from '../helpers/fixtures.js';
import { build, configFor, typeName } from '../helpers/plugin.js';
import { quietLog } from '../helpers/probe.js';
import { freePort, spawnDaemon, tempDir, waitForPort, type Daemon } from '../helpers/net.js';
import { needs } from '../helpers/servers.js';
import { buildConfig } from '../../src/config/load.js';
import { Daemon as PollectDaemon } from '../../src/executors/daemon.js';

const T0 = 1_700_000_000_000;

function writer(naming: 'pollect' | 'prometheus'): PrometheusWriter {
  const w = new PrometheusWriter(configFor(PrometheusWriter, { port: 0, host: '127.0.0.1', naming }), {
    configDir: process.cwd(),
    tickTime: 10,
    log: quietLog,
  });
  w.id = `Prometheus#${naming}`;
  return w;
}

interface Line {
  name: string;
  labels: Labels;
  value: number;
}

/** The sample lines of a text exposition. */
function lines(text: string): Line[] {
  const out: Line[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) throw new Error(`bad line ${JSON.stringify(line)}`);
    const labels: Labels = {};
    for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g))
      labels[l[1]!] = l[2]!.replace(/\\n/g, '\n').replace(/\\"/g, '"').replace(/\\\\/g, '\\');
    const v = m[3]!;
    out.push({ name: m[1]!, labels, value: v === '+Inf' ? Infinity : v === '-Inf' ? -Infinity : Number(v) });
  }
  return out;
}

function status(id: string, collection: string, type: string): SourceStatus {
  return {
    id,
    collection,
    type,
    state: 'probed',
    success: true,
    durationSeconds: 0.01,
    errorsTotal: 0,
    skippedTotal: 0,
    rejectedTotal: 0,
    consecutiveFailures: 0,
  };
}

function promtool(text: string): { code: number; out: string } {
  const r = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8', timeout: 20_000 });
  return { code: r.status ?? -1, out: (r.stdout ?? '') + (r.stderr ?? '') };
}

/** A small seeded generator (mulberry32): the same cases on every run. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// The factor each declared unit stands for, written out here independently of units.ts.
const UNITS: [unit: string | undefined, convert: (v: number) => number][] = [
  [undefined, (v) => v],
  ['seconds', (v) => v],
  ['ms', (v) => v / 1000],
  ['milliseconds', (v) => v / 1000],
  ['us', (v) => v / 1e6],
  ['h', (v) => v * 3600],
  ['days', (v) => v * 86_400],
  ['bytes', (v) => v],
  ['KiB', (v) => v * 1024],
  ['kB', (v) => v * 1000],
  ['MiB', (v) => v * 1024 * 1024],
  ['MHz', (v) => v * 1e6],
  ['mW', (v) => v / 1000],
  ['mV', (v) => v / 1000],
  ['°F', (v) => ((v - 32) * 5) / 9],
  ['celsius', (v) => v],
  ['percent', (v) => v],
  ['ratio', (v) => v],
  ['bytes/s', (v) => v],
  ['KiB/s', (v) => v * 1024],
  ['packets/s', (v) => v],
  ['/s', (v) => v],
  ['rpm', (v) => v],
  ['requests', (v) => v],
  ['nanocores', (v) => v],
];

// Words that look like units, type words, separators and odd characters: what names are made of.
const WORDS = [
  'h',
  'd',
  'kb',
  'mb',
  'us',
  'ms',
  's',
  'sec',
  'm',
  'b',
  'bytes',
  'seconds',
  'per',
  'total',
  'count',
  'bucket',
  'MHz',
  'mW',
  'OSv',
  'k8s',
  'us-east',
  'temp',
  'freq',
  'rx',
  'Load',
  'HTTP',
  'fahrenheit',
  'days',
  'gauge',
  'counter',
  '9',
  'é',
  'le',
];
const SEPARATORS = ['', '_', '-', '.', ' ', 'X', '!'];

function word(rnd: () => number): string {
  const n = 1 + Math.floor(rnd() * 3);
  let s = '';
  for (let i = 0; i < n; i++) {
    if (i > 0) s += SEPARATORS[Math.floor(rnd() * SEPARATORS.length)];
    s += WORDS[Math.floor(rnd() * WORDS.length)];
  }
  return s;
}

const pick = <T>(rnd: () => number, list: readonly T[]): T => list[Math.floor(rnd() * list.length)]!;

describe('prometheus naming: values', () => {
  it('for any collection, type, name and value name, the served value is the pollect value converted by the declared unit alone', () => {
    const rnd = random(11);
    const VALUES = [0, 1, 200, 1024, 0.25, -3.5, 1e9, 1234567.891, 3600];
    let checked = 0;
    for (let round = 0; round < 40; round++) {
      const plain = writer('pollect');
      const prom = writer('prometheus');
      const points: Point[] = [];
      const expected = new Map<string, { pollect: number; convert: (v: number) => number; unit?: string; id: string }>();
      for (let i = 0; i < 50; i++) {
        const collection = word(rnd);
        const source = word(rnd);
        const instance = rnd() < 0.6 ? word(rnd) : undefined;
        const value = rnd() < 0.8 ? word(rnd) : undefined;
        const [unit, convert] = pick(rnd, UNITS);
        const type: MetricType = rnd() < 0.3 ? 'counter' : 'gauge';
        const id = [collection, source, instance, value].filter(Boolean).join('.');
        const key = `p${round}_${i}`;
        const v = pick(rnd, VALUES);
        points.push({
          name: { collection, source, instance, value, id },
          value: v,
          labels: { k: key },
          type,
          unit,
          timestamp: T0,
          source: `src${i}`,
        });
        expected.set(key, { pollect: v, convert, unit, id });
      }
      const b: Batch = { collection: 'x', timestamp: T0, points, sources: [] };
      plain.write(b);
      prom.write(b);
      const byKey = (text: string): Map<string, number> => new Map(lines(text).flatMap((l) => (l.labels.k ? [[l.labels.k, l.value] as const] : [])));
      const servedPlain = byKey(plain.render());
      const servedProm = byKey(prom.render());
      for (const [key, e] of expected) {
        const p = servedPlain.get(key);
        const q = servedProm.get(key);
        expect(p, `${e.id} in pollect naming`).toBe(e.pollect);
        const want = e.convert(e.pollect);
        expect(q, `${e.id} [${e.unit}] in prometheus naming`).toBeDefined();
        expect(Math.abs(q! - want) <= 1e-12 * Math.max(1, Math.abs(want)), `${e.id} [${e.unit}]: ${q} served, ${want} expected`).toBe(true);
        checked++;
      }
    }
    expect(checked).toBe(2000);
  });
});

/** Probes real sources as an executor would (twice, `gapMs` apart, for rates) and feeds both writers. */
async function serve(sources: { collection: string; source: Source<SourceConfig> }[], writers: PrometheusWriter[], gapMs = 300): Promise<void> {
  const ctx = {
    signal: AbortSignal.timeout(10_000),
    timeoutMs: 10_000,
    tickTime: 10,
    log: quietLog,
    reportProblem: () => {},
    notify: () => {},
    wants: () => true,
  };
  const primed = sources.filter((s) => s.source.reportsChanges);
  if (primed.length) {
    await Promise.all(primed.map((s) => s.source.probe(ctx)));
    await new Promise((r) => setTimeout(r, gapMs));
  }
  const points: Point[] = [];
  const statuses: SourceStatus[] = [];
  for (const { collection, source } of sources) {
    const type = typeName(source.constructor);
    const base = sourceSeriesName(collection, type, source.config.name);
    const samples: Sample[] = toSamples(await source.probe(ctx));
    toPoints(samples, { base, staticLabels: source.config.labels, timestamp: T0, source: base.id }, points);
    statuses.push(status(base.id, collection, type));
  }
  const b: Batch = { collection: 'x', timestamp: T0, points, sources: statuses };
  for (const w of writers) w.write(b);
}

describe('prometheus naming: the examples of issue 11', () => {
  const children: ChildProcess[] = [];
  let server: http.Server | undefined;
  afterAll(() => {
    for (const c of children) c.kill();
    server?.close();
  });

  it.skipIf(!needs('promtool'))('Http named us-east, Process named kb, collections h and d: values served unchanged, promtool parses them', async () => {
    server = http.createServer((_req, res) => res.end('ok'));
    await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/`;
    const child = spawn('sleep', ['31.41593'], { stdio: 'ignore' });
    children.push(child);
    await new Promise((r) => child.once('spawn', r));
    const plain = writer('pollect');
    const prom = writer('prometheus');
    await serve(
      [
        { collection: 'web', source: build(HttpSource, { name: 'us-east', url }) },
        { collection: 'pollect', source: build(ProcessSource, { name: 'kb', procRegex: '^sleep 31\\.41593$' }) },
        { collection: 'h', source: build(DummySource, { value: 5 }) },
        { collection: 'd', source: build(DummySource, { name: 'x', value: { process_count: 1 } }) },
        { collection: 'h', source: build(LoadAvgSource) },
        { collection: 'd', source: build(MemoryUsageSource) },
      ],
      [plain, prom],
    );
    const a = lines(plain.render());
    const b = lines(prom.render());
    const get = (ls: Line[], name: string, labels: Labels = {}): number => {
      const hits = ls.filter((l) => l.name === name && Object.entries(labels).every(([k, v]) => l.labels[k] === v));
      if (hits.length !== 1) throw new Error(`${hits.length} series ${name} ${JSON.stringify(labels)} in:\n${ls.map((l) => l.name).join('\n')}`);
      return hits[0]!.value;
    };
    // Http us-east: the status code is 200, not 0.0002; the response time was declared in ms.
    expect(get(a, 'web_Http_us_east_status_code')).toBe(200);
    expect(get(b, 'web_http_us_east_status_code')).toBe(200);
    expect(get(b, 'web_http_us_east_success')).toBe(1);
    expect(get(b, 'web_http_us_east_seconds')).toBeCloseTo(get(a, 'web_Http_us_east') / 1000, 12);
    // Process kb: one process, and its memory in bytes as the source measured it.
    expect(get(a, 'pollect_Process_kb_process_count', { pidx: 'all' })).toBe(1);
    expect(get(b, 'pollect_process_kb_process_count_value', { pidx: 'all' })).toBe(1);
    expect(get(b, 'pollect_process_kb_resident_memory_bytes', { pidx: '0' })).toBe(get(a, 'pollect_Process_kb_resident_memory', { pidx: '0' }));
    expect(get(b, 'pollect_process_kb_virtual_memory_bytes', { pidx: '0' })).toBe(get(a, 'pollect_Process_kb_virtual_memory', { pidx: '0' }));
    expect(get(b, 'pollect_process_kb_load_percent', { pidx: '0' })).toBe(get(a, 'pollect_Process_kb_load_percent', { pidx: '0' }));
    // Collections h and d: nothing multiplied by 3600 or 86400.
    expect(get(b, 'h_dummy')).toBe(5);
    expect(get(b, 'd_dummy_x_process_count_value')).toBe(1);
    for (const time of ['short', 'mid', 'long']) expect(get(b, 'h_load_avg', { time })).toBe(get(a, 'h_LoadAvg', { time }));
    for (const type of ['total', 'free', 'used']) expect(get(b, 'd_memory_usage_bytes', { type })).toBe(get(a, 'd_MemoryUsage', { type }));
    // promtool parses it; all it says is that `us` and `kb` in the names chosen look like units.
    const r = promtool(prom.render());
    expect(r.out).not.toMatch(/error|parsing/i);
    const findings = r.out.trim().split('\n');
    expect(findings.length).toBeGreaterThan(0);
    for (const f of findings) expect(f).toMatch(/^(web_http_us_east|pollect_process_kb)_\w+ metric names should not contain abbreviated units$/);
    expect(r.code).toBe(3);
  });
});

describe('declared units', () => {
  it.each([
    // declared, served as, value 10 becomes
    ['seconds', 'seconds', 10],
    ['ms', 'seconds', 0.01],
    ['µs', 'seconds', 1e-5],
    ['min', 'seconds', 600],
    ['days', 'seconds', 864_000],
    ['B', 'bytes', 10],
    ['KiB', 'bytes', 10_240],
    ['kB', 'bytes', 10_000],
    ['KB', 'bytes', 10_240],
    ['GiB', 'bytes', 10 * 1024 ** 3],
    ['Mbit', 'bytes', 1_250_000],
    ['MHz', 'hertz', 1e7],
    ['mHz', 'hertz', 0.01],
    ['mW', 'watts', 0.01],
    ['kW', 'watts', 10_000],
    ['mV', 'volts', 0.01],
    ['mA', 'amperes', 0.01],
    ['°C', 'celsius', 10],
    ['°F', 'celsius', (-22 * 5) / 9],
    ['K', 'celsius', -263.15],
    ['%', 'percent', 10],
    ['ratio', 'ratio', 10],
    ['bytes/s', 'bytes_per_second', 10],
    ['KiB/s', 'bytes_per_second', 10_240],
    ['MB/min', 'bytes_per_second', 1e7 / 60],
    ['packets per second', 'packets_per_second', 10],
    ['/s', 'per_second', 10],
    ['GiB_hours', 'bytes_seconds', 10 * 1024 ** 3 * 3600],
    ['rpm', 'rpm', 10],
    ['nanocores', 'nanocores', 10],
    ['b', 'b', 10],
    ['kb', 'kb', 10],
  ] as const)('%s: served as %s, 10 -> %d', (unit, name, value) => {
    const c = unitConversion(unit);
    expect(c.tokens.join('_')).toBe(name);
    expect(10 * c.mul + c.add).toBeCloseTo(value, 9);
  });
});

describe('prometheus naming: non-base units', () => {
  it.skipIf(!needs('promtool'))('Tegrastats MHz and mW become hertz and watts with the value, never freqm_hz; OSv stays osv', () => {
    const line = readFileSync(fixtureDir('tegrastats', 'xavier-nx.txt'), 'utf8').split('\n')[0]!;
    const samples = readingSamples(parseTegrastatsLine(line), new Set(TEGRASTATS_METRICS));
    const points = toPoints(samples, { base: sourceSeriesName('jetson', 'Tegrastats'), staticLabels: undefined, timestamp: T0, source: 'jetson.Tegrastats' });
    toPoints(
      [{ name: 'memory.free', value: 1000, unit: 'bytes' }],
      { base: sourceSeriesName('vm', 'OSv', 'lab'), staticLabels: undefined, timestamp: T0, source: 'vm.OSv' },
      points,
    );
    const prom = writer('prometheus');
    prom.write({ collection: 'x', timestamp: T0, points, sources: [] });
    const body = prom.render();
    const served = lines(body);
    const freq = samples.find((x) => x.name === 'cpu.freq')!;
    const power = samples.find((x) => x.name === 'power.current')!;
    expect(freq.unit).toBe('MHz');
    expect(power.unit).toBe('mW');
    const get = (name: string, labels: Labels): number | undefined =>
      served.find((l) => l.name === name && Object.entries(labels).every(([k, v]) => l.labels[k] === v))?.value;
    expect(get('jetson_tegrastats_cpu_freq_hertz', freq.labels!)).toBe(freq.value * 1e6);
    expect(get('jetson_tegrastats_power_current_watts', power.labels!)).toBeCloseTo(power.value / 1000, 12);
    expect(get('vm_osv_lab_memory_free_bytes', {})).toBe(1000);
    expect(body).not.toMatch(/freqm_hz|currentm_w|o_sv|_m_hz|_m_w/);
    const r = promtool(body);
    expect(r.out).toBe('');
    expect(r.code).toBe(0);
  });
});

describe('prometheus naming: the built-in host sources declare their units', () => {
  it.skipIf(!needs('promtool'))('every family ends in its unit, rates in _per_second, and promtool has nothing to say', async () => {
    const prom = writer('prometheus');
    const plain = writer('pollect');
    await serve(
      [
        { collection: 'pollect', source: build(LoadAvgSource) },
        { collection: 'pollect', source: build(MemoryUsageSource) },
        { collection: 'pollect', source: build(DiskUsageSource, { disks: ['/'] }) },
        { collection: 'pollect', source: build(CpuSource) },
        { collection: 'pollect', source: build(InterfaceSource, { includeTotal: true }) },
        { collection: 'pollect', source: build(IOSource) },
        { collection: 'pollect', source: build(ProcessSource, { procRegex: 'vitest|node' }) },
        { collection: 'pollect', source: build(HostSource, { metrics: ['cpu', 'fs', 'la', 'ram', 'network'] }) },
      ],
      [prom, plain],
    );
    const body = prom.render();
    const r = promtool(body);
    expect(r.out).toBe('');
    expect(r.code).toBe(0);
    const names = new Set(lines(body).map((l) => l.name));
    for (const n of [
      'pollect_memory_usage_bytes',
      'pollect_disk_usage_bytes',
      'pollect_cpu_percent',
      'pollect_interface_recv_bytes_per_second',
      'pollect_interface_sent_packets_per_second',
      'pollect_process_resident_memory_bytes',
      'pollect_process_load_percent',
      'pollect_host_cpu_percent',
      'pollect_host_memory_used_bytes',
    ]) {
      expect(names, n).toContain(n);
    }
    // No rate is called seconds any more.
    expect([...names].filter((n) => /_sec(onds)?$/.test(n) && !/per_second$/.test(n))).toEqual([]);
    // Rates of the same figures, same values: the pollect names still say _sec.
    const a = lines(plain.render());
    const lo = (ls: Line[], name: string): number | undefined => ls.find((l) => l.name === name && l.labels.interface === 'lo')?.value;
    expect(lo(lines(body), 'pollect_interface_recv_bytes_per_second')).toBe(lo(a, 'pollect_Interface_recv_bytes_sec'));
    const io = lines(body).filter((l) => l.name === 'pollect_io_read_bytes_per_second');
    if (io.length) expect(names).toContain('pollect_io_reads_per_second');
  });
});

/** A prom-client style exposition with a histogram and a summary, as a textfile script prints it. */
const EXPOSITION = [
  '# HELP request_seconds Request time',
  '# TYPE request_seconds histogram',
  'request_seconds_bucket{le="0.1",route="/api"} 1',
  'request_seconds_bucket{le="0.5",route="/api"} 2',
  'request_seconds_bucket{le="1",route="/api"} 3',
  'request_seconds_bucket{le="+Inf",route="/api"} 4',
  'request_seconds_sum{route="/api"} 3.95',
  'request_seconds_count{route="/api"} 4',
  'request_seconds_bucket{le="0.1",route="/b"} 0',
  'request_seconds_bucket{le="0.5",route="/b"} 4',
  'request_seconds_bucket{le="1",route="/b"} 4',
  'request_seconds_bucket{le="+Inf",route="/b"} 4',
  'request_seconds_sum{route="/b"} 1.2',
  'request_seconds_count{route="/b"} 4',
  '# HELP payload_bytes Payload size',
  '# TYPE payload_bytes summary',
  'payload_bytes{quantile="0.5"} 200',
  'payload_bytes{quantile="0.9"} 400',
  'payload_bytes_sum 1000',
  'payload_bytes_count 4',
  '# TYPE jobs_total counter',
  'jobs_total{le="x"} 3',
  '',
].join('\n');

describe('histograms and summaries through Exec', () => {
  const tmp = tempDir('pollect-hist-');
  let prometheus: Daemon | undefined;
  afterAll(async () => {
    await prometheus?.stop();
    tmp.remove();
  });

  async function execWriters(): Promise<{ plain: PrometheusWriter; prom: PrometheusWriter }> {
    const file = path.join(tmp.dir, 'metrics.prom');
    writeFileSync(file, EXPOSITION);
    const plain = writer('pollect');
    const prom = writer('prometheus');
    await serve([{ collection: 'app', source: build(ExecSource, { name: 'web', command: ['cat', file], format: 'prometheus' }) }], [plain, prom]);
    return { plain, prom };
  }

  it.skipIf(!needs('promtool'))('keep their shape in both namings: TYPE histogram/summary, _bucket with le last, _sum, _count; promtool clean', async () => {
    const { plain, prom } = await execWriters();
    const body = prom.render();
    expect(body).toContain('# TYPE app_exec_web_request_seconds histogram\n');
    expect(body).toContain('app_exec_web_request_seconds_bucket{route="/api",le="0.5"} 2\n');
    expect(body).toContain('app_exec_web_request_seconds_bucket{route="/api",le="+Inf"} 4\n');
    expect(body).toContain('app_exec_web_request_seconds_sum{route="/api"} 3.95\n');
    expect(body).toContain('app_exec_web_request_seconds_count{route="/b"} 4\n');
    expect(body).toContain('# TYPE app_exec_web_payload_bytes summary\n');
    expect(body).toContain('app_exec_web_payload_bytes{quantile="0.9"} 400\n');
    expect(body).toContain('app_exec_web_payload_bytes_count 4\n');
    // Outside a histogram, `le` is still renamed: promlint reserves it.
    expect(body).toContain('app_exec_web_jobs_total{le_="x"} 3\n');
    expect(body).not.toMatch(/_bucket_total|le_="0|quantile_=/);
    const r = promtool(body);
    expect(r.out).toBe('');
    expect(r.code).toBe(0);
    const old = plain.render();
    expect(old).toContain('# TYPE app_Exec_web_request_seconds histogram\n');
    expect(old).toContain('app_Exec_web_request_seconds_bucket{route="/api",le="1"} 3\n');
    expect(old).toContain('# TYPE app_Exec_web_payload_bytes summary\n');
    // promtool has only pollect naming's style to object to, nothing about the histogram or summary.
    const findings = promtool(old).out;
    expect(findings).not.toMatch(/error|parsing/i);
    expect(findings).not.toMatch(/request_seconds|payload_bytes/);
  });

  it('a plain series named like a histogram is dropped, counted and logged once; the histogram stays whole', async () => {
    const { prom } = await execWriters();
    const logged: string[] = [];
    const log = { ...quietLog, warn: (m: string) => void logged.push(m) };
    Object.assign(prom, { context: { ...prom.context, log } });
    const clash: Point = {
      name: { collection: 'app', source: 'Exec', instance: 'web', value: 'request_seconds', id: 'app.Exec.web.request_seconds' },
      value: 1,
      labels: {},
      type: 'gauge',
      timestamp: T0,
      source: 'app.Dummy',
    };
    const b: Batch = { collection: 'app', timestamp: T0, points: [clash], sources: [status('app.Dummy', 'app', 'Dummy')] };
    expect(prom.write(b)).toEqual({ dropped: 1 });
    expect(prom.write(b)).toEqual({ dropped: 1 });
    expect(logged).toEqual([
      'Prometheus writer Prometheus#prometheus: app.Dummy sends gauge series into app_exec_web_request_seconds, a histogram; they are dropped',
    ]);
    expect(prom.render()).not.toMatch(/^app_exec_web_request_seconds 1$/m);
    expect(lines(prom.render()).filter((l) => l.name === 'app_exec_web_request_seconds_bucket')).toHaveLength(8);
  });

  it.skipIf(!needs('prometheus'))(
    'a real Prometheus scrapes them and histogram_quantile works',
    async () => {
      const { prom } = await execWriters();
      await prom.start();
      try {
        const port = await freePort();
        writeFileSync(
          path.join(tmp.dir, 'prometheus.yml'),
          `global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\nscrape_configs:\n  - job_name: pollect\n    static_configs:\n      - targets: ['127.0.0.1:${prom.port}']\n`,
        );
        prometheus = spawnDaemon('prometheus', [
          `--config.file=${path.join(tmp.dir, 'prometheus.yml')}`,
          `--storage.tsdb.path=${path.join(tmp.dir, 'data')}`,
          `--web.listen-address=127.0.0.1:${port}`,
          '--log.level=warn',
        ]);
        await waitForPort(port);
        const query = async (q: string): Promise<{ metric: Labels; value: [number, string] }[]> => {
          const res = await fetch(`http://127.0.0.1:${port}/api/v1/query?query=${encodeURIComponent(q)}`, { signal: AbortSignal.timeout(5000) });
          const body = (await res.json()) as { status: string; data: { result: { metric: Labels; value: [number, string] }[] } };
          if (body.status !== 'success') throw new Error(`${q}: ${JSON.stringify(body)}`);
          return body.data.result;
        };
        const q = 'histogram_quantile(0.5, sum by (le, route) (app_exec_web_request_seconds_bucket))';
        let result: { metric: Labels; value: [number, string] }[] = [];
        for (const end = Date.now() + 30_000; Date.now() < end; ) {
          result = await query(q).catch(() => []);
          if (result.length === 2) break;
          await new Promise((r) => setTimeout(r, 250));
        }
        const byRoute = Object.fromEntries(result.map((r) => [r.metric.route, Number(r.value[1])]));
        // /api: 4 observations, the 2nd in (0.1, 0.5]: the median is the bucket's upper bound, 0.5.
        expect(byRoute['/api']).toBeCloseTo(0.5, 9);
        // /b: all 4 in (0.1, 0.5]: linear interpolation puts the median halfway, 0.3.
        expect(byRoute['/b']).toBeCloseTo(0.3, 9);
        expect(Number((await query('app_exec_web_payload_bytes{quantile="0.9"}'))[0]!.value[1])).toBe(400);
        const meta = (await (await fetch(`http://127.0.0.1:${port}/api/v1/metadata?metric=app_exec_web_request_seconds`)).json()) as {
          data: Record<string, { type: string }[]>;
        };
        expect(meta.data.app_exec_web_request_seconds?.[0]?.type).toBe('histogram');
      } finally {
        await prom.stop();
      }
    },
    60_000,
  );
});

describe('a real daemon: the host sources in both namings side by side', () => {
  it.skipIf(!needs('promtool'))(
    'prometheus naming serves the raw counters and none of the rates; pollect naming the rates and none of the counters; promtool clean',
    async () => {
      const { dir, remove } = tempDir();
      const child = spawn('sleep', ['27.18281'], { stdio: 'ignore' });
      await new Promise((r) => child.once('spawn', r));
      const [plainPort, promPort] = [await freePort(), await freePort()];
      const config = await buildConfig(
        {
          tickTime: 1,
          writers: [
            { type: 'Prometheus', host: '127.0.0.1', port: plainPort },
            { type: 'Prometheus', host: '127.0.0.1', port: promPort, naming: 'prometheus' },
          ],
          executors: [
            {
              collection: 'host',
              sources: [
                { type: 'Cpu' },
                { type: 'Interface', include: ['lo'] },
                { type: 'IO' },
                { type: 'Process', procRegex: '^sleep 27\\.18281$' },
                { type: 'Host', metrics: ['cpu'] },
              ],
            },
          ],
        },
        path.join(dir, 'pollect.json'),
      );
      const daemon = new PollectDaemon(config, { log: quietLog });
      await daemon.start();
      try {
        const get = async (port: number): Promise<string> => (await fetch(`http://127.0.0.1:${port}/metrics`, { signal: AbortSignal.timeout(5000) })).text();
        // Rates need two readings: wait for the pollect naming's first interface rate.
        let plain = '';
        for (const end = Date.now() + 20_000; Date.now() < end && !plain.includes('host_Interface_recv_bytes_sec{'); ) {
          await new Promise((r) => setTimeout(r, 200));
          plain = await get(plainPort);
        }
        const prom = await get(promPort);
        const families = (text: string): Set<string> => new Set(lines(text).map((l) => l.name));
        const plainNames = families(plain);
        const promNames = families(prom);
        // pollect naming: the rates and percentages of the Python pollect, no raw counter.
        for (const n of [
          'host_Cpu',
          'host_Interface_recv_bytes_sec',
          'host_Interface_sent_packets_sec',
          'host_Process_load_percent',
          'host_Process_process_count',
        ]) {
          expect(plainNames, `pollect naming serves ${n}`).toContain(n);
        }
        const rawInPlain = [...plainNames].filter((n) => /^host_/.test(n) && /_total$/.test(n));
        expect(rawInPlain, 'pollect naming serves no raw counter').toEqual([]);
        // prometheus naming: the counters, as counters, and no rate or CPU percentage of them.
        const counters = [
          'host_cpu_seconds_total',
          'host_interface_receive_bytes_total',
          'host_interface_transmit_packets_total',
          'host_process_cpu_seconds_total',
          'host_host_cpu_seconds_total',
        ];
        if (/^host_IO_/m.test(plain)) counters.push('host_io_reads_completed_total', 'host_io_read_bytes_total', 'host_io_io_time_seconds_total');
        for (const n of counters) {
          expect(promNames, `prometheus naming serves ${n}`).toContain(n);
          expect(prom).toContain(`# TYPE ${n} counter\n`);
        }
        const rates = [...promNames].filter((n) => /^host_/.test(n) && /_per_second$|_sec$|_percent$/.test(n));
        expect(rates, 'prometheus naming serves no agent-side rate or CPU percentage of the host sources').toEqual([]);
        expect(lines(prom).find((l) => l.name === 'host_process_cpu_seconds_total')?.labels).toEqual({ pidx: '0' });
        const r = promtool(prom);
        expect(r.out).toBe('');
        expect(r.code).toBe(0);
      } finally {
        await daemon.stop();
        child.kill();
        remove();
      }
    },
    60_000,
  );
});
