// K8s source against HTTPS servers in the test that play the kubelet: one requires a client
// certificate at the TLS layer, one authenticates like the kubelet does (verified certificate or
// bearer token, else 401). Certificates are made with the openssl CLI for each run.
import { fixtureDir } from '../helpers/fixtures.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import https from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { K8sSource, type K8sConfig } from '../../src/sources/k8s/index.js';
import { NODE_METRICS, POD_METRICS, summaryToSamples, type K8sMetrics } from '../../src/sources/k8s/summary.js';
import { SourceError } from '../../src/sdk/index.js';
import { initSource, probeOnce, valueOf } from '../helpers/probe.js';
import { tempDir } from '../helpers/net.js';
import { build, configFor, type Params } from '../helpers/plugin.js';

const ALL: K8sMetrics = { pods: POD_METRICS, node: NODE_METRICS };
const FIX = fixtureDir('k8s');
const NANO = readFileSync(path.join(FIX, 'stats-summary-microk8s-jetson-nano.json'));
const HONEY = readFileSync(path.join(FIX, 'stats-summary-honeycomb-baremetal-2020.json'));
const TOKEN = 'k8s-test-token-5f1c9e2b7a';

type Mode = 'nano' | 'honey' | 'hang' | 'truncated' | 'garbage' | 'html' | 'huge' | 'echo' | 'empty' | 'notsummary';
let mode: Mode = 'nano';
let requests = 0;

function openssl(dir: string, ...args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
}

/** A CA, a server certificate for 127.0.0.1 and a client certificate, all under `dir` with `prefix`. */
function makePki(dir: string, prefix: string): void {
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  openssl(dir, 'req', '-x509', ...ec, '-keyout', `${prefix}ca.key`, '-out', `${prefix}ca.crt`, '-days', '2', '-subj', `/CN=${prefix}test-ca`);
  writeFileSync(path.join(dir, 'server.ext'), 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n');
  writeFileSync(path.join(dir, 'client.ext'), 'extendedKeyUsage=clientAuth\n');
  for (const [who, ext, cn] of [
    ['server', 'server.ext', '127.0.0.1'],
    ['client', 'client.ext', 'system:pollect'],
  ] as const) {
    openssl(dir, 'req', ...ec, '-keyout', `${prefix}${who}.key`, '-out', `${prefix}${who}.csr`, '-subj', `/CN=${cn}`);
    openssl(
      dir,
      'x509',
      '-req',
      '-in',
      `${prefix}${who}.csr`,
      '-CA',
      `${prefix}ca.crt`,
      '-CAkey',
      `${prefix}ca.key`,
      '-CAcreateserial',
      '-out',
      `${prefix}${who}.crt`,
      '-days',
      '2',
      '-extfile',
      ext,
    );
  }
}

function handler(req: IncomingMessage, res: ServerResponse): void {
  requests++;
  res.on('error', () => {});
  const sock = req.socket as TLSSocket;
  const tokenOk = req.headers.authorization === `Bearer ${TOKEN}`;
  if (!sock.authorized && !tokenOk) {
    res.writeHead(401, { 'content-type': 'text/plain' }).end('Unauthorized');
    return;
  }
  if (req.url !== '/stats/summary') {
    res.writeHead(404).end('404 page not found');
    return;
  }
  const json = { 'content-type': 'application/json' };
  switch (mode) {
    case 'nano':
      return void res.writeHead(200, json).end(NANO);
    case 'honey':
      return void res.writeHead(200, json).end(HONEY);
    case 'hang':
      return; // never answers
    case 'truncated':
      return void res.writeHead(200, json).end(NANO.subarray(0, 1000));
    case 'garbage':
      return void res.writeHead(200, json).end(Buffer.from([0x00, 0xff, 0x13, 0x37, 0xfe, 0x80, 0x01, 0x9c]));
    case 'html':
      return void res
        .writeHead(502, { 'content-type': 'text/html' })
        .end('<html><head><title>502 Bad Gateway</title></head><body><h1>Bad Gateway</h1></body></html>');
    case 'huge': {
      res.writeHead(200, json);
      const chunk = Buffer.alloc(1024 * 1024, 0x20);
      res.write('{"node":{},"pods":[');
      let sent = 0;
      const pump = (): void => {
        while (sent < 50 && !res.destroyed) {
          sent++;
          if (!res.write(chunk)) return void res.once('drain', pump);
        }
        if (!res.destroyed) res.end(']}');
      };
      return pump();
    }
    case 'echo':
      // A hostile server that reflects the credentials back in its error page.
      return void res.writeHead(500, { 'content-type': 'text/plain' }).end(`token ${String(req.headers.authorization)} is not allowed`);
    case 'empty':
      return void res.writeHead(200, json).end();
    case 'notsummary':
      return void res.writeHead(200, json).end('{"kind":"Status","items":[]}');
  }
}

let pki: ReturnType<typeof tempDir>;
let strict: https.Server; // TLS layer requires a client certificate from our CA
let kubelet: https.Server; // kubelet-like: certificate or token, else 401
let strictPort = 0;
let kubeletPort = 0;

function listen(server: https.Server): Promise<number> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)));
}

