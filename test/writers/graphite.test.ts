// Graphite writer: the pickle encoder checked by Python's own unpicklers, path building, and the
// writer end to end against a real carbon-cache (pickle, plaintext, tags, stop, an outage).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, writeFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { PickleEncoder, MAX_MESSAGE_BYTES } from '../../src/writers/graphite/pickle.js';
import { encodePlaintext, MAX_LINE_BYTES } from '../../src/writers/graphite/plaintext.js';
import { PathBuilder, sanitizeSegment } from '../../src/writers/graphite/path.js';
import { GraphiteWriter, type GraphiteConfig } from '../../src/writers/graphite/index.js';
import type { Batch, Point, WriterContext } from '../../src/sdk/index.js';
import { createLogger } from '../../src/log.js';
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
  const script = String.raw`
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
    const paths = [
      'pollect.LoadAvg.short',
      'pollect.Température.Zürich',
      'pollect.温度.センサー',
      'pollect.emoji.😀🚀',
      'a',
      'x'.repeat(70_000),
    ];
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
    const msgs = encodeAll(P, P.map(() => 1), P.map(() => 1));
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
    const py = execFileSync('python3', ['-c', `
import sys, struct
for line in sys.stdin.buffer.read().split(b'\\n')[:-1]:
    m, v, t = line.decode('utf-8').strip().split()
    print(m, struct.pack('>d', float(v)).hex(), float(t))
