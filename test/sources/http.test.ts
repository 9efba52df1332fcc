import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import http from 'node:http';
import net from 'node:net';
import { HttpSource } from '../../src/sources/http/index.js';
import { probeOnce, valueOf, initSource } from '../helpers/probe.js';
import { readmeExamples, paramProblems } from '../helpers/readme-examples.js';
import { freePort } from '../helpers/net.js';
import { createLogger } from '../../src/log.js';
import type { Sample } from '../../src/sdk/index.js';
import { build } from '../helpers/plugin.js';

let base = '';
let server: http.Server;
let inFlight = 0;
let maxInFlight = 0;
let connections = 0;
let lastHeaders: http.IncomingHttpHeaders = {};
let garbagePort = 0;
let garbage: net.Server;
let proxyPort = 0;
let proxy: http.Server;
const proxied: { url: string; auth: string | undefined }[] = [];
const openSockets = new Set<net.Socket>();

beforeAll(async () => {
  server = http.createServer((req, res) => {
    lastHeaders = req.headers;
    const url = req.url ?? '/';
    if (url === '/ok') return void res.end('fine');
    if (url === '/redirect') {
      res.writeHead(302, { location: '/ok' });
      return void res.end();
    }
    if (url === '/missing') {
      res.writeHead(404);
      return void res.end('not here');
    }
    if (url === '/error') {
      res.writeHead(500, { 'content-type': 'text/html' });
      return void res.end('<html><body><h1>Internal Server Error</h1></body></html>');
    }
    if (url === '/hang') return; // never answers
    if (url === '/huge') {
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      const chunk = Buffer.alloc(64 * 1024, 0x61);
      let sent = 0;
      const pump = (): void => {
        while (sent < 8 * 1024 * 1024) {
          sent += chunk.length;
          if (!res.write(chunk)) return void res.once('drain', pump);
        }
        res.end();
      };
      return pump();
    }
    if (url.startsWith('/slow')) {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      setTimeout(() => {
        inFlight--;
        res.end('slow');
      }, 100);
      return;
    }
    res.writeHead(400);
    res.end();
  });
  server.on('connection', (s) => {
    connections++;
    openSockets.add(s);
    s.on('close', () => openSockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  base = `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`;

  // Speaks no HTTP at all.
  garbage = net.createServer((s) => {
    openSockets.add(s);
    s.on('close', () => openSockets.delete(s));
    s.on('error', () => {});
    s.end(Buffer.from([0x00, 0xff, 0x13, 0x37, 0x0d, 0x0a, 0x0d, 0x0a, 0x42]));
  });
  await new Promise<void>((r) => garbage.listen(0, '127.0.0.1', () => r()));
  garbagePort = (garbage.address() as net.AddressInfo).port;

  // A forward proxy that wants credentials and relays absolute-form requests.
  proxy = http.createServer((req, res) => {
    proxied.push({ url: req.url ?? '', auth: req.headers['proxy-authorization'] });
    if (req.headers['proxy-authorization'] !== 'Basic ' + Buffer.from('pxuser:pxsecret99').toString('base64')) {
      res.writeHead(407);
      return void res.end();
    }
    const target = new URL(req.url ?? '');
    const up = http.request(
      { host: target.hostname, port: target.port, path: target.pathname, method: req.method, headers: { host: target.host } },
      (upRes) => {
        res.writeHead(upRes.statusCode ?? 502, upRes.headers);
        upRes.pipe(res);
      },
    );
    up.on('error', () => res.destroy());
    req.pipe(up);
  });
  await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', () => r()));
  proxyPort = (proxy.address() as net.AddressInfo).port;
});

afterAll(async () => {
  for (const s of openSockets) s.destroy();
  server.closeAllConnections();
  proxy.closeAllConnections();
  await new Promise((r) => server.close(r));
  await new Promise((r) => garbage.close(r));
  await new Promise((r) => proxy.close(r));
});

function only(samples: Sample[], name: string | undefined): number {
  return valueOf(samples, name);
}

describe('Http', () => {
  it('reports response time, status 200 and success for a single URL, without a url label', async () => {
    const src = build(HttpSource, { type: 'Http', url: `${base}/ok` });
    await initSource(src);
    const samples = await probeOnce(src);
    expect(samples).toHaveLength(3);
    expect(only(samples, undefined)).toBeGreaterThan(0);
    expect(only(samples, undefined)).toBeLessThan(10_000);
    expect(only(samples, 'status_code')).toBe(200);
    expect(only(samples, 'success')).toBe(1);
    expect(samples.every((s) => s.labels === undefined)).toBe(true);
  });

  it('follows redirects and judges the final status', async () => {
    const src = build(HttpSource, { type: 'Http', url: `${base}/redirect` });
    const samples = await probeOnce(src);
    expect(only(samples, 'status_code')).toBe(200);
    expect(only(samples, 'success')).toBe(1);
  });

  it('treats a non-2xx status as a failure valued timeout*1000 ms, unless statusCode expects it', async () => {
    const bad = await probeOnce(build(HttpSource, { type: 'Http', url: `${base}/missing`, timeout: 4 }));
    expect(only(bad, undefined)).toBe(4000);
    expect(only(bad, 'status_code')).toBe(404);
    expect(only(bad, 'success')).toBe(0);

    const expected = await probeOnce(build(HttpSource, { type: 'Http', url: `${base}/missing`, statusCode: 404 }));
    expect(only(expected, 'success')).toBe(1);
    expect(only(expected, undefined)).toBeLessThan(4000);

    const list = await probeOnce(build(HttpSource, { type: 'Http', url: `${base}/ok`, statusCode: [201, 204] }));
    expect(only(list, 'success')).toBe(0);
    expect(only(list, 'status_code')).toBe(200);
  });

  it('labels each URL of a list and keeps failing URLs as data', async () => {
    const urls = [`${base}/ok`, `${base}/error`, `${base}/hang`, `http://127.0.0.1:${garbagePort}/`, `http://127.0.0.1:${await freePort()}/`];
    const src = build(HttpSource, { type: 'Http', url: urls, timeout: 0.5 });
    const samples = await probeOnce(src);
    expect(samples).toHaveLength(urls.length * 3);
    expect(valueOf(samples, 'success', { url: urls[0]! })).toBe(1);
    expect(valueOf(samples, 'status_code', { url: urls[1]! })).toBe(500);
    for (const u of urls.slice(1)) {
      expect(valueOf(samples, 'success', { url: u })).toBe(0);
      expect(valueOf(samples, undefined, { url: u })).toBe(500);
    }
    expect(valueOf(samples, 'status_code', { url: urls[2]! })).toBe(0);
    expect(valueOf(samples, 'status_code', { url: urls[3]! })).toBe(0);
  });

  it('refuses a huge body at maxBytes and reports it as a problem', async () => {
    const problems: string[] = [];
    const src = build(HttpSource, { type: 'Http', url: `${base}/huge`, maxBytes: 1024 * 1024 });
    const samples = await probeOnce(src, { problems });
    expect(only(samples, 'success')).toBe(0);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/larger than 1048576 bytes/);
  });

  it('probes many URLs concurrently, never more than the cap at once', async () => {
    maxInFlight = 0;
    const urls = Array.from({ length: 24 }, (_, i) => `${base}/slow/${i}`);
    const src = build(HttpSource, { type: 'Http', url: urls, concurrency: 5 });
    const samples = await probeOnce(src);
    expect(samples.filter((s) => s.name === 'success' && s.value === 1)).toHaveLength(24);
    expect(maxInFlight).toBe(5);
  });

  it('opens a fresh connection for every probe so connect time is measured', async () => {
    const src = build(HttpSource, { type: 'Http', url: `${base}/ok` });
    const before = connections;
    await probeOnce(src);
    await probeOnce(src);
    expect(connections - before).toBe(2);
  });

  it('sends method and headers, and keeps secret header values and URL passwords out of logs', async () => {
    const logged: string[] = [];
    const log = createLogger('t', { level: 'debug', write: (l) => logged.push(l) });
    const src = build(HttpSource, {
      type: 'Http',
      url: [`${base}/ok`, `http://someone:urlpass4242@127.0.0.1:${await freePort()}/x?token=qtok777`],
      method: 'head',
      headers: { Authorization: 'Bearer sekrit-token-123', 'X-Trace': 'abc' },
      timeout: 1,
    });
    const problems: string[] = [];
    const samples = (await src.probe({
      signal: AbortSignal.timeout(5000),
      timeoutMs: 5000,
      tickTime: 10,
      log,
      reportProblem: (m) => void problems.push(m),
      notify: () => {},
      wants: () => true,
    })) as Sample[];
    expect(lastHeaders['authorization']).toBe('Bearer sekrit-token-123');
    expect(lastHeaders['x-trace']).toBe('abc');
    const text = logged.join('\n') + problems.join('\n') + JSON.stringify(samples);
    expect(problems.length).toBeGreaterThan(0);
    expect(text).not.toContain('sekrit-token-123');
    expect(text).not.toContain('urlpass4242');
    // The query string may carry a token too: messages name the URL without it.
    expect(logged.join('\n') + problems.join('\n')).not.toContain('qtok777');
    expect(problems.join('\n')).toContain('/x');
  });

  it('goes through a proxy with credentials', async () => {
    proxied.length = 0;
    const src = build(HttpSource, { type: 'Http', url: `${base}/ok`, proxy: `http://pxuser:pxsecret99@127.0.0.1:${proxyPort}` });
    const samples = await probeOnce(src);
    expect(only(samples, 'success')).toBe(1);
    expect(proxied).toHaveLength(1);
    expect(proxied[0]!.url).toBe(`${base}/ok`);
  });

  it('without proxy, honours HTTP_PROXY and NO_PROXY (as requests does); proxy "" goes direct whatever the environment', async () => {
    const names = ['HTTP_PROXY', 'http_proxy', 'NO_PROXY', 'no_proxy'];
    const saved = names.map((n) => process.env[n]);
    const url = `${base}/ok`;
    try {
      for (const n of names) delete process.env[n];
      process.env.HTTP_PROXY = `http://pxuser:pxsecret99@127.0.0.1:${proxyPort}`;
      proxied.length = 0;
      expect(only(await probeOnce(build(HttpSource, { type: 'Http', url })), 'success')).toBe(1);
      expect(proxied.map((p) => p.url)).toEqual([url]);
      expect(only(await probeOnce(build(HttpSource, { type: 'Http', url, proxy: '' })), 'success')).toBe(1);
      expect(proxied).toHaveLength(1);
      process.env.NO_PROXY = 'example.org, 127.0.0.1';
      expect(only(await probeOnce(build(HttpSource, { type: 'Http', url })), 'success')).toBe(1);
      expect(proxied).toHaveLength(1);
    } finally {
      names.forEach((n, i) => (saved[i] === undefined ? delete process.env[n] : (process.env[n] = saved[i])));
    }
  });

  it('fails the probe with a SourceError when the executor aborts it (shutdown)', async () => {
    const src = build(HttpSource, { type: 'Http', url: `${base}/hang`, timeout: 10 });
    await expect(probeOnce(src, { signal: AbortSignal.timeout(200), timeoutMs: 10_000 })).rejects.toThrow(/aborted at the probe timeout/);
  });

  it('ends a request before a probe budget shorter than its timeout, reporting the configured timeout*1000 as the Python pollect', async () => {
    // tickTime 1 s with the default 10 s timeout: the probe may take 1 s, so the request gets 950 ms,
    // and the failure is valued 10000 ms whatever the tick (as the Python pollect).
    const src = build(HttpSource, { type: 'Http', url: `${base}/hang` });
    const started = Date.now();
    // probeOnce aborts at 1000 ms, which rejects (the test above): samples mean the request ended first.
    const samples = await probeOnce(src, { timeoutMs: 1000 });
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    expect(samples.find((s) => s.name === undefined)!.value).toBe(10_000);
    expect(samples.find((s) => s.name === 'success')!.value).toBe(0);
  });

  it('rejects a URL that is not http(s) as a config error naming the param', () => {
    const paramError = (param: string, message: RegExp) => expect.objectContaining({ name: 'ParamError', param, message: expect.stringMatching(message) });
    expect(() => build(HttpSource, { url: 'ftp://example.org/' })).toThrow(paramError('url', /must start with http:\/\/ or https:\/\//));
    expect(() => build(HttpSource, { url: ['http://a.test/', 'not a url'] })).toThrow(paramError('url[1]', /not a valid URL/));
    expect(() => build(HttpSource, { url: 'http://a.test/', proxy: 'proxy:3128' })).toThrow(paramError('proxy', /./));
  });
  it('schema: accepts the README example, rejects missing or bad params', () => {
    for (const ex of readmeExamples('http')) expect(paramProblems(HttpSource.schema, 'Http', ex)).toEqual([]);
    expect(paramProblems(HttpSource.schema, 'Http', { type: 'Http' }).join('\n')).toMatch(/url: is required/);
    expect(paramProblems(HttpSource.schema, 'Http', { type: 'Http', url: [] }).join('\n')).toMatch(/url/);
    expect(paramProblems(HttpSource.schema, 'Http', { type: 'Http', url: 'http://x', statusCode: '200' }).join('\n')).toMatch(/statusCode/);
    expect(paramProblems(HttpSource.schema, 'Http', { type: 'Http', url: 'http://x', timeout: 2, header: {} }).join('\n')).toMatch(/unknown key "header"/);
  });
});
