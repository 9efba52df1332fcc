import { describe, it, expect, afterEach, beforeAll, afterAll } from 'vitest';
import type http from 'node:http';
import https from 'node:https';
import type net from 'node:net';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { needs } from '../helpers/servers.js';
import { tempDir } from '../helpers/net.js';
import { HTTP_LIMITS, close, createHttpServer, listen, type HttpLimits, type RequestHandler } from '../../src/core/http-server.js';
import { crowd, oversizedHead, pipelinedGets, rawExchange, statuses, until } from '../helpers/hostile-http.js';
import { selfSigned } from '../helpers/certs.js';

const servers: http.Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => close(s)));
});

const ok: RequestHandler = (_req, res) => {
  res.writeHead(200, { 'content-type': 'text/plain' });
  res.end('ok\n');
};

async function serve(
  limits: Partial<HttpLimits> = {},
  handler = ok,
  tls?: { key: string; cert: string },
): Promise<{ server: http.Server; port: number; url: string }> {
  const server = createHttpServer(handler, { limits, tls });
  await listen(server, 0, '127.0.0.1');
  servers.push(server);
  const port = (server.address() as net.AddressInfo).port;
  return { server, port, url: `http://127.0.0.1:${port}/` };
}

describe('createHttpServer', () => {
  it('keeps its limits well below the descriptor limits of a daemon', () => {
    // Two servers at the cap hold half of the smallest common limit (1024).
    expect(HTTP_LIMITS.maxConnections * 2).toBeLessThanOrEqual(512);
    expect(HTTP_LIMITS.headersTimeout).toBeLessThanOrEqual(10);
  });

  it('at the connection cap closes the longest idle (slow-header) connections, so a real client still gets in', async () => {
    const { server, url } = await serve({ maxConnections: 50 });
    const port = Number(new URL(url).port);
    const slow = await crowd(port, 120, 'GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ');
    try {
      // 70 of 120 were closed at once, not after a timeout.
      expect(await until(() => slow.closedByServer() >= 70, 3_000)).toBe(true);
      const count = await new Promise<number>((r) => server.getConnections((_e, n) => r(n)));
      expect(count).toBeLessThanOrEqual(50);
      const res = await fetch(url);
      expect(res.status).toBe(200);
      expect(await res.text()).toBe('ok\n');
    } finally {
      slow.destroy();
    }
  });

  it('at the cap with every connection busy refuses the new one at once', async () => {
    // The first three requests are held unanswered; later ones are answered.
    const held: http.ServerResponse[] = [];
    const { port, url } = await serve({ maxConnections: 3 }, (req, res) => (held.length < 3 ? void held.push(res) : ok(req, res)));
    const busy = await crowd(port, 3, pipelinedGets(1));
    try {
      expect(await until(() => held.length === 3, 3_000)).toBe(true);
      const t0 = Date.now();
      await expect(fetch(url, { signal: AbortSignal.timeout(3_000) })).rejects.toThrow();
      expect(Date.now() - t0).toBeLessThan(2_000);
      expect(busy.closedByServer()).toBe(0);
      // Once one is answered its connection is idle, and a new client takes its place.
      const finished = new Promise((r) => held[0]!.once('close', r));
      held[0]!.end('done');
      await finished;
      expect((await fetch(url, { signal: AbortSignal.timeout(3_000) })).status).toBe(200);
      expect(await until(() => busy.closedByServer() === 1, 2_000)).toBe(true);
    } finally {
      for (const r of held) r.destroy();
      busy.destroy();
    }
  });

  it('closes a connection that does not finish its headers within headersTimeout seconds, with 408', async () => {
    const { port } = await serve({ headersTimeout: 1, requestTimeout: 2 });
    const t0 = Date.now();
    const answer = await rawExchange(port, 'GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ', 5_000);
    const took = Date.now() - t0;
    expect(answer.closed).toBe(true);
    expect(statuses(answer.text)).toEqual([408]);
    // The deadline plus the one-second check, with some slack for a loaded machine.
    expect(took).toBeGreaterThanOrEqual(900);
    expect(took).toBeLessThan(3_500);
  });

  it('closes an idle keep-alive connection after keepAliveTimeout seconds', async () => {
    const { port } = await serve({ keepAliveTimeout: 1 });
    const t0 = Date.now();
    const answer = await rawExchange(port, pipelinedGets(1), 5_000);
    expect(statuses(answer.text)).toEqual([200]);
    expect(answer.closed).toBe(true);
    expect(Date.now() - t0).toBeLessThan(3_000);
  });

  it('answers an oversized request head with 431, not a reset', async () => {
    const { port } = await serve();
    const answer = await rawExchange(port, oversizedHead(HTTP_LIMITS.maxHeaderBytes * 2));
    expect(statuses(answer.text)).toEqual([431]);
    expect(answer.text).toContain('Request Header Fields Too Large');
    expect(answer.closed).toBe(true);
    // Just under the limit is fine.
    const fine = await fetch(`http://127.0.0.1:${port}/`, { headers: { 'x-big': 'a'.repeat(HTTP_LIMITS.maxHeaderBytes - 1024) } });
    expect(fine.status).toBe(200);
  });

  it('answers garbage with 400 and keeps serving', async () => {
    const { port, url } = await serve();
    const answer = await rawExchange(port, '\u0000\u0001 not http at all\r\n\r\n');
    expect(statuses(answer.text)).toEqual([400]);
    expect((await fetch(url)).status).toBe(200);
  });

  it('answers a few pipelined requests and closes a connection that pipelines more than maxPipelined unread', async () => {
    let handled = 0;
    const { port } = await serve({}, (req, res) => {
      handled++;
      ok(req, res);
    });
    const few = await rawExchange(port, pipelinedGets(HTTP_LIMITS.maxPipelined, true));
    expect(statuses(few.text)).toEqual(Array(HTTP_LIMITS.maxPipelined).fill(200));

    handled = 0;
    const flood = await rawExchange(port, pipelinedGets(2_000), 5_000);
    expect(flood.closed).toBe(true);
    // Without the cap every one of the 2,000 requests would be handled.
    expect(handled).toBeLessThanOrEqual(HTTP_LIMITS.maxPipelined);
    expect(statuses(flood.text).length).toBeLessThanOrEqual(HTTP_LIMITS.maxPipelined);
  });

  it('ends the requests Node still parses after closing a flooding connection, without an error each', async () => {
    const { server, port } = await serve();
    const requests: http.IncomingMessage[] = [];
    server.on('request', (req: http.IncomingMessage) => requests.push(req));
    const flood = await rawExchange(port, pipelinedGets(2_000), 5_000);
    expect(flood.closed).toBe(true);
    expect(await until(() => requests.length > 0 && requests.every((r) => r.destroyed), 5_000)).toBe(true);
    // Node ends those left at the socket's close with an error and formats its stack: a flood's
    // largest cost (bench:pipelining). Only the requests the connection had in flight get one.
    expect(requests.length).toBeGreaterThan(HTTP_LIMITS.maxPipelined);
    expect(requests.filter((r) => r.errored).length).toBeLessThanOrEqual(HTTP_LIMITS.maxPipelined + 1);
  });

  describe.skipIf(!needs('openssl'))('over HTTPS', () => {
    const tmp = tempDir();
    let tls: { key: string; cert: string };
    beforeAll(() => {
      selfSigned(tmp.dir);
      tls = { key: readFileSync(path.join(tmp.dir, 'key.pem'), 'utf8'), cert: readFileSync(path.join(tmp.dir, 'cert.pem'), 'utf8') };
    });
    afterAll(() => tmp.remove());

    it('counts closed TLS connections as gone and answers 431 as over HTTP', async () => {
      const { port } = await serve({ maxConnections: 3 }, ok, tls);
      const get = (headers: Record<string, string> = {}): Promise<number> =>
        new Promise((resolve) => {
          const req = https.get({ host: '127.0.0.1', port, ca: tls.cert, agent: false, headers }, (res) => {
            res.resume();
            res.on('end', () => resolve(res.statusCode ?? 0));
          });
          req.on('error', () => resolve(-1));
        });
      // Ten connections one after the other through a cap of three: none is refused.
      const got: number[] = [];
      for (let i = 0; i < 10; i++) got.push(await get());
      expect(got).toEqual(Array(10).fill(200));
      expect(await get({ 'x-big': 'a'.repeat(HTTP_LIMITS.maxHeaderBytes * 2) })).toBe(431);
    });
  });
});