beforeAll(async () => {
  pki = tempDir('pollect-k8s-');
  makePki(pki.dir, '');
  makePki(pki.dir, 'other-');
  const read = (f: string): Buffer => readFileSync(path.join(pki.dir, f));
  const tls = { key: read('server.key'), cert: read('server.crt'), ca: read('ca.crt'), requestCert: true };
  strict = https.createServer({ ...tls, rejectUnauthorized: true }, handler);
  kubelet = https.createServer({ ...tls, rejectUnauthorized: false }, handler);
  strictPort = await listen(strict);
  kubeletPort = await listen(kubelet);
});

afterAll(async () => {
  for (const s of [strict, kubelet]) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
  pki.remove();
});

async function source(extra: Params<K8sConfig> = {}, port = strictPort): Promise<K8sSource> {
  const src = build(K8sSource, { type: 'K8s', host: '127.0.0.1', port, cert: 'client.crt', key: 'client.key', ca: 'ca.crt', ...extra }, { configDir: pki.dir });
  await initSource(src, pki.dir);
  return src;
}

async function probeError(src: K8sSource, timeoutMs = 5000): Promise<SourceError> {
  const err = await probeOnce(src, { timeoutMs }).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(SourceError);
  return err as SourceError;
}

interface Fixture {
  node: { nodeName: string; cpu: Record<string, number>; memory: Record<string, number>; fs: Record<string, number> };
  pods: { podRef: { name: string; namespace: string }; cpu?: Record<string, number>; memory?: Record<string, number>; network?: Record<string, number> }[];
}

