// Graphite writer: the pickle encoder checked by Python's own unpicklers, path building, and the
// writer behind the core's runtime end to end against a real carbon-cache (pickle, plaintext,
// tags, stop, one outage, self-metrics). The send queue and the connection have their own tests.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, writeFileSync, mkdirSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { PickleEncoder, MAX_MESSAGE_BYTES } from '../../src/writers/graphite/pickle.js';
import { encodePlaintext, MAX_LINE_BYTES } from '../../src/writers/graphite/plaintext.js';
import { PathBuilder, sanitizeDotted, sanitizeSegment, seriesPath } from '../../src/writers/graphite/path.js';
import { GraphiteWriter, type GraphiteConfig } from '../../src/writers/graphite/index.js';
import { ParamError, type Batch, type Point, type SeriesName } from '../../src/sdk/index.js';
import { createLogger } from '../../src/log.js';
import { writerParamsSchema } from '../../src/config/schema.js';
import { buildConfig } from '../../src/config/load.js';
import { WriterRuntime } from '../../src/executors/writer-runtime.js';
import { Daemon as Pollect } from '../../src/executors/daemon.js';
import { selfSeriesName } from '../../src/executors/self-metrics.js';
import { validate } from '../helpers/validate.js';
import { freePort, spawnDaemon, tempDir, waitForPort, type Daemon } from '../helpers/net.js';
import { needs } from '../helpers/servers.js';

// ---------------------------------------------------------------------------------------------
// Decoding with Python

interface Decoded {
  length: number;
  type: string;
  ops: string[];
  dis: string;
  safeEqual: boolean;
  points: [path: string, pathType: string, ts: string, tsType: string, valueHex: string, valueType: string, shape: string][];
}

/** Feeds concatenated messages to python3: pickle.loads, carbon's SafeUnpickler and pickletools. */
function pythonDecode(bytes: Buffer, python = 'python3'): Decoded[] {
  const script = `
import sys, json, struct, pickle, pickletools, io
try:
    from carbon.util import get_unpickler
    safe_loads = get_unpickler(insecure=False).loads
except Exception:
    safe_loads = None
data = sys.stdin.buffer.read()
out = []
pos = 0
while pos < len(data):
    (n,) = struct.unpack('!L', data[pos:pos + 4])
    payload = data[pos + 4:pos + 4 + n]
    if len(payload) != n:
        raise SystemExit('truncated message')
    pos += 4 + n
    ops = sorted({op.name for op, arg, p in pickletools.genops(payload)})
    text = io.StringIO()
    pickletools.dis(payload, out=text)
    obj = pickle.loads(payload)
    safe_equal = safe_loads is not None and repr(safe_loads(payload)) == repr(obj)
    points = []
    for item in obj:
        path, dp = item
        ts, v = dp
        shape = type(item).__name__ + str(len(item)) + type(dp).__name__ + str(len(dp))
        points.append([path, type(path).__name__, str(ts), type(ts).__name__, struct.pack('>d', v).hex(), type(v).__name__, shape])
    out.append({'length': n, 'type': type(obj).__name__, 'ops': ops, 'dis': text.getvalue()[-200:], 'safeEqual': safe_equal, 'points': points})
print(json.dumps(out))
`;
  const out = execFileSync(python, ['-c', script], { input: bytes, maxBuffer: 512 * 1024 * 1024 });
  return JSON.parse(out.toString()) as Decoded[];
}

function hex(v: number): string {
  const b = Buffer.alloc(8);
  b.writeDoubleBE(v);
  return b.toString('hex');
}

/** Encodes all points into as many messages as needed. */
function encodeAll(paths: string[], ts: number[], vals: number[]): Buffer[] {
  const enc = new PickleEncoder();
  const out: Buffer[] = [];
  for (let i = 0; i < paths.length; ) {
    const r = enc.encode(paths, ts, vals, i, paths.length);
    expect(r.count).toBeGreaterThan(0);
    out.push(r.bytes);
    i += r.count;
  }
  return out;
}

