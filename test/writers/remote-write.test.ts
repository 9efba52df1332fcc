// PrometheusRemoteWrite writer: the WriteRequest checked by protobufjs with the remote_write proto,
// the requests a local receiver sees (headers, auth, TLS client certificates, batching, retry and
// refusal), and the writer against a real Prometheus (remote-write receiver) and a real
// VictoriaMetrics, queried back, with an outage of VictoriaMetrics.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import http from 'node:http';
import https from 'node:https';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { RemoteWriteWriter, type RemoteWriteConfig } from '../../src/writers/remote-write/index.js';
import { remoteTypes } from '../../src/writers/remote-write/proto.js';
import { loadSnappy } from '../../src/writers/remote-write/snappy.js';
import { RemoteWriteEncoder } from '../../src/writers/remote-write/encode.js';
import { createNamer } from '../../src/writers/prometheus/naming.js';
import { writerParamsSchema } from '../../src/config/schema.js';
import { WriterRuntime } from '../../src/executors/writer-runtime.js';
import { createLogger } from '../../src/log.js';
import { ParamError, RetryLaterError, type Point, type WriterContext } from '../../src/sdk/index.js';
import { validate } from '../helpers/validate.js';
import { batch, point, seriesName } from '../helpers/points.js';
import { needs } from '../helpers/servers.js';
import { selfSigned } from '../helpers/certs.js';
import { tempDir } from '../helpers/net.js';
import { prometheusReceiver, victoriaMetrics, type Tsdb } from '../helpers/tsdb.js';

const SCHEMA = writerParamsSchema(RemoteWriteWriter.schema, 'PrometheusRemoteWrite');
const { compress, uncompress } = await loadSnappy();

function configOf(params: Record<string, unknown>): RemoteWriteConfig {
  const data = { type: 'PrometheusRemoteWrite', ...params };
  expect(validate(SCHEMA, data, [])).toEqual([]);
  return data as RemoteWriteConfig;
}

interface Started {
  w: RemoteWriteWriter;
  lines: string[];
  /** What the writer reported lost after taking it (reportDropped). */
  lost: number[];
  ctx: WriterContext;
  /** The core's runtime around it, batching as the daemon has it (batchWait, batchSize from the config). */
  runtime: (opts?: { retryMinMs?: number; retryMaxMs?: number }) => WriterRuntime;
}

async function writer(params: Record<string, unknown>, configDir = '.'): Promise<Started> {
  const lines: string[] = [];
  const lost: number[] = [];
  const log = createLogger('', { level: 'debug', write: (l) => lines.push(l) });
  const ctx: WriterContext = { configDir, tickTime: 1, log, reportDropped: (n) => lost.push(n) };
  const config = configOf(params);
  const w = new RemoteWriteWriter(config, ctx);
  w.id = 'PrometheusRemoteWrite#1';
  await w.start(ctx);
  const runtime = (opts = {}) => new WriterRuntime(w, { bufferSize: 100_000, log, batchWaitMs: config.batchWait * 1000, batchSize: config.batchSize, ...opts });
  return { w, lines, lost, ctx, runtime };
}

interface Decoded {
  timeseries: { labels: { name: string; value: string }[]; samples: { value: number; timestamp: number }[] }[];
}

async function decode(body: Buffer): Promise<Decoded> {
  const { WriteRequest } = await remoteTypes();
  const msg = WriteRequest.decode(Buffer.from(uncompress(body)));
  return WriteRequest.toObject(msg, { longs: Number, defaults: true }) as Decoded;
}

/** A series as `name{a="b",...}` (labels but __name__ in their order) with its samples. */
function show(d: Decoded): string[] {
  return d.timeseries.map((t) => {
    const name = t.labels.find((l) => l.name === '__name__')?.value;
    const labels = t.labels.filter((l) => l.name !== '__name__').map((l) => `${l.name}=${JSON.stringify(l.value)}`);
    return `${name}{${labels.join(',')}} ${t.samples.map((s) => `${s.value}@${s.timestamp}`).join(' ')}`;
  });
}

