// Otel writer: the OTLP/HTTP requests a local receiver decodes with the official OTLP protobuf
// definitions (test/fixtures/otlp-proto; protobuf and JSON, every field of the request, the
// resource attributes), the OTEL_EXPORTER_OTLP_* variables,
// retry and refusal as the OTLP spec has them (Retry-After, partial success), the Python
// pollect's `type: Otel` loading unchanged, and an outage of the receiver.
import { afterEach, describe, expect, it, vi } from 'vitest';
import http from 'node:http';
import os from 'node:os';
import { gunzipSync } from 'node:zlib';
import type { AddressInfo } from 'node:net';
import { OtelWriter, type OtelConfig } from '../../src/writers/otel/index.js';
import { otlpEnv, parseKeyValues } from '../../src/writers/otel/env.js';
import { writerParamsSchema } from '../../src/config/schema.js';
import { WriterRuntime } from '../../src/executors/writer-runtime.js';
import { createLogger } from '../../src/log.js';
import { ParamError, RetryLaterError, type WriterContext } from '../../src/sdk/index.js';
import { validate } from '../helpers/validate.js';
import { batch, point } from '../helpers/points.js';
import { decodeRequest, officialOtlp, unknownJsonKeys } from '../helpers/otlp.js';

const SCHEMA = writerParamsSchema(OtelWriter.schema, 'Otel');

afterEach(() => {
  vi.unstubAllEnvs();
});

function configOf(params: Record<string, unknown>): OtelConfig {
  const data = { type: 'Otel', ...params };
  expect(validate(SCHEMA, data, [])).toEqual([]);
  return data as OtelConfig;
}

async function writer(params: Record<string, unknown>) {
  const lines: string[] = [];
  const log = createLogger('', { level: 'debug', write: (l) => lines.push(l) });
  const ctx: WriterContext = { configDir: '.', tickTime: 1, log, reportDropped: () => {} };
  const w = new OtelWriter(configOf(params), ctx);
  w.id = 'Otel#1';
  await w.start(ctx);
  return { w, lines, ctx };
}

interface Got {
  url: string;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

/** A local OTLP receiver: records requests, answers with `reply`; stop() and start() for an outage on the same port. */
async function receiver(reply: (n: number) => { status: number; headers?: Record<string, string>; body?: string | Buffer } = () => ({ status: 200 })) {
  const got: Got[] = [];
  let server: http.Server;
  let port = 0;
  const start = async () => {
    server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (d: Buffer) => chunks.push(d));
      req.on('end', () => {
        got.push({ url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks) });
        const r = reply(got.length);
        res.writeHead(r.status, r.headers);
        res.end(r.body ?? '');
      });
    });
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  };
  await start();
  const stop = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return { url: `http://127.0.0.1:${port}`, got, start, stop };
}

interface Decoded {
  resourceMetrics: {
    resource: { attributes: { key: string; value: { stringValue: string } }[] };
    scopeMetrics: {
      scope: { name: string };
      metrics: {
        name: string;
        description?: string;
        unit?: string;
        gauge?: { dataPoints: DataPoint[] };
        sum?: { dataPoints: DataPoint[]; aggregationTemporality: number; isMonotonic: boolean };
      }[];
    }[];
  }[];
}
interface DataPoint {
  attributes: { key: string; value: { stringValue: string } }[];
  timeUnixNano: string;
  startTimeUnixNano?: string;
  asDouble: number | string;
}

function decodeProtobuf(body: Buffer): Decoded {
  return decodeRequest(body) as Decoded;
}

const T = 1_700_000_000_123;
const POINTS = () => [
  point('c.LoadAvg', 0.5, { time: 'short' }, T, { help: 'Load average' }),
  point('c.LoadAvg', 0.7, { time: 'mid' }, T),
  point('c.Net.eth-0.bytes', 1234, { dir: 'rx' }, T, { type: 'counter', unit: 'bytes' }),
];

function summary(d: Decoded) {
  const rm = d.resourceMetrics[0]!;
  return {
    resource: Object.fromEntries(rm.resource.attributes.map((a) => [a.key, a.value.stringValue])),
    scope: rm.scopeMetrics[0]!.scope.name,
    metrics: rm.scopeMetrics[0]!.metrics,
  };
}

