// The Python pollect's tests of the Prometheus writer (tests/writers/test_PrometheusWriter.py), of
// Core's partial Prometheus write (test_Core.test_exec_partial_prometheus), and of the Http and
// Certificate sources (test_Http.py, test_Certificate.py), ported (../shared/fixtures/pollect-tests/,
// MIT). Where they ask postman-echo.com and github.com, a local server stands in.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { PrometheusWriter } from '../../src/writers/prometheus/index.js';
import { HttpSource } from '../../src/sources/http/index.js';
import { CertificateSource } from '../../src/sources/certificate/index.js';
import { buildConfig } from '../../src/config/load.js';
import { Daemon } from '../../src/executors/daemon.js';
import { sourceSeriesName, toPoints } from '../../src/executors/samples.js';
import { createLogger } from '../../src/log.js';
import type { Batch, Sample } from '../../src/sdk/index.js';
import { selfSigned } from '../helpers/certs.js';
import { tempDir } from '../helpers/net.js';
import { build } from '../helpers/plugin.js';
import { probeOnce } from '../helpers/probe.js';

const log = createLogger('test', { level: 'error', write: () => {} });
const tmp = tempDir();
let server: http.Server;
let tlsServer: https.Server;
let base = '';
let tlsBase = '';

beforeAll(async () => {
  server = http.createServer((req, res) => {
    const status = Number(/^\/status\/(\d+)$/.exec(req.url ?? '')?.[1] ?? 200);
    res.writeHead(status).end('ok');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const { key, cert } = selfSigned(tmp.dir, { days: 90 });
  tlsServer = https.createServer({ key: readFileSync(path.join(tmp.dir, key)), cert: readFileSync(path.join(tmp.dir, cert)) }, (_q, res) => res.end('ok'));
  await new Promise<void>((r) => tlsServer.listen(0, '127.0.0.1', () => r()));
  tlsBase = `https://127.0.0.1:${(tlsServer.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  tlsServer.closeAllConnections();
  await new Promise((r) => server.close(r));
  await new Promise((r) => tlsServer.close(r));
  tmp.remove();
});

async function scrape(port: number): Promise<string> {
  const res = await fetch(`http://127.0.0.1:${port}/metrics`);
  return res.text();
}

describe('test_PrometheusWriter', () => {
  let w: PrometheusWriter;
  beforeAll(async () => {
    w = build(PrometheusWriter, { port: 0, host: '127.0.0.1' });
    w.id = 'Prometheus#compat';
    await w.start();
  });
  afterAll(() => w.stop());

  /** One source's (successful) probe: its samples, named `c.T[.<source>].<sample name>`. */
  const probed = (source: string, samples: Sample[]): Batch => ({
    collection: 'c',
    timestamp: Date.now(),
    points: toPoints(samples, { base: sourceSeriesName('c', 'T', source), staticLabels: undefined, timestamp: Date.now(), source }),
    sources: [
      {
        id: source,
        collection: 'c',
        type: 'T',
        state: 'probed',
        success: true,
        durationSeconds: 0,
        errorsTotal: 0,
        skippedTotal: 0,
        rejectedTotal: 0,
        consecutiveFailures: 0,
      },
    ],
  });

  it('test_removal_labels: a label set a source no longer sends is removed; it comes back when sent again', async () => {
    const both: Sample[] = [
      { name: 'test', value: 0, labels: { a: '1' } },
      { name: 'test', value: 0, labels: { a: '2' } },
    ];
    await w.write(probed('s', both));
    let body = await scrape(w.port);
    expect(body).toContain('c_T_s_test{a="1"} 0');
    expect(body).toContain('c_T_s_test{a="2"} 0');
    await w.write(probed('s', []));
    body = await scrape(w.port);
    expect(body).not.toContain('c_T_s_test{');
    await w.write(probed('s', both));
    body = await scrape(w.port);
    expect(body).toContain('c_T_s_test{a="1"} 0');
    expect(body).toContain('c_T_s_test{a="2"} 0');
    await w.write(probed('s', both.slice(0, 1)));
    body = await scrape(w.port);
    expect(body).toContain('c_T_s_test{a="1"} 0');
    expect(body).not.toContain('c_T_s_test{a="2"}');
  });

  it("test_multi_label_partial_write and test_removal_partial_write: one source's write never removes another's series", async () => {
    await w.write(probed('a', [{ name: 'test', value: 0, labels: { a: '2' } }]));
    await w.write(
      probed('b', [
        { name: 'test', value: 0, labels: { a: '1' } },
        { name: 'test2', value: 0, labels: { a: '1' } },
      ]),
    );
    let body = await scrape(w.port);
    expect(body).toContain('c_T_a_test{a="2"} 0');
    expect(body).toContain('c_T_b_test{a="1"} 0');
    expect(body).toContain('c_T_b_test2{a="1"} 0');
    await w.write(probed('a', []));
    body = await scrape(w.port);
    expect(body).not.toContain('c_T_a_test{');
    expect(body).toContain('c_T_b_test{a="1"} 0');
    await w.write(probed('b', []));
    body = await scrape(w.port);
    expect(body).not.toContain('c_T_b_test{');
    expect(body).not.toContain('c_T_b_test2{');
    await w.write(probed('b', [{ name: 'test', value: 0, labels: { a: '1' } }]));
    body = await scrape(w.port);
    expect(body).toContain('c_T_b_test{a="1"} 0');
    expect(body).not.toContain('c_T_b_test2{');
  });
});

describe('test_Core.test_exec_partial_prometheus', () => {
  it('an Http source with two URLs, served by the Prometheus writer: both URLs are there', async () => {
    const urls = [`${base}/google`, `${base}/github`];
    const raw = {
      tickTime: 1,
      selfMetrics: false,
      writer: { type: 'Prometheus', port: 0, host: '127.0.0.1' },
      executors: [{ collection: 'pollect', sources: [{ type: 'Http', name: 'dev_core', url: urls, timeout: 1 }] }],
    };
    const daemon = new Daemon(await buildConfig(raw, '/x/c.json', { env: {} }), { log });
    await daemon.start();
    try {
      const writer = daemon.writers[0]!.writer as PrometheusWriter;
      let body = '';
      for (let i = 0; !body.includes('github'); i++) {
        if (i > 200) throw new Error(`no Http series served: ${body}`);
        await new Promise((r) => setTimeout(r, 20));
        body = await scrape(writer.port);
      }
      expect(body).toContain(`pollect_Http_dev_core{url="${urls[0]}"}`);
      expect(body).toContain(`pollect_Http_dev_core{url="${urls[1]}"}`);
    } finally {
      await daemon.stop();
    }
  });
});

describe('test_Http', () => {
  it('test_single: one value without labels, under 15000 ms', async () => {
    const s = await probeOnce(build(HttpSource, { type: 'Http', url: `${base}/status/200` }));
    const values = s.filter((x) => x.name === undefined);
    expect(values).toHaveLength(1);
    expect(values[0]!.labels).toBeUndefined();
    expect(values[0]!.value).toBeLessThan(15000);
  });

  it('test_status_codes: a 500 is valued 10000 (the default timeout * 1000)', async () => {
    const s = await probeOnce(build(HttpSource, { type: 'Http', url: `${base}/status/500` }));
    expect(s.find((x) => x.name === undefined)!.value).toBe(10000);
  });

  it('test_multi: a list of URLs gives one value per URL, labelled url', async () => {
    const urls = [`${base}/a`, `${base}/a/b`];
    const s = await probeOnce(build(HttpSource, { type: 'Http', url: urls }));
    const values = s.filter((x) => x.name === undefined);
    expect(values).toHaveLength(2);
    expect(values.map((v) => Object.keys(v.labels!))).toEqual([['url'], ['url']]);
    expect(values[0]!.labels!.url).toBe(urls[0]);
  });
});

describe('test_Certificate', () => {
  it('test_single: cert_expire_days, without labels, more than 10', async () => {
    const s = await probeOnce(build(CertificateSource, { type: 'Certificate', url: tlsBase }));
    const days = s.filter((x) => x.name === 'cert_expire_days');
    expect(days).toHaveLength(1);
    expect(days[0]!.labels).toBeUndefined();
    expect(days[0]!.value).toBeGreaterThan(10);
  });
});