describe('pickle encoder, decoded by Python', () => {
  it('round-trips unicode paths, big/negative/odd floats and every int size', () => {
    const paths = ['pollect.LoadAvg.short', 'pollect.Température.Zürich', 'pollect.温度.センサー', 'pollect.emoji.😀🚀', 'a', 'x'.repeat(70_000)];
    const values = [0, -0, 1.5, -2.25e10, 0.1, 1e308, -1.7976931348623157e308, 5e-324, 2 ** 53 + 2, -123456.789, Infinity, -Infinity, NaN];
    const stamps = [0, 1, 255, 256, 65535, 65536, 2 ** 31 - 1, 2 ** 31, 2 ** 40, 2 ** 53 - 1, -1, -128, -129, -(2 ** 31), -(2 ** 31) - 1, 1795306119];
    const P: string[] = [];
    const T: number[] = [];
    const V: number[] = [];
    for (let i = 0; i < Math.max(values.length, stamps.length) * 2; i++) {
      P.push(paths[i % paths.length]!);
      T.push(stamps[i % stamps.length]!);
      V.push(values[i % values.length]!);
    }
    const msgs = encodeAll(P, T, V);
    expect(msgs).toHaveLength(1);
    const [d] = pythonDecode(Buffer.concat(msgs));
    expect(d!.type).toBe('list');
    expect(d!.length).toBe(msgs[0]!.length - 4);
    expect(d!.points).toHaveLength(P.length);
    d!.points.forEach(([p, pt, ts, tst, vh, vt, shape], i) => {
      expect(p).toBe(P[i]);
      expect(pt).toBe('str');
      expect(ts).toBe(String(T[i]));
      expect(tst).toBe('int');
      expect(vh).toBe(hex(V[i]!));
      expect(vt).toBe('float');
      expect(shape).toBe('tuple2tuple2');
    });
  });

  it.skipIf(!needs('carbon-cache'))("is accepted by carbon's own SafeUnpickler, on the Python carbon runs on", () => {
    const python = '/usr/bin/python3';
    const P = ['pollect.Température.Zürich', 'b'.repeat(300), 'c'];
    const decoded = pythonDecode(Buffer.concat(encodeAll(P, [1795306119, 2 ** 31, 0], [Infinity, -1.5, 0.1])), python);
    expect(decoded.every((d) => d.safeEqual)).toBe(true);
    expect(decoded.flatMap((d) => d.points.map((p) => p[0]))).toEqual(P);
  });

  it('encodes UTF-8 exactly as Buffer does, lone surrogates included', () => {
    const P = ['ascii', 'ß', '€uro', '𝄞 clef', 'mix ä€𝄞 end', 'lone \ud800 high', 'lone \udc00 low', 'tail \ud83d'];
    const msgs = encodeAll(
      P,
      P.map(() => 1),
      P.map(() => 1),
    );
    const got = pythonDecode(msgs[0]!)[0]!.points.map((p) => p[0]);
    expect(got).toEqual(P.map((p) => Buffer.from(p, 'utf8').toString('utf8')));
  });

  it('uses no GLOBAL (or any class-loading) opcode', () => {
    const msgs = encodeAll(['a.b', 'c.d'], [1795306119, 2 ** 33], [1, 2]);
    const [d] = pythonDecode(msgs[0]!);
    for (const op of ['GLOBAL', 'STACK_GLOBAL', 'REDUCE', 'INST', 'OBJ', 'NEWOBJ', 'BUILD']) expect(d!.ops).not.toContain(op);
    expect(d!.ops).toEqual(['APPENDS', 'BINFLOAT', 'BININT', 'BINUNICODE', 'EMPTY_LIST', 'LONG1', 'MARK', 'PROTO', 'STOP', 'TUPLE2']);
    expect(d!.dis).toContain('highest protocol among opcodes = 2');
    expect(d!.dis).not.toContain('GLOBAL');
  });

  it('puts exactly 500 datapoints in one message and splits 1001 into 500 + 500 + 1', () => {
    const mk = (n: number) => ({
      P: Array.from({ length: n }, (_, i) => `pollect.S.s${i}`),
      T: Array.from({ length: n }, (_, i) => 1795306000 + i),
      V: Array.from({ length: n }, (_, i) => i / 7),
    });
    const a = mk(500);
    expect(encodeAll(a.P, a.T, a.V)).toHaveLength(1);
    const b = mk(1001);
    const msgs = encodeAll(b.P, b.T, b.V);
    const decoded = pythonDecode(Buffer.concat(msgs));
    expect(decoded.map((d) => d.points.length)).toEqual([500, 500, 1]);
    const all = decoded.flatMap((d) => d.points);
    all.forEach(([p, , ts, , vh], i) => {
      expect(p).toBe(b.P[i]);
      expect(ts).toBe(String(b.T[i]));
      expect(vh).toBe(hex(b.V[i]!));
    });
  });

  it('splits by size so every payload stays under 1 MiB, and skips a path that fits nowhere', () => {
    // 500 paths of 5000 bytes would be 2.5 MB: must become several messages.
    const n = 500;
    const P = Array.from({ length: n }, (_, i) => `p${i}.` + 'é'.repeat(2500));
    const T = P.map((_, i) => 1795306000 + i);
    const V = P.map((_, i) => -i * 1.25);
    const msgs = encodeAll(P, T, V);
    expect(msgs.length).toBeGreaterThanOrEqual(3);
    for (const m of msgs) {
      expect(m.readUInt32BE(0)).toBe(m.length - 4);
      expect(m.length - 4).toBeLessThanOrEqual(MAX_MESSAGE_BYTES);
      expect(m.length - 4).toBeLessThan(1024 * 1024);
    }
    const decoded = pythonDecode(Buffer.concat(msgs)).flatMap((d) => d.points);
    expect(decoded.map((p) => p[0])).toEqual(P);
    expect(decoded.map((p) => p[4])).toEqual(V.map(hex));

    const enc = new PickleEncoder();
    const huge = 'h'.repeat(MAX_MESSAGE_BYTES);
    const r = enc.encode([huge, 'ok'], [1, 2], [1, 2], 0, 2);
    expect(r).toMatchObject({ count: 0, oversize: 1 });
    const r2 = enc.encode(['ok', huge], [1, 2], [1, 2], 0, 2);
    expect(r2).toMatchObject({ count: 1, oversize: 0 });
  });
});