interface Got {
  url: string;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

/** A local receiver (HTTP, or HTTPS with `tls`) that records requests and answers with `reply`. */
async function receiver(
  reply: (n: number) => { status: number; headers?: Record<string, string>; body?: string } = () => ({ status: 204 }),
  tls?: https.ServerOptions,
) {
  const got: Got[] = [];
  const handler = (req: http.IncomingMessage, res: http.ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (d: Buffer) => chunks.push(d));
    req.on('end', () => {
      got.push({ url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks) });
      const r = reply(got.length);
      res.writeHead(r.status, r.headers);
      res.end(r.body ?? '');
    });
  };
  const server = tls ? https.createServer(tls, handler) : http.createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `${tls ? 'https' : 'http'}://127.0.0.1:${(server.address() as AddressInfo).port}/api/v1/write`;
  return { url, got, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

describe('remote_write encoding', () => {
  it('one TimeSeries per sample: __name__ and labels sorted by name, named as the Prometheus writer names them', async () => {
    const r = await receiver();
    const { w } = await writer({ url: r.url, batchWait: 0 });
    const t = 1_700_000_000_123;
    await w.write(
      batch([
        point('c.LoadAvg', 0.5, { time: 'short' }, t),
        point('c.Http.shop', 1, { 'Zeta key': 'z', alpha: 'a "quoted" \\ value\n', empty: '', __name__: 'evil' }, t),
        point('c.T.requests', 12, {}, t, { type: 'counter' }),
      ]),
    );
    expect(r.got).toHaveLength(1);
    const d = await decode(r.got[0]!.body);
    expect(show(d)).toEqual([
      'c_LoadAvg{time="short"} 0.5@1700000000123',
      'c_Http_shop{Zeta_key="z",alpha="a \\"quoted\\" \\\\ value\\n",label__name__="evil"} 1@1700000000123',
      'c_T_requests{} 12@1700000000123',
    ]);
    // Sorted by byte order: `Zeta_key` < `__name__` < `alpha`.
    expect(d.timeseries[1]!.labels.map((l) => l.name)).toEqual(['Zeta_key', '__name__', 'alpha', 'label__name__']);
    w.stop();
    await r.close();
  });

  it('prometheus naming: snake_case, the declared unit in base form with the value scaled, _total on counters', async () => {
    const r = await receiver();
    const { w } = await writer({ url: r.url, batchWait: 0, naming: 'prometheus' });
    await w.write(
      batch([
        point('c.Http.response_time_ms', 250, { statusCode: '200' }, undefined, { unit: 'ms' }),
        point('c.Net.bytes', 10, {}, undefined, { type: 'counter', unit: 'bytes' }),
      ]),
    );
    expect(show(await decode(r.got[0]!.body))).toEqual([
      'c_http_response_time_seconds{status_code="200"} 0.25@1700000000000',
      'c_net_bytes_total{} 10@1700000000000',
    ]);
    w.stop();
    await r.close();
  });
});

describe('remote_write label cache', () => {
  it('finds a series by its labels object or, for a new object, by its content; never mixes two series', async () => {
    const [types, pb] = await Promise.all([remoteTypes(), import('protobufjs')]);
    const enc = new RemoteWriteEncoder(createNamer('pollect'), types.Label, pb.default);
    const a = seriesName('c.T.a');
    const b = seriesName('c.T.b');
    const shared = { host: 'h1' };
    const first = enc.series(point('c.T.a', 1, shared, undefined, { name: a }));
    // The same labels object, or a new one with the same content: the same bytes.
    expect(enc.series(point('c.T.a', 2, shared, undefined, { name: a }))).toBe(first);
    expect(enc.series(point('c.T.a', 3, { host: 'h1' }, undefined, { name: a }))).toBe(first);
    // Another series with the same labels object, other content, or another type: other bytes.
    const other = enc.series(point('c.T.b', 1, shared, undefined, { name: b }));
    expect(other).not.toBe(first);
    expect(enc.series(point('c.T.a', 1, shared, undefined, { name: a }))).toBe(first);
    expect(enc.series(point('c.T.a', 1, { host: 'h2' }, undefined, { name: a }))).not.toBe(first);
    expect(enc.series(point('c.T.a', 1, shared, undefined, { name: a, type: 'counter' })).type).toBe('counter');
    const d = await decode(Buffer.from(compress(enc.encode([point('c.T.a', 1, shared, 5, { name: a }), point('c.T.b', 2, shared, 6, { name: b })]))));
    expect(show(d)).toEqual(['c_T_a{host="h1"} 1@5', 'c_T_b{host="h1"} 2@6']);
  });
});

describe('PrometheusRemoteWrite requests (local receiver)', () => {
  it('sends the remote_write headers, basic auth and extra headers (a tenant header)', async () => {
    const r = await receiver();
    const { w } = await writer({ url: r.url, batchWait: 0, username: 'u', password: 'pw', headers: { 'X-Scope-OrgID': 'tenant-1' } });
    await w.write(batch([point('c.T.v', 1)]));
    expect(r.got[0]!.headers).toMatchObject({
      'content-type': 'application/x-protobuf',
      'content-encoding': 'snappy',
      'x-prometheus-remote-write-version': '0.1.0',
      authorization: `Basic ${Buffer.from('u:pw').toString('base64')}`,
      'x-scope-orgid': 'tenant-1',
    });
    w.stop();
    await r.close();
  });

  it('over TLS with a client certificate, and a bearer token', async () => {
    const tmp = tempDir();
    const server = selfSigned(tmp.dir, { key: 'server-key.pem', cert: 'server.pem' });
    const client = selfSigned(tmp.dir, { key: 'client-key.pem', cert: 'client.pem', cn: 'pollect' });
    const read = (f: string) => readFileSync(path.join(tmp.dir, f));
    const r = await receiver(undefined, { key: read(server.key), cert: read(server.cert), ca: read(client.cert), requestCert: true, rejectUnauthorized: true });
    const { w } = await writer({ url: r.url, batchWait: 0, bearerToken: 'tok-123', tls: { ca: server.cert, cert: client.cert, key: client.key } }, tmp.dir);
    await w.write(batch([point('c.T.v', 1)]));
    expect(r.got[0]!.headers.authorization).toBe('Bearer tok-123');
    w.stop();
    // Without the client certificate the server refuses the handshake: a failure to retry.
    const { w: anon } = await writer({ url: r.url, batchWait: 0, tls: { ca: server.cert } }, tmp.dir);
    await expect(anon.write(batch([point('c.T.v', 1)]))).rejects.toThrow(/cannot reach https:\/\/127\.0\.0\.1:\d+\/api\/v1\/write/);
    anon.stop();
    expect(r.got).toHaveLength(1);
    await r.close();
    tmp.remove();
  });

  it('through the core: small batches wait batchWait and go out in one request; batchSize queued go at once, split by maxSamplesPerSend', async () => {
    const r = await receiver();
    const { runtime } = await writer({ url: r.url, batchWait: 0.2, batchSize: 7, maxSamplesPerSend: 3 });
    const rt = runtime();
    rt.add(batch([point('c.T.a', 1)]));
    rt.add(batch([point('c.T.b', 2)]));
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(r.got).toHaveLength(0);
    expect(rt.stats()).toMatchObject({ written: 0, queueLength: 2 });
    await new Promise((resolve) => setTimeout(resolve, 350));
    expect(r.got).toHaveLength(1);
    expect(show(await decode(r.got[0]!.body))).toEqual(['c_T_a{} 1@1700000000000', 'c_T_b{} 2@1700000000000']);
    // Seven samples at once: due by size, sent as 3 + 3 + 1.
    rt.add(batch(Array.from({ length: 7 }, (_, i) => point(`c.T.n${i}`, i))));
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(r.got).toHaveLength(4);
    const sizes = await Promise.all(r.got.slice(1).map(async (g) => (await decode(g.body)).timeseries.length));
    expect(sizes).toEqual([3, 3, 1]);
    expect(rt.stats()).toMatchObject({ written: 9, queueLength: 0 });
    await rt.stop(Date.now() + 1000);
    await r.close();
  });

  it('5xx and 429 fail the write (with Retry-After); the retried batch is sent once, after what was held', async () => {
    const replies = [{ status: 503 }, { status: 429, headers: { 'Retry-After': '3' } }];
    const r = await receiver((n) => replies[n - 1] ?? { status: 204 });
    const { w } = await writer({ url: r.url, batchWait: 0 });
    const b = batch([point('c.T.a', 1), point('c.T.b', 2)]);
    await expect(w.write(b)).rejects.toThrow(/answered 503 Service Unavailable/);
    const err = await w.write(b).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RetryLaterError);
    expect((err as RetryLaterError).retryAfterMs).toBe(3000);
    expect(w.pending()).toBe(0);
    expect(await w.write(b)).toBeUndefined();
    expect(r.got).toHaveLength(3);
    for (const g of r.got) expect(show(await decode(g.body))).toEqual(['c_T_a{} 1@1700000000000', 'c_T_b{} 2@1700000000000']);
    w.stop();
    await r.close();
  });

  it('a batch split over requests, failing after the first was taken: the retry sends only the rest', async () => {
    const r = await receiver((n) => (n === 2 ? { status: 502 } : { status: 204 }));
    const { w } = await writer({ url: r.url, batchWait: 0, maxSamplesPerSend: 2 });
    const b = batch([point('c.T.a', 1), point('c.T.b', 2), point('c.T.c', 3)]);
    await expect(w.write(b)).rejects.toThrow(/answered 502 Bad Gateway/);
    // What is left is the core's batch, which it counts itself.
    expect(w.pending()).toBe(0);
    expect(await w.write(b)).toBeUndefined();
    const sent = await Promise.all(r.got.map(async (g) => show(await decode(g.body))));
    expect(sent).toEqual([['c_T_a{} 1@1700000000000', 'c_T_b{} 2@1700000000000'], ['c_T_c{} 3@1700000000000'], ['c_T_c{} 3@1700000000000']]);
    w.stop();
    await r.close();
  });

  it('other 4xx: refused for good, dropped and logged once, for batches the core merged as for one', async () => {
    const r = await receiver(() => ({ status: 400, body: 'out of order sample' }));
    const { runtime, lines, lost } = await writer({ url: r.url, batchWait: 10, batchSize: 5, maxSamplesPerSend: 4 });
    const rt = runtime();
    rt.add(batch([point('c.T.a', 1), point('c.T.b', 2)]));
    // Due by size: one write of both batches, in a request of 4 and one of 1.
    rt.add(batch([point('c.T.c', 3), point('c.T.d', 4), point('c.T.e', 5)]));
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(rt.stats()).toMatchObject({ written: 0, dropped: 5, queueLength: 0 });
    expect(lost).toEqual([]);
    expect(r.got).toHaveLength(2);
    expect(lines.filter((l) => l.includes('refused 4 sample(s): 400 Bad Request: out of order sample; counted as dropped'))).toHaveLength(1);
    expect(lines.filter((l) => l.includes('refused'))).toHaveLength(1);
    await rt.stop(Date.now() + 1000);
    await r.close();
  });

  it('through the core: a waiting sample is in the queue, not yet written, and is sent by the flush at stop', async () => {
    const r = await receiver();
    const { runtime } = await writer({ url: r.url, batchWait: 60 });
    const rt = runtime();
    rt.add(batch([point('c.T.a', 1)]));
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(rt.stats()).toMatchObject({ written: 0, queueLength: 1 });
    expect(r.got).toHaveLength(0);
    await rt.stop(Date.now() + 2000);
    expect(r.got).toHaveLength(1);
    expect(rt.stats()).toMatchObject({ written: 1, dropped: 0, queueLength: 0 });
    await r.close();
  });
});