`], { input: r.bytes }).toString();
    expect(py.trim().split('\n')).toEqual(P.map((p, i) => `${p} ${hex(V[i]!)} ${(i + 1) * 10}.0`));
  });

  it('never sends a line longer than carbon accepts', () => {
    const long = 'x'.repeat(MAX_LINE_BYTES);
    expect(encodePlaintext([long], [1], [1], 0, 1)).toMatchObject({ count: 0, oversize: 1 });
    expect(encodePlaintext(['ok', long], [1, 1], [1, 1], 0, 2)).toMatchObject({ count: 1 });
  });
});

describe('paths', () => {
  it("appends label values in label order to pollect's name", () => {
    const b = new PathBuilder();
    expect(b.path('pollect.LoadAvg.short', {})).toBe('pollect.LoadAvg.short');
    expect(b.path('pollect.Disk.free', { mount: '/var/lib', dev: 'sda1' })).toBe('pollect.Disk.free._var_lib.sda1');
    expect(b.path('pollect.Disk.free', { dev: 'sda1', mount: '/var/lib' })).toBe('pollect.Disk.free.sda1._var_lib');
    expect(new PathBuilder({ prefix: 'servers.web01.' }).path('c.T', { a: 'x' })).toBe('servers.web01.c.T.x');
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
    expect(b.path('my coll..Type.value ', { a: '' })).toBe('my_coll._.Type.value_._');
  });

  it('builds Graphite 1.1 tagged series with tags: true', () => {
    const b = new PathBuilder({ tags: true, prefix: 'pre' });
    expect(b.path('pollect.Disk.free', { mount: '/var/lib', dev: 'sda.1' })).toBe('pre.pollect.Disk.free;dev=sda.1;mount=/var/lib');
    expect(b.path('c.T', {})).toBe('pre.c.T');
    // `name` is the series name in Graphite; empty values are not allowed; `~` may not start a value.
    expect(b.path('c.T', { name: 'n', empty: '', 'a;b=c!d^e': '~x;y z' })).toBe('pre.c.T;a_b_c_d_e=_x_y_z;name_=n');
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
  data.values.forEach((v, i) => out.set(data.start + i * data.step, typeof v === 'string' ? (v.includes('nan') ? NaN : v.startsWith('-') ? -Infinity : Infinity) : v));
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

function point(name: string, value: number, tsSeconds: number, labels: Record<string, string> = {}): Point {
  return { name, value, labels, type: 'gauge', timestamp: tsSeconds * 1000 + 123, source: name };
}

function batch(points: Point[]): Batch {
  return { collection: 'test', timestamp: points[0]?.timestamp ?? 0, points, sources: [] };
}

function context(lines: string[]): WriterContext {
  return { log: createLogger('', { level: 'debug', write: (l) => lines.push(l) }), configDir: process.cwd(), allWriterStats: () => [] };
}

function writer(config: Omit<GraphiteConfig, 'type'>, lines: string[] = [], id = 'Graphite#test'): GraphiteWriter {
  const w = new GraphiteWriter({ type: 'Graphite', host: '127.0.0.1', reconnectMin: 0.05, reconnectMax: 0.3, ...config });
  w.id = id;
  w.start(context(lines));
  return w;
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

  it('delivers pickle datapoints with exact values and timestamps', async () => {
    const w = writer({ port: carbon.pickle, prefix: 'pk' });
    const expected = new Map<string, Map<number, number>>();
    const series: [string, Record<string, string>, (t: number) => number][] = [
      ['pollect.LoadAvg.short', {}, (t) => t / 7],
      ['pollect.Disk.free', { mount: '/var/lib', dev: 'sda 1' }, (t) => -t * 1.25e9],
      ['pollect.Température.value', { city: 'Zürich' }, (t) => (t % 2 ? Infinity : 0.1)],
      ['pollect.Neg.zero', {}, () => -0],
    ];
    for (let k = 0; k < 5; k++) {
      const t = base + k;
      w.write(batch(series.map(([n, l, f]) => point(n, f(t), t, l))));
    }
    w.write(batch([point('pollect.Nan.value', NaN, base)]));
    for (const [n, l, f] of series) {
      const m = new Map<number, number>();
      for (let k = 0; k < 5; k++) m.set(base + k, f(base + k));
      const p = 'pk.' + n + Object.values(l).map((v) => '.' + sanitizeSegment(v)).join('');
      expected.set(p, m);
    }
    expect([...expected.keys()]).toContain('pk.pollect.Disk.free._var_lib.sda_1');
    await w.flush();
    expect(await waitForWhisper(carbon, expected)).toEqual([]);
    expect(w.stats()).toMatchObject({ written: 20, dropped: 0, queueLength: 0, skipped: 1, connected: true });
    expect(existsSync(metricFile(carbon, 'pk.pollect.Nan.value'))).toBe(false);
    await w.stop();
  });

  it('delivers plaintext datapoints with exact values and timestamps', async () => {
    const w = writer({ port: carbon.line, protocol: 'plaintext', prefix: 'pl' });
    const t0 = base + 100;
    const expected = new Map<string, Map<number, number>>([
      ['pl.c.Plain.a', new Map()],
      ['pl.c.Plain.b.x_y', new Map()],
    ]);
    for (let k = 0; k < 5; k++) {
      const t = t0 + k;
      const a = 1 / (k + 3);
      const b = -(10 ** (k * 50)) * 1.1;
      w.write(batch([point('c.Plain.a', a, t), point('c.Plain.b', b, t, { l: 'x y' })]));
      expected.get('pl.c.Plain.a')!.set(t, a);
      expected.get('pl.c.Plain.b.x_y')!.set(t, b);
    }
    await w.flush();
    expect(await waitForWhisper(carbon, expected)).toEqual([]);
    expect(w.stats()).toMatchObject({ written: 10, dropped: 0, queueLength: 0 });
    await w.stop();
  });

  it('sends tagged series that carbon stores as such (tags: true)', async () => {
    for (const protocol of ['pickle', 'plaintext'] as const) {
      const w = writer({ port: protocol === 'pickle' ? carbon.pickle : carbon.line, protocol, tags: true, prefix: 'tg' });
      const t = base + 200 + (protocol === 'pickle' ? 0 : 10);
      w.write(batch([point('pollect.Disk.free', 42.5, t, { mount: '/var/lib', dev: `sda.1.${protocol}` })]));
      await w.flush();
      // Carbon normalises (sorts) the tags and files the series under _tagged/ by its hash.
      const name = `tg.pollect.Disk.free;dev=sda.1.${protocol};mount=/var/lib`;
      expect(await waitForWhisper(carbon, new Map([[name, new Map([[t, 42.5]])]]))).toEqual([]);
      await w.stop();
    }
  });

  it('stop() delivers what is still queued, and gives up at its deadline when carbon is gone', async () => {
    const w = writer({ port: carbon.pickle, prefix: 'st' });
    const t0 = base + 300;
    const expected = new Map<string, Map<number, number>>([['st.c.Stop.v', new Map()]]);
    // 600 datapoints, written in one go: two messages still queued when stop() is called.
    for (let k = 0; k < 600; k++) {
      expected.get('st.c.Stop.v')!.set(t0 + k, k * 3);
      w.write(batch([point('c.Stop.v', k * 3, t0 + k)]));
    }
    await w.stop();
    expect(w.stats()).toMatchObject({ dropped: 0, queueLength: 0 });
    expect(await waitForWhisper(carbon, expected)).toEqual([]);

    const lines: string[] = [];
    const nowhere = await freePort();
    const w2 = writer({ port: nowhere, flushTimeout: 0.5 }, lines);
    w2.write(batch([point('c.Stop.lost', 1, t0), point('c.Stop.lost', 2, t0 + 1)]));
    const began = Date.now();
    await w2.stop();
    expect(Date.now() - began).toBeLessThan(5000); // flushTimeout 0.5 s: a deadline, with slack for a loaded machine
    expect(w2.stats()).toMatchObject({ dropped: 2, queueLength: 0 });
    expect(lines.some((l) => l.includes('Graphite#test') && l.includes('2 datapoints not delivered'))).toBe(true);
  });

  it('logs a refused connection once per outage, naming the writer, and keeps retrying', async () => {
    const lines: string[] = [];
    const nowhere = await freePort();
    const w = writer({ port: nowhere, reconnectMin: 0.02, reconnectMax: 0.05, flushTimeout: 0.2 }, lines, 'Graphite#refused');
    w.write(batch([point('c.R.v', 1, base)]));
    await new Promise((r) => setTimeout(r, 800));
    const errors = lines.filter((l) => l.includes(' ERROR '));
    expect(errors).toHaveLength(1);
    expect(errors[0]).toContain('Graphite#refused');
    expect(errors[0]).toContain(`127.0.0.1:${nowhere}`);
    expect(errors[0]).toContain('connection refused');
    expect(w.stats().errors).toBeGreaterThanOrEqual(4);
    expect(w.stats()).toMatchObject({ queueLength: 1, connected: false, dropped: 0 });
    await w.stop();
  });

  it('rejects contradictory config with a message naming the writer', () => {
    expect(() => new GraphiteWriter({ type: 'Graphite', port: 2004, picklePort: 2005 })).toThrow(/Graphite writer: port .* picklePort/);
    expect(() => new GraphiteWriter({ type: 'Graphite', protocol: 'plaintext', picklePort: 2004 })).toThrow(/Graphite writer/);
    expect(() => new GraphiteWriter({ type: 'Graphite', protocol: 'json' as 'pickle' })).toThrow(/Graphite writer: protocol/);
    // The Python pollect's key still works.
    expect(new GraphiteWriter({ type: 'Graphite', picklePort: 2104 }).stats().queueLength).toBe(0);
  });

  it.each([['SIGTERM', 1000], ['SIGKILL', 2000]] as const)('loses nothing across a carbon outage (%s) of 15 ticks, and a small buffer drops only the oldest', async (signal, offset) => {
    const lines: string[] = [];
    const big = writer({ port: carbon.pickle, prefix: `out${signal}` }, lines, 'Graphite#big');
    const small = writer({ port: carbon.pickle, prefix: `small${signal}`, bufferSize: 30 }, [], 'Graphite#small');
    const t0 = base + offset;
    const S = 4;
    const value = (tick: number, s: number) => tick * 10 + s + 0.5;
    let tick = 0;
    const writeTick = () => {
      const pts = Array.from({ length: S }, (_, s) => point(`c.Out.s${s}`, value(tick, s), t0 + tick));
      big.write(batch(pts));
      small.write(batch(pts));
      tick++;
    };
    const pause = () => new Promise((r) => setTimeout(r, 150));
    for (let k = 0; k < 5; k++) {
      writeTick();
      await pause();
    }
    await carbon.stop(signal);
    const outageStart = tick;
    for (let k = 0; k < 15; k++) {
      writeTick();
      await pause();
    }
    const outageEnd = tick;
    expect(big.stats().connected).toBe(false);
    expect(big.stats().queueLength).toBeGreaterThanOrEqual((outageEnd - outageStart - 1) * S);
    await carbon.start();
    // Carbon is back: keep ticking while the writers reconnect.
    for (let k = 0; k < 5; k++) {
      writeTick();
      await pause();
    }
    const until = Date.now() + 10_000;
    while ((!big.stats().connected || big.stats().queueLength > 0) && Date.now() < until) await pause();
    await big.flush();
    await small.flush();

    const expected = new Map<string, Map<number, number>>();
    for (let s = 0; s < S; s++) {
      const m = new Map<number, number>();
      for (let k = 0; k < tick; k++) m.set(t0 + k, value(k, s));
      expected.set(`out${signal}.c.Out.s${s}`, m);
    }
    expect(await waitForWhisper(carbon, expected, 20_000)).toEqual([]);
    expect(big.stats()).toMatchObject({ dropped: 0, queueLength: 0 });
    // One warning when the connection went, one error for the failed reconnects, one info at the end.
    const big1 = lines.filter((l) => l.includes('Graphite#big'));
    expect(big1.filter((l) => l.includes(' WARN ') && l.includes('lost the connection'))).toHaveLength(1);
    expect(big1.filter((l) => l.includes(' ERROR ') && l.includes('connection refused'))).toHaveLength(1);
    expect(lines.some((l) => l.includes(' INFO ') && l.includes('Graphite#big') && l.includes('connected'))).toBe(true);

    // The small buffer (30) kept only the newest datapoints: in write order, what arrived from
    // the outage on is one unbroken run to the end, at least 30 long, and the rest was counted.
    const sequence: boolean[] = [];
    const got = Array.from({ length: S }, (_, s) => whisperValues(carbon, `small${signal}.c.Out.s${s}`, t0 + outageStart, t0 + tick - 1));
    for (let k = outageStart; k < tick; k++) for (let s = 0; s < S; s++) sequence.push(Object.is(got[s]!.get(t0 + k), value(k, s)));
    const firstKept = sequence.indexOf(true);
    expect(firstKept).toBeGreaterThan(0);
    expect(sequence.slice(firstKept).every(Boolean)).toBe(true);
    expect(sequence.length - firstKept).toBeGreaterThanOrEqual(30);
    expect(small.stats().dropped).toBeGreaterThanOrEqual(firstKept);
    await big.stop();
    await small.stop();
  }, 60_000);

  it('replaces a connection that carbon stopped reading from (SIGSTOP) and resends what it held', async () => {
    const lines: string[] = [];
    const w = writer({ port: carbon.pickle, prefix: 'hang', writeTimeout: 1 }, lines, 'Graphite#hang');
    const t0 = base + 5000;
    const waitFor = async (cond: () => boolean, ms: number) => {
      const until = Date.now() + ms;
      while (!cond() && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
      return cond();
    };
    w.write(batch([point('c.Hang.warm', 1, t0)]));
    expect(await waitFor(() => w.stats().connected && w.stats().queueLength === 0, 5000)).toBe(true);
    const pid = carbon.daemon!.child.pid!;
    // About 11 MB of messages: more than Node's buffer and both kernel socket buffers hold.
    const S = 8;
    const K = 9000;
    const long = 'x'.repeat(120);
    const value = (k: number, s: number) => k * S + s + 0.25;
    process.kill(pid, 'SIGSTOP');
    try {
      for (let k = 0; k < K; k++) {
        w.write(batch(Array.from({ length: S }, (_, s) => point(`c.Hang.${long}.s${s}`, value(k, s), t0 + 1 + k))));
      }
      expect(await waitFor(() => lines.some((l) => l.includes('took no data for 1 s')), 15_000)).toBe(true);
    } finally {
      process.kill(pid, 'SIGCONT');
    }
    expect(await waitFor(() => w.stats().connected && w.stats().queueLength === 0, 30_000)).toBe(true);
    await w.flush();
    const expected = new Map<string, Map<number, number>>();
    for (let s = 0; s < S; s++) {
      const m = new Map<number, number>();
      for (let k = 0; k < K; k++) m.set(t0 + 1 + k, value(k, s));
      expected.set(`hang.c.Hang.${long}.s${s}`, m);
    }
    expect(await waitForWhisper(carbon, expected, 30_000)).toEqual([]);
    expect(w.stats()).toMatchObject({ dropped: 0 });
    expect(w.stats().resent).toBeGreaterThan(0);
    // One warning for the hang however often the replacement connections hung again.
    expect(lines.filter((l) => l.includes(' WARN ') && l.includes('Graphite#hang'))).toHaveLength(1);
    await w.stop();
  }, 60_000);
});