describe('K8s summary parser on the captured payloads', () => {
  for (const [file, body] of [
    ['microk8s-jetson-nano', NANO],
    ['honeycomb-baremetal', HONEY],
  ] as const) {
    it(`every figure of ${file} matches the document`, () => {
      const doc = JSON.parse(body.toString()) as Fixture;
      const all = { pods: ['memory', 'cpu', 'network'] as const, node: ['filesystem', 'memory', 'cpu', 'inodes'] as const };
      const s = summaryToSamples(doc, { pods: [...all.pods], node: [...all.node] });
      const node = { node: doc.node.nodeName };
      expect(valueOf(s, 'node.cpu.usage_nanocores', node)).toBe(doc.node.cpu.usageNanoCores);
      expect(valueOf(s, 'node.memory.working_set_bytes', node)).toBe(doc.node.memory.workingSetBytes);
      expect(valueOf(s, 'node.memory.available_bytes', node)).toBe(doc.node.memory.availableBytes);
      expect(valueOf(s, 'node.fs.used_bytes', node)).toBe(doc.node.fs.usedBytes);
      expect(valueOf(s, 'node.fs.inodes_free', node)).toBe(doc.node.fs.inodesFree);
      expect(valueOf(s, 'pods.running', node)).toBe(doc.pods.length);
      for (const p of doc.pods) {
        const l = { namespace: p.podRef.namespace, pod: p.podRef.name };
        expect(valueOf(s, 'pod.cpu.usage_nanocores', l)).toBe(p.cpu!.usageNanoCores);
        expect(valueOf(s, 'pod.memory.working_set_bytes', l)).toBe(p.memory!.workingSetBytes);
        expect(valueOf(s, 'pod.memory.rss_bytes', l)).toBe(p.memory!.rssBytes);
        const rx = s.filter((x) => x.name === 'pod.network.rx_bytes' && x.labels?.pod === p.podRef.name);
        // Host-network pods carry no default interface (name "") and get no network figures.
        if (p.network?.rxBytes === undefined) expect(rx).toHaveLength(0);
        else expect(rx.map((x) => x.value)).toEqual([p.network.rxBytes]);
      }
    });
  }

  it('reads known values of the Jetson Nano capture', () => {
    const s = summaryToSamples(JSON.parse(NANO.toString()), { pods: ['cpu', 'memory', 'network'], node: ['inodes', 'memory', 'cpu', 'filesystem'] });
    const pod = { namespace: 'kube-system', pod: 'coredns-588fd544bf-8btq7' };
    expect(valueOf(s, 'pod.cpu.usage_nanocores', pod)).toBe(11358386);
    expect(valueOf(s, 'pod.memory.working_set_bytes', pod)).toBe(10911744);
    expect(valueOf(s, 'pod.memory.rss_bytes', pod)).toBe(9383936);
    expect(valueOf(s, 'pod.network.rx_bytes', pod)).toBe(296672);
    expect(valueOf(s, 'pod.network.tx_bytes', pod)).toBe(63634);
    expect(valueOf(s, 'node.fs.inodes_free', { node: 'nano' })).toBe(1600584);
    expect(valueOf(s, 'node.memory.rss_bytes', { node: 'nano' })).toBe(844783616);
    expect(valueOf(s, 'node.cpu.usage_nanocores', { node: 'nano' })).toBe(707151279);
    expect(valueOf(s, 'node.fs.capacity_bytes', { node: 'nano' })).toBe(31424688128);
    expect(valueOf(s, 'pods.running')).toBe(1);
  });

  it('honours the metric selection (node memory is honoured, unlike chouette)', () => {
    const doc = JSON.parse(HONEY.toString());
    const defaults = { pods: ['memory', 'cpu'], node: ['inodes'] } as const;
    expect(configFor(K8sSource, { host: 'h' }).metrics).toEqual(defaults);
    const names = (m: Partial<K8sMetrics>) => [...new Set(summaryToSamples(doc, { ...defaults, ...m }).map((x) => x.name))].sort();
    expect(names({})).toEqual([
      'node.fs.inodes',
      'node.fs.inodes_free',
      'node.fs.inodes_used',
      'pod.cpu.usage_nanocores',
      'pod.memory.rss_bytes',
      'pod.memory.working_set_bytes',
      'pods.running',
    ]);
    expect(names({ pods: [], node: ['memory'] })).toEqual([
      'node.memory.available_bytes',
      'node.memory.rss_bytes',
      'node.memory.usage_bytes',
      'node.memory.working_set_bytes',
      'pods.running',
    ]);
    expect(names({ pods: ['network'] })).toContain('pod.network.tx_bytes');
  });

  it('rejects documents that are not summaries', () => {
    expect(() => summaryToSamples({ kind: 'Status' }, ALL)).toThrow(SourceError);
    expect(() => summaryToSamples([1, 2], ALL)).toThrow(/not a kubelet stats summary/);
    expect(() => summaryToSamples({ node: {}, pods: 'x' }, ALL)).toThrow(/"pods" is not a list/);
  });
});

