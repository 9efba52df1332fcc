import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import zlib from 'node:zlib';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { PrometheusWriter, type PrometheusConfig } from '../../src/writers/prometheus/index.js';
import type { SeriesStore } from '../../src/writers/prometheus/store.js';
import { ParamError, type Batch, type PluginContext, type Point, type SeriesName, type SourceStatus } from '../../src/sdk/index.js';
import { WriterRuntime } from '../../src/executors/writer-runtime.js';
import { SelfMetricsSource, selfSeriesName } from '../../src/executors/self-metrics.js';
import { sourceSeriesName, toPoints, toSamples } from '../../src/executors/samples.js';
import { createLogger } from '../../src/log.js';
import { cli } from '../helpers/cli.js';
import { freePort, spawnDaemon, tempDir, waitForPort, type Daemon } from '../helpers/net.js';
import { needs } from '../helpers/servers.js';
import { validate } from '../helpers/validate.js';
import { selfSigned } from '../helpers/certs.js';

const logged: string[] = [];
const log = createLogger('test', { level: 'debug', write: (l) => logged.push(l) });
const ctx = (configDir = process.cwd()): PluginContext => ({ log, configDir, tickTime: 1 });

/** The writer's params with the schema's defaults filled in, as the config loader does. */
function promConfig(over: Partial<PrometheusConfig> = {}): PrometheusConfig {
  const config = { type: 'Prometheus', port: 0, host: '127.0.0.1', ...over };
  expect(validate(PrometheusWriter.schema, config, [])).toEqual([]);
  return config as PrometheusConfig;
}

/** A writer as the core runs it: behind a WriterRuntime, with the self-metrics source reporting on it. */
interface Harness {
  runtime: WriterRuntime;
  /** Latest status of every source that sent a batch. */
  statuses: Map<string, SourceStatus>;
  self: SelfMetricsSource;
  selfNames: Map<string, SeriesName>;
}
const harnesses = new Map<PrometheusWriter, Harness>();

const writers: PrometheusWriter[] = [];
async function startWriter(over: Partial<PrometheusConfig> = {}, configDir?: string): Promise<PrometheusWriter> {
  const w = new PrometheusWriter(promConfig(over), ctx(configDir));
  w.id = `Prometheus#${writers.length}`;
  writers.push(w);
  const runtime = new WriterRuntime(w, { bufferSize: 1_000_000, log });
  const statuses = new Map<string, SourceStatus>();
  const self = new SelfMetricsSource({ sources: () => [...statuses.values()], writers: () => [runtime.stats()], lagMs: () => 2 });
  harnesses.set(w, { runtime, statuses, self, selfNames: new Map() });
  await w.start();
  return w;
}

/** Hands batches to the writer through its runtime, as an executor does. */
function send(w: PrometheusWriter, ...batches: Batch[]): void {
  const h = harnesses.get(w)!;
  for (const b of batches) {
    for (const st of b.sources) h.statuses.set(st.id, st);
    h.runtime.add(b);
  }
}

/** One tick of the core's self-metrics source, about what the writer was sent so far. */
function sendSelf(w: PrometheusWriter): void {
  const h = harnesses.get(w)!;
  const points = toPoints(toSamples(h.self.probe()), {
    base: sourceSeriesName('pollect', 'Self'),
    staticLabels: undefined,
    timestamp: T0,
    source: 'pollect.self',
    names: h.selfNames,
    nameOf: selfSeriesName,
  });
  h.runtime.add(batch('pollect', [{ ...status('pollect.Self'), id: 'pollect.self' }], points));
}

afterEach(async () => {
  while (writers.length) await writers.pop()!.stop();
  harnesses.clear();
  logged.length = 0;
});

const T0 = 1_700_000_000_000;

function status(id: string, over: Partial<SourceStatus> = {}): SourceStatus {
  const [collection, type, name] = id.split('.');
  return {
    id,
    collection: collection!,
    type: type!.replace(/#\d+$/, ''),
    name,
    state: 'probed',
    success: true,
    durationSeconds: 0.012,
    errorsTotal: 0,
    skippedTotal: 0,
    rejectedTotal: 0,
    consecutiveFailures: 0,
    ...over,
  };
}

const seriesNames = new Map<string, SeriesName>();
/**
 * The series name of a dotted test name, `c.Type`, `c.Type.value` or `c.Type.instance.value`; one
 * object per name, shared by every point of the series as the core does.
 */
function sn(id: string): SeriesName {
  let name = seriesNames.get(id);
  if (!name) {
    const [collection, source, ...rest] = id.split('.');
    const instance = rest.length > 1 ? rest.shift() : undefined;
    const value = rest.length ? rest.join('.') : undefined;
    name = { collection: collection!, source: source!, instance, value, id };
    seriesNames.set(id, name);
  }
  return name;
}

function pt(source: string, name: string, value: number, labels: Record<string, string> = {}, extra: Partial<Point> = {}): Point {
  return { name: sn(name), value, labels, type: 'gauge', timestamp: T0, source, ...extra };
}

function batch(collection: string, sources: SourceStatus[], points: Point[]): Batch {
  return { collection, timestamp: T0, sources, points };
}

interface Scrape {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

function scrape(w: PrometheusWriter, opts: { headers?: Record<string, string>; path?: string; method?: string; tls?: { ca: string } } = {}): Promise<Scrape> {
  const mod = opts.tls ? https : http;
  return new Promise((resolve, reject) => {
    const req = mod.request(
      {
        host: '127.0.0.1',
        port: w.port,
        path: opts.path ?? '/metrics',
        method: opts.method ?? 'GET',
        headers: opts.headers,
        ca: opts.tls?.ca,
        timeout: 10_000,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          let buf = Buffer.concat(chunks);
          if (res.headers['content-encoding'] === 'gzip') buf = zlib.gunzipSync(buf);
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: buf.toString('utf8') });
        });
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error('scrape timed out')));
    req.on('error', reject);
    req.end();
  });
}

interface ParsedSample {
  name: string;
  labels: Record<string, string>;
  value: string;
}
interface ParsedFamily {
  type: string;
  help?: string;
  samples: ParsedSample[];
}