describe('Otel requests (local receiver)', () => {
  it('protobuf: gauges and cumulative monotonic sums, exact nanosecond stamps, resource attributes; every field as the official schema decodes it', async () => {
    vi.stubEnv('OTEL_RESOURCE_ATTRIBUTES', 'deployment.environment=prod,team=a%20b');
    const r = await receiver();
    const before = BigInt(Date.now()) * 1_000_000n;
    const { w } = await writer({ endpoint: `${r.url}/v1/metrics`, serviceName: 'edge' });
    const after = BigInt(Date.now()) * 1_000_000n;
    await w.write(batch(POINTS()));
    expect(r.got).toHaveLength(1);
    expect(r.got[0]!.url).toBe('/v1/metrics');
    expect(r.got[0]!.headers['content-type']).toBe('application/x-protobuf');
    const decoded = decodeProtobuf(r.got[0]!.body);
    // The counter's start is when the writer started (cumulative since then).
    const start = decoded.resourceMetrics[0]!.scopeMetrics[0]!.metrics[1]!.sum!.dataPoints[0]!.startTimeUnixNano!;
    expect(BigInt(start)).toBeGreaterThanOrEqual(before - 1_000_000n);
    expect(BigInt(start)).toBeLessThanOrEqual(after + 1_000_000n);
    const str = (key: string, value: string) => ({ key, value: { stringValue: value, value: 'stringValue' }, keyStrindex: 0 });
    const dataPoint = (attributes: unknown[], asDouble: number, startTimeUnixNano = '0') => ({
      attributes,
      startTimeUnixNano,
      timeUnixNano: '1700000000123000000',
      asDouble,
      value: 'asDouble',
      exemplars: [],
      flags: 0,
    });
    expect(decoded).toEqual({
      resourceMetrics: [
        {
          resource: {
            attributes: [str('host.name', os.hostname()), str('deployment.environment', 'prod'), str('team', 'a b'), str('service.name', 'edge')],
            droppedAttributesCount: 0,
            entityRefs: [],
          },
          scopeMetrics: [
            {
              scope: { name: 'pollect', version: '', attributes: [], droppedAttributesCount: 0 },
              metrics: [
                {
                  name: 'c_LoadAvg',
                  description: 'Load average',
                  unit: '',
                  metadata: [],
                  data: 'gauge',
                  gauge: { dataPoints: [dataPoint([str('time', 'short')], 0.5), dataPoint([str('time', 'mid')], 0.7)] },
                },
                {
                  name: 'c_Net_eth_0_bytes',
                  description: '',
                  unit: 'By',
                  metadata: [],
                  data: 'sum',
                  sum: { dataPoints: [dataPoint([str('dir', 'rx')], 1234, start)], aggregationTemporality: 2, isMonotonic: true },
                },
              ],
              schemaUrl: '',
            },
          ],
          schemaUrl: '',
        },
      ],
    });
    w.stop();
    await r.stop();
  });

  it('JSON (OTLP/JSON: lowerCamelCase, 64-bit integers as strings, NaN spelled out), gzip: the same request as the protobuf one, no unknown key', async () => {
    const r = await receiver();
    const { w } = await writer({ endpoint: `${r.url}/v1/metrics`, protocol: 'http/json', compression: 'gzip' });
    const { w: pw } = await writer({ endpoint: `${r.url}/v1/metrics` });
    await w.write(batch([...POINTS(), point('c.T.nan', Number.NaN, {}, T)]));
    await pw.write(batch([...POINTS(), point('c.T.nan', Number.NaN, {}, T)]));
    expect(r.got[0]!.headers).toMatchObject({ 'content-type': 'application/json', 'content-encoding': 'gzip' });
    const json = JSON.parse(gunzipSync(r.got[0]!.body).toString('utf8')) as Decoded;
    expect(unknownJsonKeys(json)).toEqual([]);
    const s = summary(json);
    expect(s.metrics.map((m) => m.name)).toEqual(['c_LoadAvg', 'c_Net_eth_0_bytes', 'c_T_nan']);
    expect(s.metrics[1]!.sum).toMatchObject({ aggregationTemporality: 2, isMonotonic: true });
    expect(s.metrics[0]!.gauge!.dataPoints[0]!.timeUnixNano).toBe('1700000000123000000');
    expect(s.metrics[2]!.gauge!.dataPoints[0]!.asDouble).toBe('NaN');
    expect(s.resource['service.name']).toBe('pollect');
    // The JSON, read by the official schema's JSON mapping, is the protobuf request field for field
    // (but the counter's start: each writer's own start time).
    const { Request } = officialOtlp();
    const fromJson = decodeRequest(Request.encode(Request.fromObject(json)).finish());
    const fromProtobuf = decodeProtobuf(r.got[1]!.body);
    const starts = (d: unknown) => JSON.stringify(d).replace(/"startTimeUnixNano":"[1-9]\d*"/g, '"startTimeUnixNano":"<start>"');
    expect(starts(fromJson)).toBe(starts(fromProtobuf));
    // (JSON.stringify writes NaN as null: the NaN itself, read back from both.)
    const nan = (d: unknown) => (d as Decoded).resourceMetrics[0]!.scopeMetrics[0]!.metrics[2]!.gauge!.dataPoints[0]!.asDouble;
    expect(nan(fromJson)).toBeNaN();
    expect(nan(fromProtobuf)).toBeNaN();
    w.stop();
    pw.stop();
    await r.stop();
  });

  it('takes endpoint, headers, timeout, protocol and compression from OTEL_EXPORTER_OTLP_*, the METRICS_ ones first', async () => {
    const r = await receiver();
    vi.stubEnv('OTEL_EXPORTER_OTLP_ENDPOINT', `${r.url}/base/`);
    vi.stubEnv('OTEL_EXPORTER_OTLP_HEADERS', 'api-key=secret%3D1,x-tenant=t1');
    vi.stubEnv('OTEL_EXPORTER_OTLP_METRICS_HEADERS', 'x-tenant=t2');
    vi.stubEnv('OTEL_EXPORTER_OTLP_TIMEOUT', '2500');
    vi.stubEnv('OTEL_EXPORTER_OTLP_METRICS_PROTOCOL', 'http/json');
    vi.stubEnv('OTEL_SERVICE_NAME', 'from-env');
    expect(otlpEnv(process.env)).toMatchObject({
      endpoint: `${r.url}/base/v1/metrics`,
      headers: { 'x-tenant': 't2' },
      timeout: 2.5,
      protocol: 'http/json',
      serviceName: 'from-env',
    });
    // The Python pollect's config: no keys at all.
    const { w } = await writer({});
    await w.write(batch(POINTS()));
    expect(r.got[0]!.url).toBe('/base/v1/metrics');
    expect(r.got[0]!.headers['x-tenant']).toBe('t2');
    expect(r.got[0]!.headers['content-type']).toBe('application/json');
    expect(summary(JSON.parse(r.got[0]!.body.toString()) as Decoded).resource['service.name']).toBe('from-env');
    w.stop();
    vi.stubEnv('OTEL_EXPORTER_OTLP_METRICS_ENDPOINT', `${r.url}/exact`);
    vi.stubEnv('OTEL_EXPORTER_OTLP_METRICS_HEADERS', '');
    const { w: w2 } = await writer({ headers: { 'x-tenant': 'config' }, protocol: 'http/protobuf' });
    await w2.write(batch(POINTS()));
    expect(r.got[1]!.url).toBe('/exact');
    expect(r.got[1]!.headers).toMatchObject({ 'api-key': 'secret=1', 'x-tenant': 'config', 'content-type': 'application/x-protobuf' });
    w2.stop();
    await r.stop();
    expect(parseKeyValues('a=1, b = x%2Cy ,bad,=v,c=%zz')).toEqual({ a: '1', b: 'x,y', c: '%zz' });
  });

  it('429/502/503/504 are retried (Retry-After honoured); other statuses and partial-success rejections are dropped, logged once', async () => {
    const replies: Record<number, { status: number; headers?: Record<string, string>; body?: string | Buffer }> = {
      1: { status: 503, headers: { 'Retry-After': '4' } },
      2: { status: 502 },
      4: { status: 500, body: 'boom' },
      5: { status: 400, body: 'bad' },
      6: { status: 400, body: 'bad' },
    };
    const { Response } = officialOtlp();
    const partial = Buffer.from(Response.encode(Response.fromObject({ partialSuccess: { rejectedDataPoints: 2, errorMessage: 'too old' } })).finish());
    replies[3] = { status: 200, headers: { 'Content-Type': 'application/x-protobuf' }, body: partial };
    const r = await receiver((n) => replies[n] ?? { status: 200 });
    const { w, lines } = await writer({ endpoint: `${r.url}/v1/metrics` });
    const b = batch(POINTS());
    const err = await w.write(b).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RetryLaterError);
    expect((err as RetryLaterError).retryAfterMs).toBe(4000);
    await expect(w.write(b)).rejects.toThrow(/answered 502 Bad Gateway/);
    expect(await w.write(b)).toEqual({ dropped: 2 });
    expect(await w.write(b)).toEqual({ dropped: 3 });
    expect(await w.write(b)).toEqual({ dropped: 3 });
    expect(await w.write(b)).toEqual({ dropped: 3 });
    expect(lines.filter((l) => l.includes('rejected 2 of 3 data point(s): too old; counted as dropped'))).toHaveLength(1);
    expect(lines.filter((l) => l.includes('refused 3 data point(s): 500 Internal Server Error: boom'))).toHaveLength(1);
    expect(lines.filter((l) => l.includes('refused 3 data point(s): 400 Bad Request: bad'))).toHaveLength(1);
    w.stop();
    await r.stop();
    // OTLP/JSON's partial success: the official message in its JSON form (int64 as a string).
    const body = JSON.stringify(Response.toObject(Response.fromObject({ partialSuccess: { rejectedDataPoints: 1, errorMessage: 'dup' } }), { longs: String }));
    expect(body).toBe('{"partialSuccess":{"rejectedDataPoints":"1","errorMessage":"dup"}}');
    const rj = await receiver(() => ({ status: 200, headers: { 'Content-Type': 'application/json' }, body }));
    const { w: jw, lines: jlines } = await writer({ endpoint: `${rj.url}/v1/metrics`, protocol: 'http/json' });
    expect(await jw.write(b)).toEqual({ dropped: 1 });
    expect(jlines.filter((l) => l.includes('rejected 1 of 3 data point(s): dup; counted as dropped'))).toHaveLength(1);
    jw.stop();
    await rj.stop();
  });

  it('an outage: the receiver gone for 2 s of a 100 ms tick, then back: every data point arrives once', async () => {
    const r = await receiver();
    const { w, ctx, lines } = await writer({ endpoint: `${r.url}/v1/metrics`, timeout: 1 });
    const rt = new WriterRuntime(w, { bufferSize: 100_000, log: ctx.log, retryMinMs: 50, retryMaxMs: 200 });
    const ticks = 40;
    const series = 25;
    for (let tick = 0; tick < ticks; tick++) {
      if (tick === 10) await r.stop();
      if (tick === 30) await r.start();
      rt.add(batch(Array.from({ length: series }, (_, i) => point('c.Outage.v', tick, { i: String(i) }, T + tick * 1000))));
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    await rt.stop(Date.now() + 10_000);
    expect(rt.stats()).toMatchObject({ written: ticks * series, dropped: 0 });
    expect(rt.stats().errors).toBeGreaterThan(0);
    const seen = new Set<string>();
    let points = 0;
    for (const g of r.got) {
      for (const m of summary(decodeProtobuf(g.body)).metrics) {
        for (const dp of m.gauge!.dataPoints) {
          points++;
          seen.add(`${dp.timeUnixNano}/${dp.attributes[0]!.value.stringValue}`);
        }
      }
    }
    expect(seen.size).toBe(ticks * series);
    expect(points).toBe(ticks * series);
    expect(lines.filter((l) => l.includes('ERROR') && l.includes('cannot reach'))).toHaveLength(1);
    await r.stop();
  }, 30_000);
});

describe('Otel config', () => {
  it("the Python pollect's `type: Otel` loads as it is; what cannot work is named", () => {
    expect(() => new OtelWriter(configOf({}))).not.toThrow();
    const at = (fn: () => unknown): string => {
      try {
        fn();
      } catch (err) {
        expect(err).toBeInstanceOf(ParamError);
        return `${(err as ParamError).param}: ${(err as Error).message}`;
      }
      return 'no error';
    };
    expect(at(() => new OtelWriter(configOf({ endpoint: 'localhost:4318' })))).toBe('endpoint: the URL must start with http:// or https://');
    vi.stubEnv('OTEL_EXPORTER_OTLP_PROTOCOL', 'grpc');
    expect(at(() => new OtelWriter(configOf({})))).toBe(
      'protocol: OTEL_EXPORTER_OTLP_PROTOCOL "grpc" is not supported: use http/protobuf or http/json (gRPC is not)',
    );
    expect(at(() => new OtelWriter(configOf({ protocol: 'http/json' })))).toBe('no error');
    expect(validate(SCHEMA, { type: 'Otel', protocol: 'grpc' }, ['writers', 0])[0]).toMatch(/^writers\[0\]\.protocol: /);
  });
});