describe('K8s source over HTTPS with a client certificate', () => {
  it('serves both captures end to end with exact values', async () => {
    const src = await source({ metrics: { pods: ['cpu', 'memory', 'network'], node: ['cpu', 'memory', 'filesystem', 'inodes'] } });
    mode = 'nano';
    let s = await probeOnce(src);
    expect(valueOf(s, 'pod.cpu.usage_nanocores', { namespace: 'kube-system', pod: 'coredns-588fd544bf-8btq7' })).toBe(11358386);
    expect(valueOf(s, 'node.fs.inodes_free', { node: 'nano' })).toBe(1600584);
    mode = 'honey';
    s = await probeOnce(src);
    const doc = JSON.parse(HONEY.toString()) as Fixture;
    expect(valueOf(s, 'pods.running', { node: 'duckboat-01' })).toBe(11);
    for (const p of doc.pods) {
      expect(valueOf(s, 'pod.memory.working_set_bytes', { namespace: p.podRef.namespace, pod: p.podRef.name })).toBe(p.memory!.workingSetBytes);
    }
    expect(valueOf(s, 'pod.network.rx_bytes', { namespace: 'mysql', pod: 'phpmyadmin-54c7cdbdc7-8qnbr' })).toBe(150353577);
    expect(valueOf(s, 'node.memory.working_set_bytes', { node: 'duckboat-01' })).toBe(2127441920);
  });

  it('a client certificate from another CA is refused with a clear error', async () => {
    mode = 'nano';
    const src = await source({ cert: 'other-client.crt', key: 'other-client.key' });
    const err = await probeError(src);
    expect(err.message).toMatch(/^kubelet GET https:\/\/127\.0\.0\.1:\d+\/stats\/summary: /);
    expect(err.message).toMatch(/rejected the client certificate/);
  });

  it('no client certificate at all is refused', async () => {
    const src = await source({ cert: undefined, key: undefined });
    const err = await probeError(src);
    expect(err.message).toMatch(/rejected the client certificate/);
  });

  it('a server certificate from an unknown CA fails verification unless insecureSkipVerify', async () => {
    mode = 'nano';
    const err = await probeError(await source({ ca: 'other-ca.crt' }));
    expect(err.message).toMatch(/did not verify/);
    const s = await probeOnce(await source({ ca: undefined, insecureSkipVerify: true }));
    expect(valueOf(s, 'pods.running', { node: 'nano' })).toBe(1);
  });

  it('a missing certificate file is a config error naming the param and the file', () => {
    expect(() => build(K8sSource, { host: '127.0.0.1', cert: 'nope.crt', key: 'client.key' }, { configDir: pki.dir })).toThrow(
      expect.objectContaining({ name: 'ParamError', param: 'cert', message: expect.stringMatching(/cannot read .*nope\.crt: no such file/) }),
    );
    expect(() => build(K8sSource, { host: '127.0.0.1', cert: 'client.crt' }, { configDir: pki.dir })).toThrow(/go together/);
  });

  it('a server that never answers gives a timeout error', async () => {
    mode = 'hang';
    const started = Date.now();
    const err = await probeError(await source(), 400);
    expect(err.message).toMatch(/no answer within 400 ms/);
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('a truncated JSON body is an invalid JSON error', async () => {
    mode = 'truncated';
    const err = await probeError(await source());
    expect(err.message).toMatch(/kubelet GET https:\/\/127\.0\.0\.1:\d+\/stats\/summary: invalid JSON/);
  });

  it('garbage bytes, an HTML error page, an empty body and a non-summary are clear errors', async () => {
    const src = await source();
    mode = 'garbage';
    const garbage = (await probeError(src)).message;
    expect(garbage).toMatch(/invalid JSON/);
    expect(garbage).toMatch(/^[\x20-\x7e\u2026]+$/);
    mode = 'html';
    expect((await probeError(src)).message).toMatch(/HTTP 502 .*Bad Gateway/);
    mode = 'empty';
    expect((await probeError(src)).message).toMatch(/empty body/);
    mode = 'notsummary';
    expect((await probeError(src)).message).toMatch(/not a kubelet stats summary/);
  });

  it('a 50 MB response is cut off with a size error', async () => {
    mode = 'huge';
    const err = await probeError(await source(), 20_000);
    expect(err.message).toMatch(/larger than 33554432 bytes/);
  });
});

describe('K8s source with a bearer token (kubelet-style authentication)', () => {
  it('reads the summary with the token and no client certificate', async () => {
    mode = 'nano';
    const src = await source({ cert: undefined, key: undefined, token: TOKEN }, kubeletPort);
    const s = await probeOnce(src);
    expect(valueOf(s, 'node.fs.inodes_free', { node: 'nano' })).toBe(1600584);
  });

  it('a 401 is a clear error that never shows the token', async () => {
    mode = 'nano';
    const wrong = 'k8s-wrong-token-0d9a8b7c';
    const err = await probeError(await source({ cert: undefined, key: undefined, token: wrong }, kubeletPort));
    expect(err.message).toMatch(/HTTP 401: the kubelet refused access \(bearer token\)/);
    expect(err.message).not.toContain(wrong);
  });

  it('a server that echoes the token back does not leak it into the error', async () => {
    mode = 'echo';
    const src = await source({ token: TOKEN }, kubeletPort);
    const before = requests;
    const err = await probeError(src);
    expect(requests).toBe(before + 1);
    expect(err.message).toMatch(/HTTP 500 .*token Bearer \*\*\* is not allowed/);
    expect(err.message).not.toContain(TOKEN);
    const err2 = await probeError(await source({ cert: undefined, key: undefined }, kubeletPort));
    expect(err2.message).toMatch(/no credentials given/);
  });
});