describe('plaintext encoder', () => {
  it('writes `path value timestamp` lines Python reads back exactly', () => {
    const P = ['a.b', 'c.ü', 'd.e', 'f.g'];
    const V = [0.1, -2.5e-300, Infinity, -Infinity];
    const r = encodePlaintext(P, [10, 20, 30, 40], V, 0, 4);
    expect(r.count).toBe(4);
    const text = r.bytes.toString('utf8');
    expect(text).toBe('a.b 0.1 10\nc.ü -2.5e-300 20\nd.e inf 30\nf.g -inf 40\n');
    // Parse as carbon's MetricLineReceiver does.
    const py = execFileSync(
      'python3',
      [
        '-c',
        `
import sys, struct
for line in sys.stdin.buffer.read().split(b'\\n')[:-1]:
    m, v, t = line.decode('utf-8').strip().split()
    print(m, struct.pack('>d', float(v)).hex(), float(t))
`,
      ],
      { input: r.bytes },
    ).toString();
    expect(py.trim().split('\n')).toEqual(P.map((p, i) => `${p} ${hex(V[i]!)} ${(i + 1) * 10}.0`));
  });

  it('never sends a line longer than carbon accepts', () => {
    const long = 'x'.repeat(MAX_LINE_BYTES);
    expect(encodePlaintext([long], [1], [1], 0, 1)).toMatchObject({ count: 0, oversize: 1 });
    expect(encodePlaintext(['ok', long], [1, 1], [1, 1], 0, 2)).toMatchObject({ count: 1 });
  });
});

/** A series name from pollect's dotted id, as the core builds it: `<collection>.<Type>.<value>`. */
function sname(id: string): SeriesName {
  const [collection = '', source = '', ...rest] = id.split('.');
  return rest.length ? { collection, source, value: rest.join('.'), id } : { collection, source, id };
}