/** A strict reader of the text format: throws on anything a valid exposition must not contain. */
function parseExposition(text: string): Map<string, ParsedFamily> {
  const families = new Map<string, ParsedFamily>();
  const seen = new Set<string>();
  let current: string | undefined;
  const sampleRe = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/;
  for (const line of text.split('\n')) {
    if (line === '' || line === '# EOF') continue;
    const meta = /^# (HELP|TYPE|UNIT) ([a-zA-Z_:][a-zA-Z0-9_:]*) ?(.*)$/.exec(line);
    if (meta) {
      const [, kind, name, rest] = meta;
      if (kind === 'TYPE') {
        if (families.has(name!) && families.get(name!)!.type !== '') throw new Error(`second TYPE for ${name}`);
        const f = families.get(name!) ?? { type: '', samples: [] };
        f.type = rest!;
        families.set(name!, f);
      } else if (kind === 'HELP') {
        const f = families.get(name!) ?? { type: '', samples: [] };
        if (f.help !== undefined) throw new Error(`second HELP for ${name}`);
        f.help = rest!;
        families.set(name!, f);
      }
      if (current !== name && families.get(name!)!.samples.length) throw new Error(`family ${name} is not grouped`);
      current = name;
      continue;
    }
    const m = sampleRe.exec(line);
    if (!m) throw new Error(`bad line: ${JSON.stringify(line)}`);
    const [, name, labelText, value] = m;
    const labels: Record<string, string> = {};
    if (labelText) {
      const lre = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(,|$)/y;
      let lm: RegExpExecArray | null;
      let consumed = 0;
      while ((lm = lre.exec(labelText))) {
        if (lm[1]! in labels) throw new Error(`label ${lm[1]} twice in ${line}`);
        labels[lm[1]!] = lm[2]!.replace(/\\n/g, '\n').replace(/\\"/g, '"').replace(/\\\\/g, '\\');
        consumed = lre.lastIndex;
      }
      if (consumed !== labelText.length) throw new Error(`bad labels: ${line}`);
    }
    const fam = current !== undefined && (name === current || name!.startsWith(current + '_')) ? current : undefined;
    if (!fam) throw new Error(`sample ${name} outside its family (${current})`);
    const key = name + JSON.stringify(Object.entries(labels).sort());
    if (seen.has(key)) throw new Error(`duplicate series ${line}`);
    seen.add(key);
    families.get(fam)!.samples.push({ name: name!, labels, value: value! });
  }
  for (const [name, f] of families) {
    // Label names must agree within one sample name of a family.
    const byName = new Map<string, string>();
    for (const s of f.samples) {
      const names = Object.keys(s.labels)
        .filter((l) => l !== 'le' && l !== 'quantile')
        .sort()
        .join(',');
      if (byName.has(s.name) && byName.get(s.name) !== names) throw new Error(`inconsistent label names in ${name}: ${names} vs ${byName.get(s.name)}`);
      byName.set(s.name, names);
    }
  }
  return families;
}

function valueOf(fams: Map<string, ParsedFamily>, name: string, labels: Record<string, string> = {}): string | undefined {
  for (const f of fams.values()) {
    for (const s of f.samples) {
      if (s.name !== name) continue;
      const all = Object.entries(s.labels).filter(([, v]) => v !== '');
      const want = Object.entries(labels);
      if (all.length === want.length && want.every(([k, v]) => s.labels[k] === v)) return s.value;
    }
  }
  return undefined;
}

/** A mix of gauges, counters, labels, odd names and units from three sources of two executors. */
function mixedBatches(): Batch[] {
  return [
    batch(
      'host',
      [status('host.LoadAvg'), status('host.Http.api'), status('host.Dummy'), status('host.Dummy#1')],
      [
        pt('host.LoadAvg', 'host.LoadAvg.short', 0.42, {}, { help: 'Load average over 1 minute' }),
        pt('host.LoadAvg', 'host.LoadAvg.long', 0.17),
        pt('host.Http.api', 'host.Http.api.latencyMs', 250, { 'url.path': '/a"b\\c\nd', method: 'GET' }, { unit: 'ms' }),
        pt('host.Http.api', 'host.Http.api.latencyMs', 35, { method: 'POST' }, { unit: 'ms' }),
        pt('host.Http.api', 'host.Http.api.requests', 12, { statusCode: '200' }, { type: 'counter', help: 'Requests sent' }),
        pt('host.Http.api', 'host.Http.api.bytes-in!', 7, { le: '10', quantile: 'x' }, { type: 'counter', unit: 'KiB' }),
        pt('host.Http.api', 'host.Http.api.temp_fahrenheit', 212, { '0zone': 'cpu' }, { unit: '°F' }),
        pt('host.Http.api', 'host.Http.api.queue_count', 3),
        pt('host.Http.api', 'host.Http.api.wrong_total', 5),
        pt('host.Http.api', 'host.Http.api.up gauge', 1, { üñí: 'ok' }),
        pt('host.Http.api', 'host.Http.api.special', NaN, { v: 'nan' }),
        pt('host.Http.api', 'host.Http.api.special', Infinity, { v: 'inf' }),
        pt('host.Http.api', 'host.Http.api.special', -Infinity, { v: 'minus' }),
        // Two unnamed Dummy sources produce the same names: grouped in one family.
        pt('host.Dummy', 'host.Dummy', 1, { a: 'x' }),
        pt('host.Dummy#1', 'host.Dummy', 2, { b: 'y' }),
      ],
    ),
    batch('net', [status('net.Ping.gw')], [pt('net.Ping.gw', 'net.Ping.gw.rtt', 0.003, { host: '10.0.0.1' }, { unit: 'seconds' })]),
  ];
}

function promtool(text: string): { code: number; out: string } {
  const r = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8', timeout: 20_000 });
  return { code: r.status ?? -1, out: (r.stdout ?? '') + (r.stderr ?? '') };
}

describe('Prometheus writer: exposition', () => {
  it('serves a valid text exposition: families grouped across sources, consistent labels, escapes', async () => {
    const w = await startWriter();
    send(w, ...mixedBatches());
    sendSelf(w);
    const r = await scrape(w);
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toBe('text/plain; version=0.0.4; charset=utf-8');
    const fams = parseExposition(r.body);
    expect(fams.get('host_LoadAvg_short')).toMatchObject({ type: 'gauge', help: 'Load average over 1 minute' });
    expect(valueOf(fams, 'host_LoadAvg_short')).toBe('0.42');
    expect(valueOf(fams, 'host_Http_api_latencyMs', { url_path: '/a"b\\c\nd', method: 'GET' })).toBe('250');
    expect(valueOf(fams, 'host_Http_api_latencyMs', { method: 'POST' })).toBe('35');
    expect(fams.get('host_Http_api_requests')!.type).toBe('counter');
    expect(valueOf(fams, 'host_Http_api_requests', { statusCode: '200' })).toBe('12');
    expect(valueOf(fams, 'host_Http_api_bytes_in', { le: '10', quantile: 'x' })).toBe('7');
    expect(valueOf(fams, 'host_Http_api_up_gauge', { label___: 'ok' })).toBe('1');
    expect(valueOf(fams, 'host_Http_api_special', { v: 'nan' })).toBe('NaN');
    expect(valueOf(fams, 'host_Http_api_special', { v: 'inf' })).toBe('+Inf');
    expect(valueOf(fams, 'host_Http_api_special', { v: 'minus' })).toBe('-Inf');
    // One family for both Dummy sources, with the union of their label names.
    const dummy = fams.get('host_Dummy')!;
    expect(dummy.samples.map((s) => s.labels)).toEqual([
      { a: 'x', b: '' },
      { a: '', b: 'y' },
    ]);
    expect(valueOf(fams, 'net_Ping_gw_rtt', { host: '10.0.0.1' })).toBe('0.003');
    // The core's self-metrics, through the same write path, keep the names Prometheus users know.
    expect(valueOf(fams, 'pollect_source_success', { collection: 'host', source: 'host.Http.api', type: 'Http' })).toBe('1');
    expect(valueOf(fams, 'pollect_source_duration_seconds', { collection: 'net', source: 'net.Ping.gw', type: 'Ping' })).toBe('0.012');
    expect(fams.get('pollect_source_errors_total')!.type).toBe('counter');
    expect(fams.get('pollect_ticks_skipped_total')!.type).toBe('counter');
    expect(valueOf(fams, 'pollect_writer_written_total', { writer: w.id })).toBe('16');
    expect(valueOf(fams, 'pollect_writer_queue_length', { writer: w.id })).toBe('0');
    expect(valueOf(fams, 'pollect_writer_dropped_total', { writer: w.id })).toBe('0');
    expect(valueOf(fams, 'pollect_writer_errors_total', { writer: w.id })).toBe('0');
    expect(fams.get('pollect_source_consecutive_failures')!.type).toBe('gauge');
    expect(fams.get('process_cpu_seconds_total')!.type).toBe('counter');
    expect(Number(valueOf(fams, 'process_resident_memory_bytes'))).toBeGreaterThan(1e6);
    expect(fams.has('process_start_time_seconds')).toBe(true);
    expect(fams.has('nodejs_heap_size_used_bytes')).toBe(true);
    expect(valueOf(fams, 'nodejs_eventloop_lag_seconds')).toBe('0.002');
    expect(valueOf(fams, 'pollect_prometheus_series', { writer: w.id })).toBe(
      String(
        w
          .render()
          .split('\n')
          .filter((l) => l && !l.startsWith('#') && !l.startsWith('pollect_prometheus_series')).length,
      ),
    );
  });

  it('builds family names from the series name parts, not from the dotted id', async () => {
    const name: SeriesName = { collection: 'host', source: 'Disk', instance: 'data.1', value: 'freeKb', id: 'not.what.is.served' };
    const b = batch('host', [status('host.Disk.data')], [{ name, value: 2, labels: {}, type: 'gauge', timestamp: T0, source: 'host.Disk.data', unit: 'KiB' }]);
    const w = await startWriter();
    send(w, b);
    expect(valueOf(parseExposition(w.render()), 'host_Disk_data_1_freeKb')).toBe('2');
    const p = await startWriter({ naming: 'prometheus' });
    send(p, b);
    expect(valueOf(parseExposition(p.render()), 'host_disk_data_1_free_bytes')).toBe('2048');
    expect(w.render() + p.render()).not.toContain('not_what');
  });

  it.skipIf(!needs('promtool'))('pollect naming: promtool parses it and only objects to the style of the names', async () => {
    const w = await startWriter();
    send(w, ...mixedBatches());
    sendSelf(w);
    const { body } = await scrape(w);
    const r = promtool(body);
    expect(r.out).not.toMatch(/error while linting|parsing error/);
    // Exit code 3 = lint findings only (1 would be a parse error).
    expect(r.code).toBe(3);
    const allowed = /snake_case|"_total" suffix|abbreviated units|base unit|include type|"le" label|"quantile" label|"_count" suffix/;
    for (const line of r.out.trim().split('\n')) expect(line).toMatch(allowed);
  });

  it.skipIf(!needs('promtool'))('prometheus naming: snake_case, base units, _total on counters, and promtool reports nothing', async () => {
    const w = await startWriter({ naming: 'prometheus' });
    send(w, ...mixedBatches());
    sendSelf(w);
    const { body } = await scrape(w);
    const r = promtool(body);
    expect(r.out).toBe('');
    expect(r.code).toBe(0);
    const fams = parseExposition(body);
    // The self-metrics' names are the same in both namings.
    expect(valueOf(fams, 'pollect_source_success', { collection: 'host', source: 'host.Http.api', type: 'Http' })).toBe('1');
    expect(valueOf(fams, 'pollect_source_duration_seconds', { collection: 'net', source: 'net.Ping.gw', type: 'Ping' })).toBe('0.012');
    expect(fams.get('pollect_source_errors_total')!.type).toBe('counter');
    expect(fams.get('pollect_ticks_skipped_total')!.type).toBe('counter');
    expect(valueOf(fams, 'pollect_writer_written_total', { writer: w.id })).toBe('16');
    expect(valueOf(fams, 'pollect_writer_queue_length', { writer: w.id })).toBe('0');
    expect(fams.get('process_cpu_seconds_total')!.type).toBe('counter');
    expect(fams.has('process_resident_memory_bytes')).toBe(true);
    expect(fams.has('nodejs_eventloop_lag_seconds')).toBe(true);
    expect(valueOf(fams, 'host_load_avg_short')).toBe('0.42');
    expect(valueOf(fams, 'host_http_api_latency_seconds', { method: 'GET', url_path: '/a"b\\c\nd' })).toBe('0.25');
    expect(fams.get('host_http_api_requests_total')!.type).toBe('counter');
    expect(valueOf(fams, 'host_http_api_requests_total', { status_code: '200' })).toBe('12');
    expect(valueOf(fams, 'host_http_api_bytes_in_bytes_total', { le_: '10', quantile_: 'x' })).toBe('7168');
    expect(valueOf(fams, 'host_http_api_temp_celsius', { _0zone: 'cpu' })).toBe('100');
    expect(valueOf(fams, 'host_http_api_queue_count_value')).toBe('3');
    expect(valueOf(fams, 'host_http_api_wrong')).toBe('5');
    expect(valueOf(fams, 'host_http_api_up', { label___: 'ok' })).toBe('1');
    expect(valueOf(fams, 'net_ping_gw_rtt_seconds', { host: '10.0.0.1' })).toBe('0.003');
  });

  it('speaks OpenMetrics when the scraper asks for it, text otherwise; a small exposition is not gzipped', async () => {
    const w = await startWriter();
    send(w, ...mixedBatches());
    sendSelf(w);
    const om = await scrape(w, {
      headers: { Accept: 'application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5,*/*;q=0.1', 'Accept-Encoding': 'gzip' },
    });
    expect(om.headers['content-type']).toBe('application/openmetrics-text; version=1.0.0; charset=utf-8');
    expect(om.headers['content-encoding']).toBeUndefined();
    expect(Number(om.headers['content-length'])).toBe(Buffer.byteLength(om.body));
    expect(om.body.endsWith('# EOF\n')).toBe(true);
    expect(om.body.match(/# EOF/g)).toHaveLength(1);
    // A counter named with _total: family without it, samples with it.
    expect(om.body).toContain('# TYPE pollect_source_errors counter\n');
    expect(om.body).toMatch(/\npollect_source_errors_total\{collection="host",source="host.Http.api",type="Http"\} 0\n/);
    // pollect's counter without _total cannot be an OpenMetrics counter: it is unknown, same sample name.
    expect(om.body).toContain('# TYPE host_Http_api_requests unknown\n');
    expect(om.body).toContain('host_Http_api_requests{statusCode="200"} 12\n');
    expect(parseExposition(om.body).size).toBeGreaterThan(10);
    const preferText = await scrape(w, { headers: { Accept: 'application/openmetrics-text;q=0.2,text/plain;q=0.9' } });
    expect(preferText.headers['content-type']).toMatch(/^text\/plain; version=0.0.4/);
    expect(preferText.body).not.toContain('# EOF');
    const plain = await scrape(w, { headers: { Accept: '*/*' } });
    expect(plain.headers['content-type']).toMatch(/^text\/plain/);
    const prom = await startWriter({ naming: 'prometheus' });
    send(prom, ...mixedBatches());
    const om2 = await scrape(prom, { headers: { Accept: 'application/openmetrics-text' } });
    expect(om2.body).toContain('# TYPE host_http_api_latency_seconds gauge\n# UNIT host_http_api_latency_seconds seconds\n');
    expect(om2.body).toContain('# TYPE host_http_api_requests counter\n');
  });

  it('answers 404 elsewhere, 405 to other methods, headers only to HEAD, and serves a custom path', async () => {
    const w = await startWriter({ path: '/custom/metrics' });
    send(w, mixedBatches()[0]!);
    expect((await scrape(w)).status).toBe(404);
    expect((await scrape(w, { path: '/custom/metrics?x=1' })).status).toBe(200);
    expect((await scrape(w, { path: '/custom/metrics', method: 'POST' })).status).toBe(405);
    const head = await scrape(w, { path: '/custom/metrics', method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.body).toBe('');
  });

  it('a second source sending the same series is refused and counted; the first keeps it', async () => {
    const w = await startWriter();
    send(w, batch('c', [status('c.Dummy'), status('c.Dummy#1')], [pt('c.Dummy', 'c.Dummy', 1, { k: 'v' }), pt('c.Dummy#1', 'c.Dummy', 2, { k: 'v' })]));
    const fams = parseExposition((await scrape(w)).body);
    expect(fams.get('c_Dummy')!.samples).toEqual([{ name: 'c_Dummy', labels: { k: 'v' }, value: '1' }]);
    expect(harnesses.get(w)!.runtime.stats()).toMatchObject({ written: 1, dropped: 1 });
    expect(logged.some((l) => l.includes('c.Dummy#1 sends series of c_Dummy that c.Dummy already sends'))).toBe(true);
    // Once the owner stops sending it, the other source's series is served.
    send(w, batch('c', [status('c.Dummy'), status('c.Dummy#1')], [pt('c.Dummy#1', 'c.Dummy', 3, { k: 'v' })]));
    expect(valueOf(parseExposition((await scrape(w)).body), 'c_Dummy', { k: 'v' })).toBe('3');
  });

  it('label sets are fixed at write time when sources disagree, and shrink when the extra label goes', async () => {
    const w = await startWriter();
    send(w, batch('c', [status('c.A')], [pt('c.A', 'c.m', 1, { x: '1' })]));
    send(w, batch('d', [status('d.B')], [pt('d.B', 'c.m', 2, { y: '2', z: '3' })]));
    let fams = parseExposition((await scrape(w)).body);
    expect(fams.get('c_m')!.samples.map((s) => Object.keys(s.labels).join(','))).toEqual(['x,y,z', 'x,y,z']);
    send(w, batch('d', [status('d.B')], []));
    fams = parseExposition((await scrape(w)).body);
    expect(fams.get('c_m')!.samples).toEqual([{ name: 'c_m', labels: { x: '1' }, value: '1' }]);
  });
});

describe('Prometheus writer: stale series', () => {
  it('drops at once what a successful probe no longer produced', async () => {
    const w = await startWriter();
    send(
      w,
      batch(
        'c',
        [status('c.Disk')],
        [pt('c.Disk', 'c.Disk.free', 10, { mount: '/' }), pt('c.Disk', 'c.Disk.free', 20, { mount: '/home' }), pt('c.Disk', 'c.Disk.inodes', 5)],
      ),
    );
    let fams = parseExposition((await scrape(w)).body);
    expect(valueOf(fams, 'c_Disk_free', { mount: '/home' })).toBe('20');
    send(w, batch('c', [status('c.Disk')], [pt('c.Disk', 'c.Disk.free', 11, { mount: '/' })]));
    fams = parseExposition((await scrape(w)).body);
    expect(valueOf(fams, 'c_Disk_free', { mount: '/' })).toBe('11');
    expect(valueOf(fams, 'c_Disk_free', { mount: '/home' })).toBeUndefined();
    expect(fams.has('c_Disk_inodes')).toBe(false);
  });

  it('keeps a failing source for staleAfter ticks, then removes it; backoff and skipped count as failing', async () => {
    const w = await startWriter({ staleAfter: 3 });
    const ok = (v: number): Batch => batch('c', [status('c.Redis'), status('c.Other')], [pt('c.Redis', 'c.Redis.clients', v), pt('c.Other', 'c.Other', 1)]);
    const failing = (state: SourceStatus['state'], n: number): Batch =>
      batch(
        'c',
        [
          status('c.Redis', {
            state,
            success: false,
            consecutiveFailures: n,
            errorsTotal: n,
            error: 'connection refused',
            durationSeconds: state === 'probed' ? 0.034 : 0,
          }),
          status('c.Other'),
        ],
        [pt('c.Other', 'c.Other', 1)],
      );
    send(w, ok(7));
    sendSelf(w);
    send(w, failing('probed', 1));
    sendSelf(w);
    let fams = parseExposition((await scrape(w)).body);
    expect(valueOf(fams, 'c_Redis_clients')).toBe('7');
    expect(valueOf(fams, 'pollect_source_success', { collection: 'c', source: 'c.Redis', type: 'Redis' })).toBe('0');
    expect(valueOf(fams, 'pollect_source_errors_total', { collection: 'c', source: 'c.Redis', type: 'Redis' })).toBe('1');
    send(w, failing('backoff', 2));
    sendSelf(w);
    fams = parseExposition((await scrape(w)).body);
    expect(valueOf(fams, 'c_Redis_clients')).toBe('7');
    // No probe ran in a backoff tick: the duration is still the last probe's.
    expect(valueOf(fams, 'pollect_source_duration_seconds', { collection: 'c', source: 'c.Redis', type: 'Redis' })).toBe('0.034');
    send(w, failing('skipped', 3));
    sendSelf(w);
    fams = parseExposition((await scrape(w)).body);
    expect(valueOf(fams, 'c_Redis_clients')).toBeUndefined();
    expect(valueOf(fams, 'c_Other')).toBe('1');
    // Its self-metrics stay: they say why its series are gone.
    expect(valueOf(fams, 'pollect_source_consecutive_failures', { collection: 'c', source: 'c.Redis', type: 'Redis' })).toBe('3');
    send(w, ok(8));
    expect(valueOf(parseExposition((await scrape(w)).body), 'c_Redis_clients')).toBe('8');
    // A success in between starts the count again.
    send(w, failing('probed', 1));
    send(w, failing('probed', 2));
    send(w, ok(9));
    send(w, failing('probed', 1));
    send(w, failing('probed', 2));
    expect(valueOf(parseExposition((await scrape(w)).body), 'c_Redis_clients')).toBe('9');
  });
});

describe('Prometheus writer: rendering at write time', () => {
  /** The bytes the writer keeps for one source's series of one family. */
  const chunkText = (w: PrometheusWriter, family: string, source: string): Buffer | undefined =>
    (w as unknown as { store: SeriesStore }).store.families.get(family)?.chunks.get(source)?.text;

  it('renders again only what changed: a value, a series added or gone; the exposition always shows the last values', async () => {
    const w = await startWriter();
    const disk = (free: number, extra: Point[] = []): Batch =>
      batch('c', [status('c.Disk')], [pt('c.Disk', 'c.Disk.free', free, { mount: '/' }), pt('c.Disk', 'c.Disk.nan', Number.NaN), ...extra]);
    send(w, disk(10));
    const first = chunkText(w, 'c_Disk_free', 'c.Disk');
    const nan = chunkText(w, 'c_Disk_nan', 'c.Disk');
    expect(first?.toString()).toBe('c_Disk_free{mount="/"} 10\n');
    // The same values again (NaN included): the rendered bytes are kept as they were.
    send(w, disk(10));
    expect(chunkText(w, 'c_Disk_free', 'c.Disk')).toBe(first);
    expect(chunkText(w, 'c_Disk_nan', 'c.Disk')).toBe(nan);
    expect(valueOf(parseExposition((await scrape(w)).body), 'c_Disk_free', { mount: '/' })).toBe('10');
    // A new value, a series added, then one gone: rendered again each time.
    send(w, disk(11));
    expect(valueOf(parseExposition((await scrape(w)).body), 'c_Disk_free', { mount: '/' })).toBe('11');
    send(w, disk(0, [pt('c.Disk', 'c.Disk.free', 5, { mount: '/home' })]));
    let fams = parseExposition((await scrape(w)).body);
    expect(valueOf(fams, 'c_Disk_free', { mount: '/' })).toBe('0');
    expect(valueOf(fams, 'c_Disk_free', { mount: '/home' })).toBe('5');
    send(w, disk(0));
    fams = parseExposition((await scrape(w)).body);
    expect(valueOf(fams, 'c_Disk_free', { mount: '/home' })).toBeUndefined();
    expect(chunkText(w, 'c_Disk_free', 'c.Disk')?.toString()).toBe('c_Disk_free{mount="/"} 0\n');
  });

  it('with timestamps, a new reading time alone renders the series again', async () => {
    const w = await startWriter({ timestamps: true });
    send(w, batch('c', [status('c.Up')], [pt('c.Up', 'c.Up', 1, {}, { timestamp: T0 })]));
    send(w, batch('c', [status('c.Up')], [pt('c.Up', 'c.Up', 1, {}, { timestamp: T0 + 1000 })]));
    expect(chunkText(w, 'c_Up', 'c.Up')?.toString()).toBe(`c_Up 1 ${T0 + 1000}\n`);
  });
});

describe('Prometheus writer: timestamps', () => {
  const OM = { Accept: 'application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5' };
  const samples = (body: string) => body.split('\n').filter((l) => l && !l.startsWith('#'));
  const tick = (t: number, ok: boolean, seconds: Record<string, number>): Batch => ({
    collection: 'host',
    timestamp: t,
    sources: [status('host.Cpu', { success: ok })],
    points: Object.entries(seconds).map(([mode, v]) =>
      pt('host.Cpu', 'host.Cpu.seconds_total', v, { mode }, { type: 'counter', unit: 'seconds', timestamp: t }),
    ),
  });

  it('are off by default: a scrape serves values only', async () => {
    const w = await startWriter({ naming: 'prometheus' });
    send(w, tick(T0, true, { user: 1 }));
    expect(samples((await scrape(w)).body)[0]).toBe('host_cpu_seconds_total{mode="user"} 1');
  });

  it('on: each series with the time its tick read it, ms in text and seconds in OpenMetrics; promtool clean', async () => {
    const w = await startWriter({ naming: 'prometheus', timestamps: true });
    send(w, tick(T0, true, { user: 1, idle: 2 }));
    // A failed probe that still read one counter: that series moves on, the other keeps its reading's time.
    send(w, tick(T0 + 1000, false, { user: 1.5 }));
    const text = (await scrape(w)).body;
    expect(samples(text)).toEqual([
      `host_cpu_seconds_total{mode="user"} 1.5 ${T0 + 1000}`,
      `host_cpu_seconds_total{mode="idle"} 2 ${T0}`,
      // The writer's own count is of now, not of a reading.
      'pollect_prometheus_series{writer="Prometheus#0"} 2',
    ]);
    const om = await scrape(w, { headers: OM });
    expect(om.headers['content-type']).toContain('application/openmetrics-text');
    expect(samples(om.body).slice(0, 2)).toEqual([
      `host_cpu_seconds_total{mode="user"} 1.5 ${(T0 + 1000) / 1000}`,
      `host_cpu_seconds_total{mode="idle"} 2 ${T0 / 1000}`,
    ]);
    expect(om.body.endsWith('# EOF\n')).toBe(true);
    if (needs('promtool')) expect(promtool(text)).toEqual({ code: 0, out: '' });
  });
});

describe('Prometheus writer: serving', () => {
  it('a slow scraper never blocks write() or other scrapers', async () => {
    const w = await startWriter();
    const points: Point[] = [];
    for (let i = 0; i < 20_000; i++) points.push(pt('c.Big', 'c.Big.value', i, { i: String(i), pad: 'x'.repeat(40) }));
    send(w, batch('c', [status('c.Big')], points));
    // A scraper that sends its request and never reads the (multi-megabyte) answer.
    const stuck = net.connect(w.port, '127.0.0.1');
    await new Promise<void>((r) => stuck.once('connect', () => r()));
    stuck.pause();
    stuck.write('GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n');
    await new Promise((r) => setTimeout(r, 200));
    // write() is synchronous: it returns nothing to wait for, whatever the scrapers do.
    points[0] = pt('c.Big', 'c.Big.value', -1, { i: '0', pad: 'x'.repeat(40) });
    expect(w.write(batch('c', [status('c.Big')], points))).toBeUndefined();
    // A big exposition is gzipped when the scraper accepts it.
    const zipped = await scrape(w, { headers: { 'Accept-Encoding': 'gzip' } });
    expect(zipped.headers['content-encoding']).toBe('gzip');
    const fams = parseExposition(zipped.body);
    expect(valueOf(fams, 'c_Big_value', { i: '0', pad: 'x'.repeat(40) })).toBe('-1');
    expect(fams.get('c_Big_value')!.samples).toHaveLength(20_000);
    expect((await scrape(w)).headers['content-encoding']).toBeUndefined();
    stuck.destroy();
  });

  it('port in use: a clear error naming the writer', async () => {
    const blocker = net.createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', () => r()));
    const port = (blocker.address() as net.AddressInfo).port;
    try {
      const w = new PrometheusWriter(promConfig({ port }), ctx());
      w.id = 'Prometheus#busy';
      await expect(w.start()).rejects.toThrow(`Prometheus writer Prometheus#busy: cannot listen on 127.0.0.1:${port}: address already in use`);
    } finally {
      blocker.close();
    }
  });

  describe.skipIf(!needs('openssl'))('HTTPS', () => {
    const tmp = tempDir();
    beforeAll(async () => {
      selfSigned(tmp.dir);
    });
    afterAll(() => tmp.remove());

    it('serves the metrics over HTTPS with the configured key and certificate', async () => {
      const w = await startWriter({ tls: { key: 'key.pem', cert: 'cert.pem' } }, tmp.dir);
      send(w, mixedBatches()[1]!);
      const ca = readFileSync(path.join(tmp.dir, 'cert.pem'), 'utf8');
      const r = await scrape(w, { tls: { ca } });
      expect(r.status).toBe(200);
      expect(valueOf(parseExposition(r.body), 'net_Ping_gw_rtt', { host: '10.0.0.1' })).toBe('0.003');
      // Plain HTTP to the HTTPS port gets no metrics.
      await expect(scrape(w)).rejects.toThrow();
    });

    it('a missing, unreadable or non-PEM file is a param error of the constructor', () => {
      const paramError = (tls: { key: string; cert: string }): ParamError => {
        try {
          new PrometheusWriter(promConfig({ tls }), ctx(tmp.dir));
        } catch (err) {
          expect(err).toBeInstanceOf(ParamError);
          return err as ParamError;
        }
        throw new Error('no error');
      };
      let e = paramError({ key: 'missing.pem', cert: 'cert.pem' });
      expect(e.param).toBe('tls.key');
      expect(e.message).toMatch(/^cannot read .*\/missing.pem: no such file$/);
      e = paramError({ key: 'key.pem', cert: tmp.dir });
      expect(e.param).toBe('tls.cert');
      expect(e.message).toMatch(/^cannot read .*: .*EISDIR/);
      writeFileSync(path.join(tmp.dir, 'garbage.pem'), 'not a key\n');
      e = paramError({ key: 'garbage.pem', cert: 'cert.pem' });
      expect(e.param).toBe('tls.key');
      expect(e.message).toMatch(/garbage.pem is not a PEM file with a private key$/);
      // The certificate where the key belongs.
      expect(paramError({ key: 'cert.pem', cert: 'cert.pem' }).param).toBe('tls.key');
    });

    it('a PEM key that does not work is a start error naming the writer', async () => {
      writeFileSync(path.join(tmp.dir, 'broken.pem'), '-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n');
      const w = new PrometheusWriter(promConfig({ tls: { key: 'broken.pem', cert: 'cert.pem' } }), ctx(tmp.dir));
      w.id = 'Prometheus#tls';
      await expect(w.start()).rejects.toThrow(/^Prometheus writer Prometheus#tls: tls.key and tls.cert are not a usable PEM key and certificate/);
    });

    it('pollect --check rejects a TLS file that does not exist, naming its path in the config', async () => {
      const file = path.join(tmp.dir, 'check.json');
      writeFileSync(
        file,
        JSON.stringify({ writers: [{ type: 'Prometheus', tls: { key: 'nope/key.pem', cert: 'cert.pem' } }], executors: [{ sources: [{ type: 'Dummy' }] }] }),
      );
      const r = await cli(['-c', file, '--check']);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/^ {2}writers\[0\]\.tls\.key: cannot read .*nope\/key\.pem: no such file$/m);
      expect(r.stdout).not.toContain('OK');
      // The same config with files that are there is fine.
      writeFileSync(
        file,
        JSON.stringify({ writers: [{ type: 'Prometheus', tls: { key: 'key.pem', cert: 'cert.pem' } }], executors: [{ sources: [{ type: 'Dummy' }] }] }),
      );
      expect((await cli(['-c', file, '--check'])).code).toBe(0);
    });
  });
});

describe.skipIf(!needs('prometheus'))('Prometheus writer: scraped by a real Prometheus server', () => {
  let server: Daemon | undefined;
  const tmp = tempDir('pollect-prom-');
  afterAll(async () => {
    await server?.stop();
    tmp.remove();
  });

  async function query(promPort: number, q: string): Promise<{ metric: Record<string, string>; value: [number, string] }[]> {
    const res = await fetch(`http://127.0.0.1:${promPort}/api/v1/query?query=${encodeURIComponent(q)}`, { signal: AbortSignal.timeout(5000) });
    const body = (await res.json()) as { status: string; data: { result: { metric: Record<string, string>; value: [number, string] }[] } };
    if (body.status !== 'success') throw new Error(`query ${q}: ${JSON.stringify(body)}`);
    return body.data.result;
  }

  /** Polls the query until `done` says yes; bounded. */
  async function until<T>(what: string, f: () => Promise<T>, done: (v: T) => boolean, ms = 30_000): Promise<T> {
    const end = Date.now() + ms;
    let last: T | undefined;
    while (Date.now() < end) {
      try {
        last = await f();
        if (done(last)) return last;
      } catch {
        // not ready yet
      }
      await new Promise((r) => setTimeout(r, 250));
    }
    throw new Error(`timed out waiting for ${what}; last: ${JSON.stringify(last)}; prometheus said: ${server?.output().slice(-2000)}`);
  }

  it('Prometheus scrapes the endpoint (OpenMetrics) and its query API returns the values', async () => {
    const w = await startWriter({ staleAfter: 2 });
    const accepts: string[] = [];
    const seen = (w as unknown as { serve: (req: http.IncomingMessage, res: http.ServerResponse) => Promise<void> }).serve.bind(w);
    (w as unknown as { serve: typeof seen }).serve = (req, res) => {
      accepts.push(String(req.headers.accept));
      return seen(req, res);
    };
    send(w, ...mixedBatches());
    sendSelf(w);
    // A second endpoint over HTTPS, with prometheus naming, which Prometheus verifies against the CA.
    selfSigned(tmp.dir);
    const tlsWriter = await startWriter({ tls: { key: 'key.pem', cert: 'cert.pem' }, naming: 'prometheus' }, tmp.dir);
    send(tlsWriter, ...mixedBatches());
    sendSelf(tlsWriter);
    const promPort = await freePort();
    writeFileSync(
      path.join(tmp.dir, 'prometheus.yml'),
      [
        'global:',
        '  scrape_interval: 1s',
        '  scrape_timeout: 1s',
        'scrape_configs:',
        '  - job_name: pollect',
        '    static_configs:',
        `      - targets: ['127.0.0.1:${w.port}']`,
        '  - job_name: pollect_tls',
        '    scheme: https',
        '    tls_config:',
        `      ca_file: ${path.join(tmp.dir, 'cert.pem')}`,
        '    static_configs:',
        `      - targets: ['127.0.0.1:${tlsWriter.port}']`,
        '',
      ].join('\n'),
    );
    server = spawnDaemon('prometheus', [
      `--config.file=${path.join(tmp.dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${path.join(tmp.dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${promPort}`,
      '--log.level=warn',
    ]);
    await waitForPort(promPort);
    const up = await until(
      'target up',
      () => query(promPort, 'up{job="pollect"}'),
      (r) => r.length === 1 && r[0]!.value[1] === '1',
    );
    expect(up[0]!.metric.instance).toBe(`127.0.0.1:${w.port}`);
    const load = await until(
      'load',
      () => query(promPort, 'host_LoadAvg_short'),
      (r) => r.length === 1,
    );
    expect(load[0]!.value[1]).toBe('0.42');
    const lat = await query(promPort, 'host_Http_api_latencyMs');
    expect(lat.map((r) => [r.metric.method, r.metric.url_path, r.value[1]]).sort()).toEqual([
      ['GET', '/a"b\\c\nd', '250'],
      ['POST', undefined, '35'],
    ]);
    expect((await query(promPort, 'host_Http_api_requests{statusCode="200"}'))[0]!.value[1]).toBe('12');
    expect((await query(promPort, 'host_Dummy')).map((r) => r.value[1]).sort()).toEqual(['1', '2']);
    expect((await query(promPort, 'pollect_source_success{job="pollect",source="net.Ping.gw"}'))[0]!.value[1]).toBe('1');
    expect((await query(promPort, 'process_cpu_seconds_total{job="pollect"}')).length).toBe(1);
    expect(accepts.some((a) => a.includes('application/openmetrics-text'))).toBe(true);
    await until(
      'https target up',
      () => query(promPort, 'up{job="pollect_tls"}'),
      (r) => r.length === 1 && r[0]!.value[1] === '1',
    );
    const tlsLat = await until(
      'https latency',
      () => query(promPort, 'host_http_api_latency_seconds{method="GET"}'),
      (r) => r.length === 1,
    );
    expect(tlsLat[0]!.value[1]).toBe('0.25');
    expect((await query(promPort, 'host_http_api_requests_total{job="pollect_tls"}'))[0]!.value[1]).toBe('12');
    // The self-metrics have the same names with prometheus naming.
    expect((await query(promPort, `pollect_writer_written_total{job="pollect_tls",writer="${tlsWriter.id}"}`))[0]!.value[1]).toBe('16');
    expect((await query(promPort, 'pollect_source_success{job="pollect_tls",source="host.LoadAvg"}'))[0]!.value[1]).toBe('1');
    expect((await query(promPort, 'process_resident_memory_bytes{job="pollect_tls"}')).length).toBe(1);
    // The real server sees a failing source's series go after staleAfter ticks, and a new value.
    const failed = batch('net', [status('net.Ping.gw', { success: false, consecutiveFailures: 1 })], []);
    send(w, failed);
    send(w, failed);
    send(w, batch('host', [status('host.LoadAvg')], [pt('host.LoadAvg', 'host.LoadAvg.short', 0.5)]));
    await until(
      'new load value',
      () => query(promPort, 'host_LoadAvg_short'),
      (r) => r[0]?.value[1] === '0.5',
    );
    await until(
      'stale rtt gone',
      () => query(promPort, 'net_Ping_gw_rtt'),
      (r) => r.length === 0,
    );
    // The scrapes never failed: Prometheus accepted every exposition.
    expect((await query(promPort, 'up{job="pollect"}'))[0]!.value[1]).toBe('1');
    const samplesScraped = await query(promPort, 'scrape_samples_scraped{job="pollect"}');
    expect(Number(samplesScraped[0]!.value[1])).toBeGreaterThan(20);
  }, 90_000);
});

describe('Prometheus writer: names', () => {
  it('prometheus naming: snake_case, the declared unit in base form with the value converted, type words, reserved suffixes', async () => {
    const naming = await import('../../src/writers/prometheus/naming.js');
    const { promLabelName, pollectLabelName } = naming;
    const promMetricName = (id: string, ...rest: ['gauge' | 'counter', string?]): ReturnType<typeof naming.promMetricName> =>
      naming.promMetricName(sn(id), ...rest);
    const pollectMetricName = (id: string): ReturnType<typeof naming.pollectMetricName> => naming.pollectMetricName(sn(id));
    expect(promMetricName('host.LoadAvg.short', 'gauge')).toMatchObject({ family: 'host_load_avg_short', mul: 1, add: 0 });
    // The declared unit converts; the name's own spelling of it gives way to the unit's name.
    expect(promMetricName('web.HTTPServer.latencyMs', 'gauge', 'ms')).toMatchObject({ family: 'web_http_server_latency_seconds', mul: 1e-3, unit: 'seconds' });
    expect(promMetricName('c.Net.bytes_per_ms', 'gauge', 'bytes/ms')).toMatchObject({ family: 'c_net_bytes_per_second', mul: 1000 });
    expect(promMetricName('c.Osv.cputime_seconds', 'gauge', 'ms')).toMatchObject({ family: 'c_osv_cputime_seconds', mul: 1e-3 });
    expect(promMetricName('c.Freq.cpu', 'gauge', 'MHz')).toMatchObject({ family: 'c_freq_cpu_hertz', mul: 1e6, unit: 'hertz' });
    expect(promMetricName('c.Power.current', 'gauge', 'mW')).toMatchObject({ family: 'c_power_current_watts', mul: 1e-3, unit: 'watts' });
    expect(promMetricName('c.Sensors.fan', 'gauge', 'rpm')).toMatchObject({ family: 'c_sensors_fan_rpm', mul: 1, unit: 'rpm' });
    expect(promMetricName('c.Mem.free_kb', 'gauge', 'KiB')).toMatchObject({ family: 'c_mem_free_bytes', mul: 1024 });
    expect(promMetricName('c.Mem.total_kilobytes', 'gauge', 'kilobytes')).toMatchObject({ family: 'c_mem_total_bytes', mul: 1000 });
    expect(promMetricName('c.Link.speed', 'gauge', 'Mbit')).toMatchObject({ family: 'c_link_speed_bytes', mul: 1e6 / 8 });
    expect(promMetricName('c.Up.uptime', 'counter', 'hours')).toMatchObject({ family: 'c_up_uptime_seconds_total', mul: 3600, unit: 'seconds' });
    // Without a declared unit, unit-looking tokens are just words.
    expect(promMetricName('c.Mem.free_kb', 'gauge')).toMatchObject({ family: 'c_mem_free_kb', mul: 1 });
    expect(promMetricName('h.Dummy.uptime_d', 'gauge')).toMatchObject({ family: 'h_dummy_uptime_d', mul: 1 });
    expect(promMetricName('c.Net.bytes_per_ms', 'gauge')).toMatchObject({ family: 'c_net_bytes_per_ms', mul: 1 });
    expect(promMetricName('c.Dummy.counter', 'counter')).toMatchObject({ family: 'c_dummy_total' });
    expect(promMetricName('c.Dummy.requests_total', 'counter')).toMatchObject({ family: 'c_dummy_requests_total' });
    expect(promMetricName('c.Dummy.requests_total', 'gauge')).toMatchObject({ family: 'c_dummy_requests' });
    expect(promMetricName('c.Up.busy_seconds_total', 'counter', 'seconds')).toMatchObject({ family: 'c_up_busy_seconds_total', mul: 1, unit: 'seconds' });
    expect(promMetricName('c.Queue.count', 'gauge')).toMatchObject({ family: 'c_queue_count_value' });
    expect(promMetricName('c.LoadAvg.load_1_m', 'gauge')).toMatchObject({ family: 'c_load_avg_load_1_m', mul: 1 });
    expect(promMetricName('c.OSv.memory', 'gauge', 'bytes')).toMatchObject({ family: 'c_osv_memory_bytes' });
    expect(promMetricName('1c.X', 'gauge')).toMatchObject({ family: '_1c_x' });
    const f = promMetricName('c.T.temp_fahrenheit', 'gauge', '°F');
    expect(f.family).toBe('c_t_temp_celsius');
    expect(212 * f.mul + f.add).toBeCloseTo(100, 10);
    // `!` is dropped, as by the Python pollect (`x!y` -> `n_Dummy_xy`); `-` becomes `_`.
    expect(pollectMetricName('c.Http!x.bytes-in').family).toBe('c_Httpx_bytes_in');
    expect(pollectMetricName('n.Dummy.x!y').family).toBe('n_Dummy_xy');
    expect(pollectMetricName('9.a b').family).toBe('_9_a_b');
    expect(pollectLabelName('url.path')).toBe('url_path');
    expect(pollectLabelName('__name__')).toBe('label__name__');
    expect(pollectLabelName('0x')).toBe('_0x');
    expect(promLabelName('statusCode')).toBe('status_code');
    expect(promLabelName('le')).toBe('le_');
  });

  it.skipIf(!needs('promtool'))('one TYPE when sources disagree on the type of a name: the first one wins', async () => {
    const w = await startWriter();
    send(w, batch('c', [status('c.A'), status('c.B')], [pt('c.A', 'c.x', 1, { s: 'a' }), pt('c.B', 'c.x', 2, { s: 'b' }, { type: 'counter' })]));
    const { body } = await scrape(w);
    const fams = parseExposition(body);
    expect(fams.get('c_x')!.type).toBe('gauge');
    expect(fams.get('c_x')!.samples.map((s) => s.value)).toEqual(['1', '2']);
    expect(promtool(body).out).not.toMatch(/error/);
  });

  it('OpenMetrics: a counter whose family name is taken by a gauge keeps its full name, as unknown', async () => {
    const w = await startWriter({ naming: 'prometheus' });
    send(w, batch('c', [status('c.A')], [pt('c.A', 'c.A.requests', 3), pt('c.A', 'c.A.requests', 7, {}, { type: 'counter' })]));
    const om = (await scrape(w, { headers: { Accept: 'application/openmetrics-text' } })).body;
    expect(om).toContain('# TYPE c_a_requests gauge\n');
    expect(om).toContain('# TYPE c_a_requests_total unknown\n');
    expect(om.match(/# TYPE c_a_requests /g)).toHaveLength(1);
    expect(om).toContain('\nc_a_requests 3\n');
    expect(om).toContain('\nc_a_requests_total 7\n');
  });

  it("a user family named like a self-metric joins it, and one named like the writer's own metric is not served", async () => {
    const w = await startWriter();
    send(w, batch('pollect', [status('pollect.source')], [pt('pollect.source', 'pollect.source.success', 5, { x: '1' })]));
    sendSelf(w);
    let body = (await scrape(w)).body;
    expect(body.match(/# TYPE pollect_source_success /g)).toHaveLength(1);
    expect(valueOf(parseExposition(body), 'pollect_source_success', { x: '1' })).toBe('5');
    expect(valueOf(parseExposition(body), 'pollect_source_success', { collection: 'pollect', source: 'pollect.source', type: 'source' })).toBe('1');
    send(w, batch('pollect', [status('pollect.prometheus')], [pt('pollect.prometheus', 'pollect.prometheus.series', 5)]));
    body = (await scrape(w)).body;
    expect(body.match(/# TYPE pollect_prometheus_series /g)).toHaveLength(1);
    expect(valueOf(parseExposition(body), 'pollect_prometheus_series', { writer: w.id })).toBeDefined();
    expect(valueOf(parseExposition(body), 'pollect_prometheus_series')).toBeUndefined();
    expect(logged.some((l) => l.includes("family pollect_prometheus_series clashes with the writer's own metric"))).toBe(true);
  });

  it('an unknown bind host is a clear error naming the writer', async () => {
    const w = new PrometheusWriter(promConfig({ host: 'no-such-host.invalid' }), ctx());
    w.id = 'Prometheus#host';
    await expect(w.start()).rejects.toThrow(/^Prometheus writer Prometheus#host: cannot listen on no-such-host.invalid:0: unknown host/);
  });
});
