// Influx writer: line protocol escaping, the config checks, and the writer against a real InfluxDB
// 1.x (Debian's influxd), queried back, hostile label values included; 2.x-style requests against
// a local receiver that checks what the API needs; and an outage of the real server.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { InfluxWriter, refusedLines, type InfluxConfig } from '../../src/writers/influx/index.js';
import { escapeKey, escapeMeasurement, seriesKey, timestamp } from '../../src/writers/influx/line.js';
import { writerParamsSchema } from '../../src/config/schema.js';
import { WriterRuntime } from '../../src/executors/writer-runtime.js';
import { createLogger } from '../../src/log.js';
import { ParamError, RetryLaterError, type Labels, type WriterContext } from '../../src/sdk/index.js';
import { validate } from '../helpers/validate.js';
import { batch, point, seriesName } from '../helpers/points.js';
import { needs } from '../helpers/servers.js';
import { influxd, type Influxd } from '../helpers/influxd.js';
import { freePort } from '../helpers/net.js';
import { victoriaMetrics, type Tsdb } from '../helpers/tsdb.js';

const SCHEMA = writerParamsSchema(InfluxWriter.schema, 'Influx');

function configOf(params: Record<string, unknown>): InfluxConfig {
  const data = { type: 'Influx', ...params };
  expect(validate(SCHEMA, data, [])).toEqual([]);
  return data as InfluxConfig;
}

function logged(): { lines: string[]; ctx: WriterContext } {
  const lines: string[] = [];
  const log = createLogger('', { level: 'debug', write: (l) => lines.push(l) });
  return { lines, ctx: { configDir: '.', tickTime: 1, log, reportDropped: () => {} } };
}

function writer(params: Record<string, unknown>): { w: InfluxWriter; lines: string[] } {
  const { lines, ctx } = logged();
  const w = new InfluxWriter(configOf(params), ctx);
  w.id = 'Influx#1';
  w.start(ctx);
  return { w, lines };
}

// Label values a source may pass on from the outside world (a disk label, a container name).
const HOSTILE: Record<string, string> = {
  space: 'a b',
  comma: 'a,b',
  equals: 'a=b',
  all: ' ,= x=1,y=2 z ',
  quotes: `"q" 'q'`,
  backslash: 'C:\\Temp\\x',
  escaped: 'a\\,b\\ c\\=d',
  unicode: 'Zürich 東京 \u2028',
  tab: 'a\tb',
  hash: '#not a comment',
  injection: 'x value=666 1\nevil,host=a value=1',
  trailing: 'C:\\',
};

/** What InfluxDB keeps of a label value: line breaks become spaces, backslashes that would escape go. */
function kept(v: string): string {
  return v.replace(/[\r\n]+/g, ' ').replace(/\\+(?=[, =]|$)/g, '');
}

describe('line protocol', () => {
  it('escapes what the parser splits on, and nothing else', () => {
    expect(escapeMeasurement('pollect.Http.shop 1,x=y')).toBe('pollect.Http.shop\\ 1\\,x=y');
    expect(escapeMeasurement('#c.T')).toBe('_c.T');
    expect(escapeKey('a b,c=d\\e')).toBe('a\\ b\\,c\\=d\\e');
    expect(escapeKey('C:\\x\\, y\\\\=z\\')).toBe('C:\\x\\,\\ y\\=z');
    expect(escapeKey('line\r\nbreak\\\\')).toBe('line\\ break');
    const labels: Labels = { z: '1', time: 'short', 'a b': 'x y', empty: '' };
    expect(seriesKey(seriesName('c.LoadAvg'), labels)).toBe('c.LoadAvg,a\\ b=x\\ y,time_=short,z=1');
  });

  it('writes timestamps in the precision asked, exactly (ns stamps exceed 2^53)', () => {
    const ms = 1_700_000_000_123;
    expect(['s', 'ms', 'us', 'ns'].map((p) => timestamp(ms, p as 's'))).toEqual(['1700000000', '1700000000123', '1700000000123000', '1700000000123000000']);
  });

  it('counts the lines InfluxDB refused from its answer (messages of a real influxd 1.6)', () => {
    const partial =
      '400 Bad Request: {"error":"partial write: unable to parse \'e1,i=0,v=C:\\\\ value=1 1700000000000\': invalid tag format\\nunable to parse \'e1,i=14,v=a\\\\ value=1 1700000000000\': invalid tag format dropped=0"}';
    expect(refusedLines(partial, 15)).toBe(2);
    expect(
      refusedLines('400 Bad Request: {"error":"partial write: invalid tag key: input tag \\"time\\" on measurement \\"m\\" is invalid dropped=1"}', 3),
    ).toBe(1);
    expect(refusedLines('404 Not Found: {"error":"database not found: \\"nope\\""}', 7)).toBe(7);
  });
});

