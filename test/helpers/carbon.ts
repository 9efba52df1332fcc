// A real carbon-cache for the Graphite writer's tests (started on free loopback ports, one-second
// retention), what it stored (read with whisper-fetch), and the writer behind the core's runtime
// with quick retries, as the daemon runs it.
import { expect } from 'vitest';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, writeFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { GraphiteWriter, type GraphiteConfig } from '../../src/writers/graphite/index.js';
import type { Batch, Point, SeriesName } from '../../src/sdk/index.js';
import { createLogger } from '../../src/log.js';
import { writerParamsSchema } from '../../src/config/schema.js';
import { WriterRuntime } from '../../src/executors/writer-runtime.js';
import { validate } from './validate.js';
import { freePort, spawnDaemon, waitForPort, type Daemon } from './net.js';

/** A series name from pollect's dotted id, as the core builds it: `<collection>.<Type>.<value>`. */
export function sname(id: string): SeriesName {
  const [collection = '', source = '', ...rest] = id.split('.');
  return rest.length ? { collection, source, value: rest.join('.'), id } : { collection, source, id };
}

export const SCHEMA = writerParamsSchema(GraphiteWriter.schema, 'Graphite');

/** The writer's params as the config loader hands them over: checked, defaults filled in. */
export function configOf(params: Record<string, unknown>): GraphiteConfig {
  const data = { type: 'Graphite', ...params };
  expect(validate(SCHEMA, data, [])).toEqual([]);
  return data as GraphiteConfig;
}

export interface Carbon {
  dir: string;
  pickle: number;
  line: number;
  query: number;
  daemon: Daemon | null;
  start(): Promise<void>;
  stop(signal?: NodeJS.Signals): Promise<void>;
}

export async function makeCarbon(dir: string): Promise<Carbon> {
  const [pickle, line, query] = [await freePort(), await freePort(), await freePort()];
  const storage = path.join(dir, 'storage');
  mkdirSync(path.join(storage, 'whisper'), { recursive: true });
  mkdirSync(path.join(dir, 'log'), { recursive: true });
  writeFileSync(
    path.join(dir, 'carbon.conf'),
    [
      '[cache]',
      `STORAGE_DIR = ${storage}/`,
      `LOCAL_DATA_DIR = ${storage}/whisper/`,
      `WHITELISTS_DIR = ${storage}/lists/`,
      `CONF_DIR = ${dir}/`,
      `LOG_DIR = ${dir}/log/`,
      `PID_DIR = ${dir}/`,
      'USER =',
      'MAX_CACHE_SIZE = inf',
      'MAX_UPDATES_PER_SECOND = 100000',
      'MAX_CREATES_PER_MINUTE = inf',
      'LINE_RECEIVER_INTERFACE = 127.0.0.1',
      `LINE_RECEIVER_PORT = ${line}`,
      'PICKLE_RECEIVER_INTERFACE = 127.0.0.1',
      `PICKLE_RECEIVER_PORT = ${pickle}`,
      'CACHE_QUERY_INTERFACE = 127.0.0.1',
      `CACHE_QUERY_PORT = ${query}`,
      'ENABLE_UDP_LISTENER = False',
      // Tagged series are stored all the same; the tag index itself lives in graphite-web.
      'ENABLE_TAGS = False',
      'CARBON_METRIC_INTERVAL = 0',
      '',
    ].join('\n'),
  );
  // One-second resolution, so every tick keeps its own datapoint.
  writeFileSync(path.join(dir, 'storage-schemas.conf'), '[all]\npattern = .*\nretentions = 1s:1d\n');
  writeFileSync(path.join(dir, 'storage-aggregation.conf'), '[all]\npattern = .*\nxFilesFactor = 0\naggregationMethod = average\n');
  const c: Carbon = {
    dir,
    pickle,
    line,
    query,
    daemon: null,
    async start() {
      c.daemon = spawnDaemon('carbon-cache', [`--config=${dir}/carbon.conf`, `--pidfile=${dir}/carbon.pid`, '--debug', 'start']);
      try {
        await waitForPort(pickle, '127.0.0.1', 20_000);
        await waitForPort(line, '127.0.0.1', 5_000);
      } catch (err) {
        throw new Error(`carbon-cache did not start: ${String(err)}\n${c.daemon.output().slice(-2000)}`);
      }
    },
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      const d = c.daemon;
      c.daemon = null;
      if (!d) return;
      if (signal === 'SIGTERM') return d.stop();
      const exited = new Promise((r) => d.child.once('exit', r));
      d.child.kill(signal);
      await exited;
    },
  };
  return c;
}