describe('paths', () => {
  it("appends label values in label order to the series' parts", () => {
    const b = new PathBuilder();
    expect(b.path(sname('pollect.LoadAvg.short'), {})).toBe('pollect.LoadAvg.short');
    expect(b.path(sname('pollect.Disk.free'), { mount: '/var/lib', dev: 'sda1' })).toBe('pollect.Disk.free._var_lib.sda1');
    expect(b.path(sname('pollect.Disk.free'), { dev: 'sda1', mount: '/var/lib' })).toBe('pollect.Disk.free.sda1._var_lib');
    expect(new PathBuilder({ prefix: 'servers.web01.' }).path(sname('c.T'), { a: 'x' })).toBe('servers.web01.c.T.x');
    const named: SeriesName = { collection: 'pollect', source: 'Http', instance: 'shop', value: 'status', id: 'pollect.Http.shop.status' };
    expect(b.path(named, { code: '200' })).toBe('pollect.Http.shop.status.200');
  });

  it('gives ordinary names the same path as their dotted id, dots in a part staying levels', () => {
    const names: SeriesName[] = [
      sname('pollect.LoadAvg'),
      sname('pollect.Tegrastats.ram.used'),
      { collection: 'pollect', source: 'Docker', instance: 'web', value: 'cpu.percent', id: 'pollect.Docker.web.cpu.percent' },
      { collection: 'servers.web01', source: 'Cpu', instance: 'all', id: 'servers.web01.Cpu.all' },
      selfSeriesName('pollect.writer.written_total'),
      selfSeriesName('nodejs.heap_size.used_bytes'),
    ];
    for (const n of names) expect(seriesPath(n)).toBe(sanitizeDotted(n.id));
    expect(seriesPath(selfSeriesName('pollect.source.success'))).toBe('pollect.source.success');
  });

  it('sanitises what would break carbon, the plaintext line or graphite-web', () => {
    expect(sanitizeSegment('a.b c;d')).toBe('a_b_c_d');
    expect(sanitizeSegment('line\nbreak\r\ttab\u0000nul')).toBe('line_break__tab_nul');
    // Python's str.split() also splits on these; carbon's line receiver would see 4 fields.
    expect(sanitizeSegment('a\u00a0b\u2028c\u3000d\u001ce\u0085f')).toBe('a_b_c_d_e_f');
    expect(sanitizeSegment('x/y\\z*?[a]{b}(c),"d\'')).toBe('x_y_z___a__b__c___d_');
    expect(sanitizeSegment('')).toBe('_');
    expect(sanitizeSegment('~tilde')).toBe('_tilde');
    expect(sanitizeSegment('Zürich-温度_ok:1#2')).toBe('Zürich-温度_ok:1#2');
    expect(sanitizeSegment('bad\ud800surrogate')).toBe('bad_surrogate');
    const long = sanitizeSegment('é'.repeat(300));
    expect(Buffer.byteLength(long)).toBeLessThanOrEqual(200);
    expect(sanitizeSegment('é'.repeat(301))).not.toBe(long); // the hash keeps them apart
    const b = new PathBuilder();
    const odd: SeriesName = { collection: 'my coll', source: 'Type/x', instance: 'a..b', value: 'value ', id: 'my coll.Type/x.a..b.value ' };
    expect(b.path(odd, { a: '' })).toBe('my_coll.Type_x.a._.b.value_._');
  });

  it('builds Graphite 1.1 tagged series with tags: true', () => {
    const b = new PathBuilder({ tags: true, prefix: 'pre' });
    expect(b.path(sname('pollect.Disk.free'), { mount: '/var/lib', dev: 'sda.1' })).toBe('pre.pollect.Disk.free;dev=sda.1;mount=/var/lib');
    expect(b.path(sname('c.T'), {})).toBe('pre.c.T');
    // `name` is the series name in Graphite; empty values are not allowed; `~` may not start a value.
    expect(b.path(sname('c.T'), { name: 'n', empty: '', 'a;b=c!d^e': '~x;y z' })).toBe('pre.c.T;a_b_c_d_e=_x_y_z;name_=n');
  });
});

// ---------------------------------------------------------------------------------------------
// Config

const SCHEMA = writerParamsSchema(GraphiteWriter.schema, 'Graphite');

/** The writer's params as the config loader hands them over: checked, defaults filled in. */
function configOf(params: Record<string, unknown>): GraphiteConfig {
  const data = { type: 'Graphite', ...params };
  expect(validate(SCHEMA, data, [])).toEqual([]);
  return data as GraphiteConfig;
}

describe('Graphite config', () => {
  it('fills the defaults once, in the schema, the common bufferSize included', () => {
    expect(configOf({})).toMatchObject({ host: 'localhost', protocol: 'pickle', tags: false, bufferSize: 100_000, resendWindow: 30, writeTimeout: 30 });
  });

  it('rejects what cannot work, with the param named (so --check finds it)', () => {
    const at = (fn: () => unknown) => {
      try {
        fn();
      } catch (err) {
        expect(err).toBeInstanceOf(ParamError);
        return `${(err as ParamError).param}: ${(err as Error).message}`;
      }
      return 'no error';
    };
    expect(at(() => new GraphiteWriter(configOf({ port: 2004, picklePort: 2005 })))).toBe('picklePort: port (2004) and picklePort (2005) disagree; give one');
    expect(at(() => new GraphiteWriter(configOf({ protocol: 'plaintext', picklePort: 2004 })))).toMatch(/^picklePort: .*use port/);
    // The Python pollect's key still works.
    expect(at(() => new GraphiteWriter(configOf({ picklePort: 2104 })))).toBe('no error');
    expect(validate(SCHEMA, { type: 'Graphite', protocol: 'json' }, ['w'])).toHaveLength(1);
    expect(validate(SCHEMA, { type: 'Graphite', port: 70000 }, ['w'])).toHaveLength(1);
    expect(validate(SCHEMA, { type: 'Graphite', bufferSize: 0 }, ['w'])).toHaveLength(1);
  });
});

// ---------------------------------------------------------------------------------------------
// The writer against a real carbon-cache
interface Carbon {
  dir: string;
  pickle: number;
  line: number;
  query: number;
  daemon: Daemon | null;
  start(): Promise<void>;
  stop(signal?: NodeJS.Signals): Promise<void>;
}