describe('Influx config', () => {
  const at = (fn: () => unknown): string => {
    try {
      fn();
    } catch (err) {
      expect(err).toBeInstanceOf(ParamError);
      return `${(err as ParamError).param}: ${(err as Error).message}`;
    }
    return 'no error';
  };

  it('fills the defaults from the schema', () => {
    expect(configOf({ url: 'http://h:8086', database: 'd' })).toMatchObject({ precision: 'ms', batchSize: 5000, timeout: 10, bufferSize: 100_000 });
  });

  it('rejects what cannot work, naming the param', () => {
    const make = (p: Record<string, unknown>) => () => new InfluxWriter(configOf(p));
    expect(at(make({ url: 'http://h:8086' }))).toBe('database: give database (InfluxDB 1.x) or bucket (InfluxDB 2.x)');
    expect(at(make({ url: 'http://h:8086', database: 'd', bucket: 'b' }))).toBe('bucket: give database (InfluxDB 1.x) or bucket (2.x), not both');
    expect(at(make({ url: 'http://h:8086', database: 'd', org: 'o' }))).toBe('org: org is for InfluxDB 2.x (with bucket)');
    expect(at(make({ url: 'http://h:8086', bucket: 'b', retentionPolicy: 'r' }))).toMatch(/^retentionPolicy: /);
    expect(at(make({ url: 'h:8086', database: 'd' }))).toMatch(/^url: the URL must start with http:\/\/ or https:\/\//);
    expect(at(make({ url: 'http://h:8086', database: 'd', password: 'p' }))).toBe('password: a password needs a username');
    expect(at(make({ url: 'http://h:8086', database: 'd', token: 't', username: 'u' }))).toMatch(/^token: /);
    expect(at(make({ url: 'http://h:8086', database: 'd', tls: { ca: 'ca.pem' } }))).toBe('tls: tls is for https:// URLs');
    expect(at(make({ url: 'https://h:8086', database: 'd', tls: { cert: 'c.pem' } }))).toBe('tls.key: a client certificate needs both cert and key');
    expect(at(make({ url: 'https://h:8086', database: 'd', tls: { ca: 'no-such-ca.pem' } }))).toMatch(/^tls\.ca: cannot read .*no-such-ca\.pem: no such file/);
    expect(validate(SCHEMA, { type: 'Influx', url: 'http://h', database: 'd', precision: 'h' }, ['w'])).toHaveLength(1);
    expect(validate(SCHEMA, { type: 'Influx', database: 'd' }, ['writers', 0])[0]).toMatch(/^writers\[0\]/);
  });
});

/** A local HTTP server that records requests and answers with `reply`. */
async function receiver(reply: (req: http.IncomingMessage, body: string) => { status: number; headers?: Record<string, string>; body?: string }) {
  const got: { url: string; headers: http.IncomingHttpHeaders; body: string }[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      got.push({ url: req.url ?? '', headers: req.headers, body });
      const r = reply(req, body);
      res.writeHead(r.status, r.headers);
      res.end(r.body ?? '');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { url, got, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

describe('Influx writer over HTTP (local receiver)', () => {
  it('2.x: POSTs to /api/v2/write with org, bucket, precision and the token; a base path is kept', async () => {
    const r = await receiver(() => ({ status: 204 }));
    const { w } = writer({ url: `${r.url}/proxy/influx`, bucket: 'b 1', org: 'my org', token: 'secret-token', precision: 's', headers: { 'X-Extra': 'yes' } });
    await w.write(batch([point('c.T.v', 1.5, { host: 'h' }, 1_700_000_000_999)]));
    expect(r.got).toHaveLength(1);
    expect(r.got[0]!.url).toBe('/proxy/influx/api/v2/write?org=my+org&bucket=b+1&precision=s');
    expect(r.got[0]!.headers.authorization).toBe('Token secret-token');
    expect(r.got[0]!.headers['x-extra']).toBe('yes');
    expect(r.got[0]!.headers['content-type']).toBe('text/plain; charset=utf-8');
    expect(r.got[0]!.body).toBe('c.T.v,host=h value=1.5 1700000000\n');
    w.stop();
    await r.close();
  });

  it('splits a batch into batchSize lines per request; a retry after a failed request sends only the rest', async () => {
    // The second request fails: the first two lines were taken.
    let n = 0;
    const r = await receiver(() => (++n === 2 ? { status: 503, headers: { 'Retry-After': '7' }, body: 'busy' } : { status: 204 }));
    const { w } = writer({ url: r.url, database: 'd', batchSize: 2, username: 'u', password: 'pw' });
    const b = batch([0, 1, 2, 3, 4].map((i) => point(`c.T.v${i}`, i)));
    const err = await w.write(b).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RetryLaterError);
    expect((err as RetryLaterError).retryAfterMs).toBe(7000);
    expect((err as Error).message).toMatch(/answered 503 Service Unavailable: busy \(retrying after 7 s\)/);
    await w.write(b);
    const bodies = r.got.map((g) => g.body);
    expect(bodies).toEqual([
      'c.T.v0 value=0 1700000000000\nc.T.v1 value=1 1700000000000\n',
      'c.T.v2 value=2 1700000000000\nc.T.v3 value=3 1700000000000\n',
      'c.T.v2 value=2 1700000000000\nc.T.v3 value=3 1700000000000\n',
      'c.T.v4 value=4 1700000000000\n',
    ]);
    expect(r.got[0]!.url).toBe('/write?db=d&precision=ms');
    expect(r.got[0]!.headers.authorization).toBe(`Basic ${Buffer.from('u:pw').toString('base64')}`);
    w.stop();
    await r.close();
  });

  it('a refused request (4xx) is dropped and logged once; a 429 and an unreachable server throw to be retried', async () => {
    let status = 400;
    const r = await receiver(() => ({ status, body: '{"error":"bad"}' }));
    const { w, lines } = writer({ url: r.url, database: 'd' });
    const b = () => batch([point('c.T.a', 1), point('c.T.b', Number.NaN), point('c.T.c', Infinity)]);
    expect(await w.write(b())).toEqual({ dropped: 3 });
    expect(await w.write(b())).toEqual({ dropped: 3 });
    expect(lines.filter((l) => l.includes('refused 1 of 1 line(s): 400 Bad Request: {"error":"bad"}; counted as dropped'))).toHaveLength(1);
    expect(lines.filter((l) => l.includes('NaN and infinite values are not sent'))).toHaveLength(1);
    status = 429;
    await expect(w.write(b())).rejects.toThrow(/answered 429 Too Many Requests/);
    w.stop();
    await r.close();
    const port = await freePort();
    const { w: down } = writer({ url: `http://127.0.0.1:${port}`, database: 'd' });
    await expect(down.write(b())).rejects.toThrow(`cannot reach http://127.0.0.1:${port}/write: connection refused`);
    down.stop();
  });
});

describe.skipIf(!needs('influxd'))('Influx writer against a real InfluxDB 1.x', () => {
  let db: Influxd;
  beforeAll(async () => {
    db = await influxd();
    await db.start();
    await db.query('', 'CREATE DATABASE pollect');
  }, 30_000);
  afterAll(async () => {
    await db?.remove();
  });

  it('stores every value and every hostile label value, read back with InfluxQL', async () => {
    const { w, lines } = writer({ url: db.url, database: 'pollect' });
    const t = 1_700_000_000_000;
    const points = Object.entries(HOSTILE).map(([k, v], i) => point('c.Http.hostile', i + 0.25, { kind: k, v }, t));
    points.push(point('c.Odd name, with=signs', 1e21, { 'label key, with=signs': 'x' }, t));
    points.push(point('c.LoadAvg', 0.5, { time: 'short' }, t));
    expect(await w.write(batch(points))).toBeUndefined();
    expect(lines.filter((l) => l.includes('WARN'))).toEqual([]);
    const rows = (await db.query('pollect', 'SELECT "value", "kind", "v" FROM "c.Http.hostile"'))[0]!.values;
    const got = Object.fromEntries(rows.map((r) => [r[2] as string, { value: r[1], v: r[3] }]));
    for (const [i, [k, v]] of Object.entries(HOSTILE).entries()) {
      expect(got[k], k).toEqual({ value: i + 0.25, v: kept(v) });
    }
    // Nothing was injected: one measurement for the hostile values, no `evil`.
    const names = (await db.query('pollect', 'SHOW MEASUREMENTS'))[0]!.values.map((r) => r[0]);
    expect(names.sort()).toEqual(['c.Http.hostile', 'c.LoadAvg', 'c.Odd name, with=signs']);
    const odd = (await db.query('pollect', 'SELECT * FROM "c.Odd name, with=signs"'))[0]!;
    expect(odd.columns).toEqual(['time', 'label key, with=signs', 'value']);
    expect(odd.values[0]!.slice(1)).toEqual(['x', 1e21]);
    const load = (await db.query('pollect', 'SELECT * FROM "c.LoadAvg"'))[0]!;
    expect(load.columns).toEqual(['time', 'time_', 'value']);
    w.stop();
  });

  it('writes each precision so that the stored time is the tick (s rounds down)', async () => {
    const t = 1_700_000_001_234;
    for (const precision of ['s', 'ms', 'us', 'ns']) {
      const { w } = writer({ url: db.url, database: 'pollect', precision });
      await w.write(batch([point('c.Prec.v', 1, { precision }, t)]));
      w.stop();
    }
    const rows = (await db.query('pollect', 'SELECT "value", "precision" FROM "c.Prec.v"'))[0]!.values;
    expect(Object.fromEntries(rows.map((r) => [r[2], r[0]]))).toEqual({
      s: '2023-11-14T22:13:21Z',
      ms: '2023-11-14T22:13:21.234Z',
      us: '2023-11-14T22:13:21.234Z',
      ns: '2023-11-14T22:13:21.234Z',
    });
  });

  it("a database that does not exist: dropped, said once with the server's reason", async () => {
    const { w, lines } = writer({ url: db.url, database: 'nope' });
    expect(await w.write(batch([point('c.T.v', 1)]))).toEqual({ dropped: 1 });
    expect(await w.write(batch([point('c.T.v', 2)]))).toEqual({ dropped: 1 });
    expect(lines.filter((l) => l.includes('refused 1 of 1 line(s): 404 Not Found: {"error":"database not found: \\"nope\\""}'))).toHaveLength(1);
    w.stop();
  });

  it('an outage: influxd stopped for a while at a 100 ms tick, then back: every point is stored', async () => {
    const { lines, ctx } = logged();
    const w = new InfluxWriter(configOf({ url: db.url, database: 'pollect', timeout: 1 }), ctx);
    w.id = 'Influx#outage';
    const rt = new WriterRuntime(w, { bufferSize: 100_000, log: ctx.log, retryMinMs: 50, retryMaxMs: 200 });
    const ticks = 40;
    const series = 25;
    const t0 = 1_700_000_100_000;
    for (let tick = 0; tick < ticks; tick++) {
      if (tick === 10) await db.stop();
      if (tick === 30) await db.start();
      rt.add(batch(Array.from({ length: series }, (_, i) => point('c.Outage.v', tick, { i: String(i) }, t0 + tick * 1000))));
      await new Promise((r) => setTimeout(r, 100));
    }
    await rt.stop(Date.now() + 10_000);
    expect(rt.stats()).toMatchObject({ written: ticks * series, dropped: 0 });
    expect(rt.stats().errors).toBeGreaterThan(0);
    const count = (await db.query('pollect', 'SELECT count("value") FROM "c.Outage.v"'))[0]!.values[0]![1];
    expect(count).toBe(ticks * series);
    expect(lines.filter((l) => l.includes('ERROR') && l.includes('cannot reach'))).toHaveLength(1);
    expect(lines.filter((l) => l.includes('writing again after'))).toHaveLength(1);
  }, 30_000);
});

describe.skipIf(!needs('victoria-metrics'))('Influx writer, 2.x API, against a real VictoriaMetrics', () => {
  let vm: Tsdb;
  beforeAll(async () => {
    vm = await victoriaMetrics();
    await vm.start();
  }, 30_000);
  afterAll(async () => {
    await vm?.remove();
  });

  it('/api/v2/write with org, bucket and token: every hostile label value arrives as InfluxDB keeps it', async () => {
    const { w, lines } = writer({ url: vm.url, org: 'ops', bucket: 'hosts', token: 'tok' });
    const t = Date.now() - 60_000;
    const points = Object.entries(HOSTILE).map(([k, v], i) => point('c.Http.hostile', i + 0.25, { kind: k, v }, t));
    expect(await w.write(batch(points))).toBeUndefined();
    expect(lines.filter((l) => l.includes('WARN'))).toEqual([]);
    // VictoriaMetrics names a field `<measurement>_<field>`.
    let result: Awaited<ReturnType<Tsdb['query']>> = [];
    for (let i = 0; i < 75 && result.length < points.length; i++) {
      result = await vm.query('{__name__="c.Http.hostile_value"}', t / 1000);
      if (result.length < points.length) await new Promise((r) => setTimeout(r, 200));
    }
    const got = Object.fromEntries(result.map((s) => [s.metric.kind, { v: s.metric.v, value: Number(s.value[1]) }]));
    expect(got).toEqual(Object.fromEntries(Object.entries(HOSTILE).map(([k, v], i) => [k, { v: kept(v), value: i + 0.25 }])));
    w.stop();
  }, 30_000);
});
