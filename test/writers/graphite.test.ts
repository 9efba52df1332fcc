// Graphite writer: the pickle encoder checked by Python's own unpicklers, path building, and the
// writer behind the core's runtime end to end against a real carbon-cache (pickle, plaintext,
// tags, stop, self-metrics). The outage and the resetting proxy are in graphite-outage.test.ts;
// the send queue and the connection have their own tests.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { PickleEncoder, MAX_MESSAGE_BYTES } from '../../src/writers/graphite/pickle.js';
import { encodePlaintext, MAX_LINE_BYTES } from '../../src/writers/graphite/plaintext.js';
import { PathBuilder, sanitizeDotted, sanitizeSegment, seriesPath } from '../../src/writers/graphite/path.js';
import { GraphiteWriter } from '../../src/writers/graphite/index.js';
import { ParamError, type Point, type SeriesName } from '../../src/sdk/index.js';
import { createLogger } from '../../src/log.js';
import { buildConfig } from '../../src/config/load.js';
import { Daemon as Pollect } from '../../src/executors/daemon.js';
import { selfSeriesName } from '../../src/executors/self-metrics.js';
import { validate } from '../helpers/validate.js';
import { freePort, tempDir } from '../helpers/net.js';
import { needs, python3 } from '../helpers/servers.js';
import {
  batch,
  type Carbon,
  configOf,
  graphite,
  makeCarbon,
  metricFile,
  point,
  SCHEMA,
  sleep,
  sname,
  until,
  waitForWhisper,
  whisperValues,
} from '../helpers/carbon.js';

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
function pythonDecode(bytes: Buffer, python = python3()): Decoded[] {
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
      python3(),
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
// The writer against a real carbon-cache (test/helpers/carbon.ts); the outage and the resetting
// proxy are in graphite-outage.test.ts, with a carbon of their own, so that they run beside these.
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