async function makeCarbon(dir: string): Promise<Carbon> {
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
function whisperValues(carbon: Carbon, metric: string, from: number, until: number): Map<number, number | null> {
  const file = metricFile(carbon, metric);
  const out = new Map<number, number | null>();
  if (!existsSync(file)) return out;
  const json = execFileSync('whisper-fetch', ['--json', `--from=${from - 1}`, `--until=${until}`, file]).toString();
  // whisper-fetch writes bare inf/nan; keep them as strings for JSON.parse.
  const data = JSON.parse(json.replace(/-?\b(inf|nan)\b/g, (m) => `"${m}"`)) as { start: number; step: number; values: (number | string | null)[] };
  data.values.forEach((v, i) =>
    out.set(data.start + i * data.step, typeof v === 'string' ? (v.includes('nan') ? NaN : v.startsWith('-') ? -Infinity : Infinity) : v),
  );
  return out;
}

/** Where carbon keeps a metric: dots become directories; tagged series go by hash. */
function metricFile(carbon: Carbon, metric: string): string {
  const root = path.join(carbon.dir, 'storage', 'whisper');
  if (metric.includes(';')) {
    const h = createHash('sha256').update(metric).digest('hex');
    return path.join(root, '_tagged', h.slice(0, 3), h.slice(3, 6), `${h}.wsp`);
  }
  return path.join(root, ...metric.split('.')) + '.wsp';
}

/** Polls until every expected datapoint is in whisper (bounded); returns what is missing. */
async function waitForWhisper(carbon: Carbon, expected: Map<string, Map<number, number>>, timeoutMs = 15_000): Promise<string[]> {
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

function point(id: string, value: number, tsSeconds: number, labels: Record<string, string> = {}): Point {
  return { name: sname(id), value, labels, type: 'gauge', timestamp: tsSeconds * 1000 + 123, source: id };
}

function batch(points: Point[]): Batch {
  return { collection: 'test', timestamp: points[0]?.timestamp ?? 0, points, sources: [] };
}

interface Harness {
  writer: GraphiteWriter;
  runtime: WriterRuntime;
  lines: string[];
  /** The core's flush and stop, with a deadline `ms` from now. */
  flush(ms?: number): Promise<void>;
  stop(ms?: number): Promise<void>;
}

/** A started Graphite writer behind the core's runtime, as the daemon runs it, with quick retries. */
function graphite(params: Record<string, unknown>, id = 'Graphite#test'): Harness {
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

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Waits (bounded) until `cond` holds; the writer itself never polls, the test reads its state. */
async function until(cond: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (!cond() && Date.now() < end) await sleep(20);
  return cond();
}

describe.skipIf(!needs('carbon-cache', 'whisper-fetch'))('Graphite writer against carbon-cache', () => {
  let tmp: ReturnType<typeof tempDir>;
  let carbon: Carbon;
  // Whole seconds in the past, inside the 1-day retention; each test takes its own range.
  const base = Math.floor(Date.now() / 1000) - 30_000;

  beforeAll(async () => {
    tmp = tempDir('pollect-carbon-');
    carbon = await makeCarbon(tmp.dir);
    await carbon.start();
  });

  afterAll(async () => {
    await carbon?.stop();
    tmp?.remove();
  });

  it('delivers pickle datapoints with exact values and timestamps; NaN is dropped and counted', async () => {
    const g = graphite({ port: carbon.pickle, prefix: 'pk' });
    const expected = new Map<string, Map<number, number>>();
    const series: [string, Record<string, string>, (t: number) => number][] = [
      ['pollect.LoadAvg.short', {}, (t) => t / 7],
      ['pollect.Disk.free', { mount: '/var/lib', dev: 'sda 1' }, (t) => -t * 1.25e9],
      ['pollect.Température.value', { city: 'Zürich' }, (t) => (t % 2 ? Infinity : 0.1)],
      ['pollect.Neg.zero', {}, () => -0],
    ];
    for (let k = 0; k < 5; k++) {
      const t = base + k;
      g.runtime.add(batch(series.map(([n, l, f]) => point(n, f(t), t, l))));
    }
    g.runtime.add(batch([point('pollect.Nan.value', NaN, base)]));
    for (const [n, l, f] of series) {
      const m = new Map<number, number>();
      for (let k = 0; k < 5; k++) m.set(base + k, f(base + k));
      const p =
        'pk.' +
        n +
        Object.values(l)
          .map((v) => '.' + sanitizeSegment(v))
          .join('');
      expected.set(p, m);
    }
    expect([...expected.keys()]).toContain('pk.pollect.Disk.free._var_lib.sda_1');
    await g.flush();
    expect(await waitForWhisper(carbon, expected)).toEqual([]);
    expect(g.runtime.stats()).toMatchObject({ written: 20, dropped: 1, queueLength: 0, errors: 0 });
    expect(g.writer.status().connected).toBe(true);
    expect(existsSync(metricFile(carbon, 'pk.pollect.Nan.value'))).toBe(false);
    await g.stop();
  });

  it('delivers plaintext datapoints with exact values and timestamps', async () => {
    const g = graphite({ port: carbon.line, protocol: 'plaintext', prefix: 'pl' });
    const t0 = base + 100;
    const expected = new Map<string, Map<number, number>>([
      ['pl.c.Plain.a', new Map()],
      ['pl.c.Plain.b.x_y', new Map()],
    ]);
    for (let k = 0; k < 5; k++) {
      const t = t0 + k;
      const a = 1 / (k + 3);
      const b = -(10 ** (k * 50)) * 1.1;
      g.runtime.add(batch([point('c.Plain.a', a, t), point('c.Plain.b', b, t, { l: 'x y' })]));
      expected.get('pl.c.Plain.a')!.set(t, a);
      expected.get('pl.c.Plain.b.x_y')!.set(t, b);
    }
    await g.flush();
    expect(await waitForWhisper(carbon, expected)).toEqual([]);
    expect(g.runtime.stats()).toMatchObject({ written: 10, dropped: 0, queueLength: 0 });
    await g.stop();
  });

  it('sends tagged series that carbon stores as such (tags: true)', async () => {
    for (const protocol of ['pickle', 'plaintext'] as const) {
      const g = graphite({ port: protocol === 'pickle' ? carbon.pickle : carbon.line, protocol, tags: true, prefix: 'tg' });
      const t = base + 200 + (protocol === 'pickle' ? 0 : 10);
      g.runtime.add(batch([point('pollect.Disk.free', 42.5, t, { mount: '/var/lib', dev: `sda.1.${protocol}` })]));
      await g.flush();
      // Carbon normalises (sorts) the tags and files the series under _tagged/ by its hash.
      const name = `tg.pollect.Disk.free;dev=sda.1.${protocol};mount=/var/lib`;
      expect(await waitForWhisper(carbon, new Map([[name, new Map([[t, 42.5]])]]))).toEqual([]);
      await g.stop();
    }
  });

  it('stop() delivers what is queued and carbon confirms it by closing; with carbon gone it ends at the deadline', async () => {
    const g = graphite({ port: carbon.pickle, prefix: 'st' });
    const t0 = base + 300;
    const expected = new Map<string, Map<number, number>>([['st.c.Stop.v', new Map()]]);
    // 600 one-point batches handed over at once: most still queued when stop() is called.
    for (let k = 0; k < 600; k++) {
      expected.get('st.c.Stop.v')!.set(t0 + k, k * 3);
      g.runtime.add(batch([point('c.Stop.v', k * 3, t0 + k)]));
    }
    await g.stop();
    expect(g.runtime.stats()).toMatchObject({ written: 600, dropped: 0, queueLength: 0 });
    expect(g.lines.filter((l) => l.includes(' WARN ') || l.includes(' ERROR '))).toEqual([]);
    expect(await waitForWhisper(carbon, expected)).toEqual([]);

    // Nothing listens: write() fails with the reason, logged once however often the core retries.
    const gone = graphite({ port: await freePort() }, 'Graphite#gone');
    gone.runtime.add(batch([point('c.Stop.lost', 1, t0), point('c.Stop.lost', 2, t0 + 1)]));
    expect(await until(() => gone.runtime.errors >= 3, 5000)).toBe(true);
    const errors = gone.lines.filter((l) => l.includes(' ERROR '));
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/writer Graphite#gone: cannot reach carbon at 127\.0\.0\.1:\d+ \(pickle\): connection refused/);
    const began = Date.now();
    await gone.stop(500);
    expect(Date.now() - began).toBeLessThan(3000); // a 0.5 s deadline, with slack for a loaded machine
    expect(gone.runtime.stats()).toMatchObject({ written: 0, dropped: 2, queueLength: 0 });
    expect(gone.lines.some((l) => l.includes('Graphite#gone') && l.includes('2 point(s) not written'))).toBe(true);
  });

  it('loses nothing through a carbon outage, resends what the kernel took but carbon never read, and a small buffer drops only the oldest', async () => {
    const big = graphite({ port: carbon.pickle, prefix: 'out' }, 'Graphite#big');
    const small = graphite({ port: carbon.pickle, prefix: 'small', bufferSize: 30 }, 'Graphite#small');
    const t0 = base + 1000;
    const S = 4;
    const value = (tick: number, s: number) => tick * 10 + s + 0.5;
    let tick = 0;
    const writeTick = () => {
      const pts = Array.from({ length: S }, (_, s) => point(`c.Out.s${s}`, value(tick, s), t0 + tick));
      big.runtime.add(batch(pts));
      small.runtime.add(batch(pts));
      tick++;
    };
    const ticks = async (n: number) => {
      for (let k = 0; k < n; k++) {
        writeTick();
        await sleep(150);
      }
    };
    await ticks(5);
    await Promise.all([big.flush(), small.flush()]);
    // Carbon stops reading: the kernel still takes three ticks, which carbon never reads.
    const pid = carbon.daemon!.child.pid!;
    process.kill(pid, 'SIGSTOP');
    await ticks(3);
    expect(big.writer.pending()).toBe(0);
    expect(big.writer.status().unconfirmed).toBeGreaterThanOrEqual(3 * S);
    await carbon.stop('SIGKILL');
    const killed = tick;
    await ticks(20);
    expect(big.writer.status().connected).toBe(false);
    expect(big.runtime.stats().queueLength).toBeGreaterThanOrEqual(18 * S);
    await carbon.start();
    await ticks(5);
    await Promise.all([big.flush(20_000), small.flush(20_000)]);

    const expected = new Map<string, Map<number, number>>();
    for (let s = 0; s < S; s++) {
      const m = new Map<number, number>();
      for (let k = 0; k < tick; k++) m.set(t0 + k, value(k, s));
      expected.set(`out.c.Out.s${s}`, m);
    }
    expect(await waitForWhisper(carbon, expected, 20_000)).toEqual([]);
    expect(big.runtime.stats()).toMatchObject({ written: tick * S, dropped: 0, queueLength: 0 });
    expect(big.writer.status().resent).toBeGreaterThanOrEqual(3 * S);
    // One warning when the connection went, one error (the core's) however often writes failed,
    // and one line each when writing and the connection came back.
    const lines = big.lines.filter((l) => !l.includes(' DEBUG '));
    expect(lines.filter((l) => l.includes(' WARN '))).toEqual([expect.stringContaining('writer Graphite#big: lost the connection')]);
    expect(lines.filter((l) => l.includes(' ERROR '))).toEqual([expect.stringContaining('writer Graphite#big: cannot reach carbon')]);
    expect(lines.filter((l) => l.includes(' INFO ') && l.includes('writing again'))).toHaveLength(1);
    expect(lines.filter((l) => l.includes(' INFO ') && l.includes('connected to'))).toHaveLength(1);

    // The small buffer (30 points, for the core's buffer and for what the writer keeps to send
    // again) kept the newest: in write order, what is missing comes before one unbroken run to
    // the end, at least 30 long.
    const got = Array.from({ length: S }, (_, s) => whisperValues(carbon, `small.c.Out.s${s}`, t0, t0 + tick - 1));
    const sequence: boolean[] = [];
    for (let k = 0; k < tick; k++) for (let s = 0; s < S; s++) sequence.push(Object.is(got[s]!.get(t0 + k), value(k, s)));
    const lastMissing = sequence.lastIndexOf(false);
    expect(lastMissing).toBeGreaterThan(killed * S);
    expect(sequence.length - lastMissing - 1).toBeGreaterThanOrEqual(30);
    expect(small.runtime.stats().dropped).toBeGreaterThan(0);
    await Promise.all([big.stop(), small.stop()]);
  }, 60_000);

  it('delivers every tick through a proxy that resets the connection after every 20-200 KB (issue 17)', async () => {
    // A proxy, NAT or load balancer with a byte cap: it forwards a random 20-200 KB of each
    // connection to carbon, then resets the pollect side.
    let seed = 42;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    let resets = 0;
    const proxy = net.createServer((client) => {
      const upstream = net.connect(carbon.pickle, '127.0.0.1');
      let left = 20_000 + Math.floor(random() * 180_000);
      client.on('data', (d: Buffer) => {
        if (left <= 0) return;
        if (d.length < left) {
          upstream.write(d);
          left -= d.length;
          return;
        }
        upstream.end(d.subarray(0, left));
        left = 0;
        resets++;
        client.resetAndDestroy();
      });
      client.on('error', () => {});
      upstream.on('error', () => {});
      client.on('close', () => upstream.end());
    });
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
    const g = graphite({ port: (proxy.address() as net.AddressInfo).port, prefix: 'rst' }, 'Graphite#reset');
    // 60 ticks of 302 points (two series, 151 seconds each, so that whisper-fetch reads each once).
    const t0 = base + 12_000;
    const K = 60;
    const N = 151;
    const value = (t: number, s: number) => t * 2 + s + 0.5;
    for (let k = 0; k < K; k++) {
      const pts: Point[] = [];
      for (let s = 0; s < 2; s++) for (let j = 0; j < N; j++) pts.push(point(`c.Reset.s${s}`, value(k * N + j, s), t0 + k * N + j));
      g.runtime.add(batch(pts));
      await sleep(50);
    }
    await g.flush(30_000);
    const expected = new Map<string, Map<number, number>>();
    for (let s = 0; s < 2; s++) {
      const m = new Map<number, number>();
      for (let i = 0; i < K * N; i++) m.set(t0 + i, value(i, s));
      expected.set(`rst.c.Reset.s${s}`, m);
    }
    const missing = await waitForWhisper(carbon, expected, 20_000);
    expect(resets).toBeGreaterThanOrEqual(5);
    expect(missing.length, missing.slice(0, 5).join(', ')).toBe(0);
    expect(g.runtime.stats()).toMatchObject({ written: K * N * 2, dropped: 0 });
    // However often it was reset: one warning, one line when it delivered again.
    expect(g.lines.filter((l) => l.includes(' WARN '))).toHaveLength(1);
    expect(g.lines.filter((l) => l.includes(' INFO '))).toHaveLength(1);
    await g.stop();
    proxy.close();
  }, 60_000);

  it("sends pollect's own metrics (sources, writers, process) to a Graphite user", async () => {
    const lines: string[] = [];
    const log = createLogger('', { level: 'warn', write: (l) => lines.push(l) });
    const config = await buildConfig(
      {
        tickTime: 1,
        writer: { type: 'Graphite', host: '127.0.0.1', port: carbon.pickle, prefix: 'self' },
        executors: [{ collection: 'sm', sources: [{ type: 'Dummy', value: 7 }] }],
      },
      path.join(tmp.dir, 'pollect.json'),
    );
    const from = Math.floor(Date.now() / 1000);
    expect(await new Pollect(config, { log }).runOnce()).toBe(true);
    const until = Math.floor(Date.now() / 1000) + 1;
    /** The series' last stored value in this run, waiting (bounded) for carbon to write it. */
    const last = async (metric: string): Promise<number | undefined> => {
      const end = Date.now() + 15_000;
      for (;;) {
        const v = [...whisperValues(carbon, metric, from, until).values()].filter((x) => x !== null).pop();
        if (v !== undefined || Date.now() > end) return v ?? undefined;
        await sleep(250);
      }
    };
    expect(await last('self.sm.Dummy')).toBe(7);
    expect(await last('self.pollect.source.success.sm.sm_Dummy.Dummy')).toBe(1);
    expect(await last('self.pollect.source.errors_total.sm.sm_Dummy.Dummy')).toBe(0);
    expect(await last('self.pollect.writer.dropped_total.Graphite')).toBe(0);
    expect(await last('self.pollect.writer.queue_length.Graphite')).toBeGreaterThanOrEqual(0);
    expect(await last('self.process.cpu.seconds_total')).toBeGreaterThan(0);
    expect(lines).toEqual([]);
  });
});

describe('Graphite writer against a carbon that stopped reading (issue 17, item 7)', () => {
  it('stop() ends at its deadline, counting what it could not deliver, instead of waiting writeTimeout twice', async () => {
    // Accepts and never reads: the kernel's buffers fill, then every write waits.
    const held: net.Socket[] = [];
    const server = net.createServer((s) => {
      s.pause();
      held.push(s);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as net.AddressInfo).port;
    try {
      const g = graphite({ port, bufferSize: 200_000 }, 'Graphite#stalled');
      const t0 = Math.floor(Date.now() / 1000);
      // 100 batches of 1,000 points with long paths: about 10 MB of pickle, far beyond loopback buffers.
      const total = 100 * 1000;
      for (let b = 0; b < 100; b++) {
        const points: Point[] = [];
        for (let k = 0; k < 1000; k++) points.push(point(`c.Stalled.series_${k}_${'x'.repeat(60)}`, b * k, t0 + b));
        g.runtime.add(batch(points));
      }
      expect(await until(() => held.length === 1, 5000)).toBe(true);
      const began = Date.now();
      await g.stop(1000);
      const took = Date.now() - began;
      // writeTimeout defaults to 30 s: waiting it (once in flush, once in stop) took 20-60 s before.
      expect(took).toBeGreaterThanOrEqual(900);
      expect(took).toBeLessThan(3000); // a 1 s deadline, with slack for a loaded machine
      const stats = g.runtime.stats();
      expect(stats.queueLength).toBe(0);
      expect(stats.dropped).toBeGreaterThan(0);
      expect(stats.written + stats.dropped).toBe(total);
      expect(g.lines.some((l) => l.includes('Graphite#stalled') && l.includes('not written'))).toBe(true);
    } finally {
      for (const s of held) s.destroy();
      await new Promise((r) => server.close(r));
    }
  });
});