describe('PrometheusRemoteWrite config', () => {
  it('fills the defaults from the schema and checks what it cannot say, naming the param', () => {
    expect(configOf({ url: 'http://h/api/v1/write' })).toMatchObject({
      naming: 'pollect',
      maxSamplesPerSend: 2000,
      batchWait: 1,
      batchSize: 2000,
      timeout: 10,
    });
    const at = (p: Record<string, unknown>): string => {
      try {
        new RemoteWriteWriter(configOf(p));
      } catch (err) {
        expect(err).toBeInstanceOf(ParamError);
        return `${(err as ParamError).param}: ${(err as Error).message}`;
      }
      return 'no error';
    };
    expect(at({ url: 'ftp://h/' })).toBe('url: the URL must start with http:// or https://');
    expect(at({ url: 'http://h/', username: 'u', bearerToken: 't' })).toBe('bearerToken: give basic auth (username) or a bearer token, not both');
    expect(at({ url: 'https://h/', tls: { key: 'k.pem' } })).toBe('tls.cert: a client certificate needs both cert and key');
    expect(validate(SCHEMA, { type: 'PrometheusRemoteWrite', url: 'http://h', naming: 'otel' }, ['writers', 1])).toEqual([
      expect.stringMatching(/^writers\[1\]\.naming: /),
    ]);
    expect(validate(SCHEMA, { type: 'PrometheusRemoteWrite', url: 'http://h', headers: { 'X-Scope-OrgID': 1 } }, ['w'])[0]).toBe(
      'w.headers["X-Scope-OrgID"]: must be a string',
    );
  });
});