/** Values carbon stored for a metric, by timestamp, read with whisper-fetch. */
export function whisperValues(carbon: Carbon, metric: string, from: number, until: number): Map<number, number | null> {
  const file = metricFile(carbon, metric);
  const out = new Map<number, number | null>();
  if (!existsSync(file)) return out;
  // A read can fail while carbon writes the new file's header, or when the machine is short of
  // processes: it is tried again, and a file that cannot be read is an error, never "nothing
  // stored" (which made a whole series look lost once, in CI).
  let json = '';
  for (let attempt = 1; ; attempt++) {
    try {
      json = execFileSync('whisper-fetch', ['--json', `--from=${from - 1}`, `--until=${until}`, file], { stdio: ['ignore', 'pipe', 'pipe'] }).toString();
      break;
    } catch (err) {
      if (attempt === 20) throw new Error(`whisper-fetch ${file}: ${(err as { stderr?: Buffer }).stderr?.toString().trim() || (err as Error).message}`);
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 50);
    }
  }
  // whisper-fetch writes bare inf/nan; keep them as strings for JSON.parse.
  const data = JSON.parse(json.replace(/-?\b(inf|nan)\b/g, (m) => `"${m}"`)) as { start: number; step: number; values: (number | string | null)[] };
  data.values.forEach((v, i) =>
    out.set(data.start + i * data.step, typeof v === 'string' ? (v.includes('nan') ? NaN : v.startsWith('-') ? -Infinity : Infinity) : v),
  );
  return out;
}

/** Where carbon keeps a metric: dots become directories; tagged series go by hash. */
export function metricFile(carbon: Carbon, metric: string): string {
  const root = path.join(carbon.dir, 'storage', 'whisper');
  if (metric.includes(';')) {
    const h = createHash('sha256').update(metric).digest('hex');
    return path.join(root, '_tagged', h.slice(0, 3), h.slice(3, 6), `${h}.wsp`);
  }
  return path.join(root, ...metric.split('.')) + '.wsp';
}

/** Polls until every expected datapoint is in whisper (bounded); returns what is missing. */
export async function waitForWhisper(carbon: Carbon, expected: Map<string, Map<number, number>>, timeoutMs = 15_000): Promise<string[]> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const missing: string[] = [];
    for (const [metric, points] of expected) {
      const ts = [...points.keys()];
      const got = whisperValues(carbon, metric, Math.min(...ts), Math.max(...ts));
      for (const [t, v] of points) if (!Object.is(got.get(t), v)) missing.push(`${metric}@${t}=${v} (got ${got.get(t)})`);
    }
    if (missing.length === 0 || Date.now() > until) return missing;
    await new Promise((r) => setTimeout(r, 250));
  }
}

export function point(id: string, value: number, tsSeconds: number, labels: Record<string, string> = {}): Point {
  return { name: sname(id), value, labels, type: 'gauge', timestamp: tsSeconds * 1000 + 123, source: id };
}

export function batch(points: Point[]): Batch {
  return { collection: 'test', timestamp: points[0]?.timestamp ?? 0, points, sources: [] };
}

export interface Harness {
  writer: GraphiteWriter;
  runtime: WriterRuntime;
  lines: string[];
  /** The core's flush and stop, with a deadline `ms` from now. */
  flush(ms?: number): Promise<void>;
  stop(ms?: number): Promise<void>;
}

/** A started Graphite writer behind the core's runtime, as the daemon runs it, with quick retries. */
export function graphite(params: Record<string, unknown>, id = 'Graphite#test'): Harness {
  const lines: string[] = [];
  const log = createLogger('', { level: 'debug', write: (l) => lines.push(l) });
  const config = configOf({ host: '127.0.0.1', reconnectMin: 0.05, reconnectMax: 0.3, ...params });
  const context = { configDir: process.cwd(), tickTime: 1, log };
  const writer = new GraphiteWriter(config, context);
  writer.id = id;
  const runtime = new WriterRuntime(writer, { bufferSize: config.bufferSize!, log, retryMinMs: 50, retryMaxMs: 300 });
  writer.start({ ...context, reportDropped: (n) => runtime.lost(n) });
  return {
    writer,
    runtime,
    lines,
    flush: (ms = 10_000) => runtime.flush(Date.now() + ms),
    stop: (ms = 10_000) => runtime.stop(Date.now() + ms),
  };
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Waits (bounded) until `cond` holds; the writer itself never polls, the test reads its state. */
export async function until(cond: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (!cond() && Date.now() < end) await sleep(20);
  return cond();
}