// Label values from the outside world, and the names they must come back with.
const HOSTILE: Record<string, string> = {
  quotes: '"q" \'q\'',
  braces: '} x{y="z"',
  newline: 'a\nb',
  backslash: 'C:\\Temp\\',
  unicode: 'Zürich 東京',
  comma: 'a,b=c',
};

/** `n` points of the series `c.Hostile.v`, one per hostile label value, at `t`. */
function hostile(t: number): Point[] {
  return Object.entries(HOSTILE).map(([k, v], i) => point('c.Hostile.v', i, { kind: k, v }, t));
}

async function until<T>(fn: () => Promise<T>, ok: (v: T) => boolean, what: string, db: Tsdb, timeoutMs = 15_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  let last: T | undefined;
  while (Date.now() < end) {
    last = await fn().catch(() => undefined as T);
    if (last !== undefined && ok(last)) return last;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`timed out waiting for ${what}; last: ${JSON.stringify(last)}; server said: ${db.output().slice(-1500)}`);
}

for (const [name, make, binary] of [
  ['Prometheus (remote-write receiver)', prometheusReceiver, 'prometheus'],
  ['VictoriaMetrics', victoriaMetrics, 'victoria-metrics'],
] as const) {
  describe.skipIf(!needs(binary))(`PrometheusRemoteWrite against a real ${name}`, () => {
    let db: Tsdb;
    beforeAll(async () => {
      db = await make();
      await db.start();
    }, 30_000);
    afterAll(async () => {
      await db?.remove();
    });

    it('stores every sample, hostile label values included, read back with PromQL', async () => {
      const { w, lines } = await writer({ url: db.writeUrl, batchWait: 0 });
      const t = Date.now() - 60_000;
      await w.write(batch([...hostile(t), point('c.T.requests', 42, { host: 'h1' }, t, { type: 'counter' })]));
      expect(lines.filter((l) => l.includes('WARN'))).toEqual([]);
      const result = await until(
        () => db.query('c_Hostile_v', t / 1000),
        (r) => r.length === Object.keys(HOSTILE).length,
        'the hostile series',
        db,
      );
      const got = Object.fromEntries(result.map((s) => [s.metric.kind, { v: s.metric.v, value: s.value[1] }]));
      expect(got).toEqual(Object.fromEntries(Object.entries(HOSTILE).map(([k, v], i) => [k, { v, value: String(i) }])));
      const counter = await db.query('c_T_requests', t / 1000);
      expect(counter).toEqual([{ metric: { __name__: 'c_T_requests', host: 'h1' }, value: [t / 1000, '42'] }]);
      w.stop();
    });

    it(`an outage: ${name} stopped for 2 s of a 100 ms tick, then back: every sample is stored`, async () => {
      const { runtime, lines } = await writer({ url: db.writeUrl, batchWait: 0.05, timeout: 1 });
      const rt = runtime({ retryMinMs: 50, retryMaxMs: 200 });
      const ticks = 40;
      const series = 25;
      const t0 = Date.now() - 30 * 60_000;
      for (let tick = 0; tick < ticks; tick++) {
        if (tick === 10) await db.stop();
        if (tick === 30) await db.start();
        rt.add(batch(Array.from({ length: series }, (_, i) => point('c.Outage.v', tick, { i: String(i) }, t0 + tick * 1000))));
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      await rt.stop(Date.now() + 10_000);
      expect(rt.stats()).toMatchObject({ written: ticks * series, dropped: 0 });
      expect(rt.stats().errors).toBeGreaterThan(0);
      const at = (t0 + ticks * 1000) / 1000;
      const counted = await until(
        () => db.query('sum(count_over_time(c_Outage_v[10m]))', at),
        (r) => r[0]?.value[1] === String(ticks * series),
        'every sample of the outage',
        db,
      );
      expect(counted[0]!.value[1]).toBe(String(ticks * series));
      expect(lines.filter((l) => l.includes('ERROR') && l.includes('cannot reach'))).toHaveLength(1);
      expect(lines.filter((l) => l.includes('writing again after'))).toHaveLength(1);
    }, 40_000);
  });
}
