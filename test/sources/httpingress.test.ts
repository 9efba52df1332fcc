import { describe, it, expect, afterEach } from 'vitest';
import http from 'node:http';
import net from 'node:net';
import { readdirSync } from 'node:fs';
import { HttpIngressSource, MAX_BODY_BYTES, MAX_BYTES_IN_FLIGHT, MAX_LABEL_VALUE_LENGTH, type HttpIngressConfig } from '../../src/sources/httpingress/index.js';
import { HTTP_LIMITS } from '../../src/core/http-server.js';
import { crowd, oversizedHead, pipelinedGets, rawExchange, rss, statuses, until } from '../helpers/hostile-http.js';
import { probeOnce, valueOf, quietLog } from '../helpers/probe.js';
import { readmeExamples, paramProblems } from '../helpers/readme-examples.js';
import { createLogger } from '../../src/log.js';
import { build } from '../helpers/plugin.js';

const running: HttpIngressSource[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((s) => s.shutdown()));
});

async function start(extra: Partial<HttpIngressConfig> = {}, log = quietLog): Promise<{ src: HttpIngressSource; url: string }> {
  const src = build(HttpIngressSource, {
    type: 'HttpIngress',
    host: '127.0.0.1',
    port: 0,
    metrics: {
      sample_metric: { type: 'counter', labels: ['host'] },
      temperature: { labels: ['room', 'floor'], help: 'Room temperature', unit: 'celsius' },
      plain: {},
    },
    ...extra,
  });
  await src.init({ log, tickTime: 10, configDir: process.cwd(), signal: AbortSignal.timeout(10_000) });
  running.push(src);
  return { src, url: `http://127.0.0.1:${src.boundPort}/` };
}

async function post(url: string, body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

describe('HttpIngress', () => {
  it('keeps every label set, sets gauges and adds to counters', async () => {
    const { src, url } = await start();
    expect(await probeOnce(src)).toEqual([]);
    expect((await post(url, { metrics: { sample_metric: { value: 2, labels: { host: 'a' } } } })).status).toBe(200);
    await post(url, { metrics: { sample_metric: { value: 3, labels: { host: 'a' } } } });
    await post(url, { metrics: { sample_metric: { value: 1, labels: { host: 'b' } } } });
    const r = await post(url, {
      metrics: {
        temperature: { value: 21.5, labels: { room: 'kitchen', floor: 0 } },
        plain: { value: -4 },
      },
    });
    expect(r).toEqual({ status: 200, json: { status: 'metrics updated', updated: 2 } });
    await post(url, { metrics: { temperature: { value: 19, labels: { room: 'bath', floor: '1' } } } });
    await post(url, { metrics: { temperature: { value: 22, labels: { room: 'kitchen', floor: '0' } } } });

    const samples = await probeOnce(src);
    expect(samples).toHaveLength(5);
    expect(valueOf(samples, 'sample_metric', { host: 'a' })).toBe(5);
    expect(valueOf(samples, 'sample_metric', { host: 'b' })).toBe(1);
    expect(valueOf(samples, 'temperature', { room: 'kitchen', floor: '0' })).toBe(22);
    expect(valueOf(samples, 'temperature', { room: 'bath', floor: '1' })).toBe(19);
    expect(valueOf(samples, 'plain')).toBe(-4);
    expect(samples.find((s) => s.name === 'sample_metric')?.type).toBe('counter');
    expect(samples.find((s) => s.name === 'temperature')?.type).toBe('gauge');
    expect(samples.find((s) => s.name === 'temperature')?.help).toBe('Room temperature');
    expect(samples.find((s) => s.name === 'temperature')?.unit).toBe('celsius');
    expect(samples.find((s) => s.name === 'plain')?.unit).toBeUndefined();
  });

  it('answers 400 with a JSON error for bad input and applies nothing of a bad request', async () => {
    const { src, url } = await start();
    const cases: [unknown, RegExp][] = [
      ['{"metrics": ', /invalid JSON/],
      ['\u0000\u00ff garbage', /invalid JSON/],
      [[1, 2], /must be a JSON object/],
      [{ values: {} }, /"metrics" must be an object/],
      [{ metrics: { nope: { value: 1 } } }, /unknown metric "nope"/],
      [{ metrics: { sample_metric: { value: 1 } } }, /missing label "host"/],
      [{ metrics: { sample_metric: { value: 1, labels: { host: 'a', extra: 'x' } } } }, /unknown label "extra"/],
      [{ metrics: { sample_metric: { value: '12 apples', labels: { host: 'a' } } } }, /value must be a finite number or a numeric string, got "12 apples"/],
      [{ metrics: { sample_metric: { value: null, labels: { host: 'a' } } } }, /value must be a finite number or a numeric string, got null/],
      [{ metrics: { sample_metric: { value: -1, labels: { host: 'a' } } } }, /must not be negative/],
      [{ metrics: { temperature: { value: 1, labels: { room: { x: 1 }, floor: '1' } } } }, /label "room" must be a string/],
      [{ metrics: { plain: 5 } }, /must be an object/],
      // The first entry is fine, the second is not: neither is applied.
      [{ metrics: { plain: { value: 7 }, temperature: { value: 1 } } }, /missing label "room"/],
      [{ metrics: { constructor: { value: 1 } } }, /unknown metric "constructor"/],
    ];
    for (const [body, message] of cases) {
      const r = await post(url, body);
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(String(r.json['error'])).toMatch(message);
    }
    expect(await probeOnce(src)).toEqual([]);
  });

  it('refuses other content types (415) and methods (405), answers GET as alive', async () => {
    const { url } = await start();
    const form = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'a=1' });
    expect(form.status).toBe(415);
    expect(((await form.json()) as { error: string }).error).toMatch(/content-type must be JSON/);
    const put = await fetch(url, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(put.status).toBe(405);
    const get = await fetch(url);
    expect(await get.json()).toEqual({ status: 'alive' });
  });

  it('refuses a body over 1 MiB with 413 from its Content-Length, without waiting for the body', async () => {
    const { url } = await start();
    const u = new URL(url);
    const status = await new Promise<number>((resolve, reject) => {
      const req = http.request(
        { host: u.hostname, port: u.port, method: 'POST', headers: { 'content-type': 'application/json', 'content-length': String(50 * 1024 * 1024) } },
        (res) => {
          resolve(res.statusCode ?? 0);
          res.resume();
        },
      );
      req.on('error', reject);
      // Only the headers and a few bytes are ever sent: the answer must not wait for 50 MiB.
      req.write('{"metrics":');
    });
    expect(status).toBe(413);
  });

  it('stops reading a chunked body once it passes 1 MiB and answers 413', async () => {
    const { src, url } = await start();
    let written = 0;
    // A raw socket, read as bytes arrive: an HTTP client may report its failed write before the
    // answer it has already received (Node 24's does, now and then), which says nothing of the server.
    const status = await new Promise<number>((resolve) => {
      const s = net.connect({ port: Number(new URL(url).port), host: '127.0.0.1' });
      let text = '';
      let settled = false;
      const done = (): void => {
        if (settled) return;
        settled = true;
        s.destroy();
        resolve(statuses(text)[0] ?? -1);
      };
      s.on('data', (d: Buffer) => {
        text += d.toString('latin1');
        if (/\r\n\r\n/.test(text)) done();
      });
      s.on('error', done);
      s.on('close', done);
      const body = Buffer.alloc(64 * 1024, 0x20);
      const chunk = Buffer.concat([Buffer.from(`${body.length.toString(16)}\r\n`), body, Buffer.from('\r\n')]);
      const pump = (): void => {
        // Bounded: at most 64 MiB, far more than the server may read.
        while (!settled && written < 64 * 1024 * 1024) {
          written += body.length;
          if (!s.write(chunk)) return void s.once('drain', pump);
        }
        if (!settled) s.end('0\r\n\r\n');
      };
      s.once('connect', () => {
        s.write('POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n');
        pump();
      });
    });
    expect(status).toBe(413);
    expect(written).toBeLessThan(64 * 1024 * 1024);
    // The receiver still works for the next client.
    expect((await post(url, { metrics: { plain: { value: 1 } } })).status).toBe(200);
    expect(valueOf(await probeOnce(src), 'plain')).toBe(1);
  });

  it('requires the bearer token when one is configured and never logs it', async () => {
    const lines: string[] = [];
    const log = createLogger('t', { level: 'debug', write: (l) => lines.push(l) });
    const { src, url } = await start({ token: 's3cret-ingress-token' }, log);
    const body = { metrics: { plain: { value: 3 } } };
    expect((await post(url, body)).status).toBe(401);
    expect((await post(url, body, { authorization: 'Bearer wrong' })).status).toBe(401);
    expect((await post(url, body, { authorization: 'Bearer s3cret-ingress-token-longer' })).status).toBe(401);
    expect((await post(url, body, { authorization: 's3cret-ingress-token' })).status).toBe(401);
    expect(await probeOnce(src)).toEqual([]);
    const ok = await post(url, body, { authorization: 'Bearer s3cret-ingress-token' });
    expect(ok.status).toBe(200);
    expect(valueOf(await probeOnce(src), 'plain')).toBe(3);
    expect(lines.some((l) => l.includes('401'))).toBe(true);
    expect(lines.join('\n')).not.toContain('s3cret-ingress-token');
  });

  it('caps the number of label sets', async () => {
    const { src, url } = await start({ maxSeries: 3 });
    for (const host of ['a', 'b', 'c']) expect((await post(url, { metrics: { sample_metric: { value: 1, labels: { host } } } })).status).toBe(200);
    const r = await post(url, { metrics: { sample_metric: { value: 1, labels: { host: 'd' } } } });
    expect(r.status).toBe(400);
    expect(String(r.json['error'])).toMatch(/too many label sets/);
    // Updating a known label set is still fine.
    expect((await post(url, { metrics: { sample_metric: { value: 1, labels: { host: 'a' } } } })).status).toBe(200);
    expect(valueOf(await probeOnce(src), 'sample_metric', { host: 'a' })).toBe(2);
  });

  it('reports a port in use clearly at init and frees its port at shutdown', async () => {
    const blocker = net.createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', () => r()));
    const port = (blocker.address() as net.AddressInfo).port;
    const src = build(HttpIngressSource, { type: 'HttpIngress', host: '127.0.0.1', port, metrics: { m: {} } });
    await expect(src.init({ log: quietLog, tickTime: 10, configDir: '.', signal: AbortSignal.timeout(10_000) })).rejects.toThrow(
      `cannot listen on 127.0.0.1:${port}: address already in use`,
    );
    await new Promise((r) => blocker.close(r));

    // Shutdown closes even a keep-alive connection and releases the port.
    const first = build(HttpIngressSource, { type: 'HttpIngress', host: '127.0.0.1', port, metrics: { m: {} } });
    await first.init({ log: quietLog, tickTime: 10, configDir: '.', signal: AbortSignal.timeout(10_000) });
    const agent = new http.Agent({ keepAlive: true });
    await new Promise<void>((resolve) =>
      http.get({ host: '127.0.0.1', port, agent }, (res) => {
        res.resume();
        res.on('end', () => resolve());
      }),
    );
    await first.shutdown();
    agent.destroy();
    const again = build(HttpIngressSource, { type: 'HttpIngress', host: '127.0.0.1', port, metrics: { m: {} } });
    await again.init({ log: quietLog, tickTime: 10, configDir: '.', signal: AbortSignal.timeout(10_000) });
    running.push(again);
  });
  it('schema: accepts the README example, rejects bad metric definitions', () => {
    expect(readmeExamples('httpingress')).toHaveLength(1);
    for (const ex of readmeExamples('httpingress')) expect(paramProblems(HttpIngressSource.schema, 'HttpIngress', ex)).toEqual([]);
    expect(paramProblems(HttpIngressSource.schema, 'HttpIngress', { type: 'HttpIngress', port: 1 }).join('\n')).toMatch(/metrics: is required/);
    expect(paramProblems(HttpIngressSource.schema, 'HttpIngress', { type: 'HttpIngress', port: 1, metrics: { m: { type: 'histogram' } } }).join('\n')).toMatch(
      /gauge/,
    );
    expect(paramProblems(HttpIngressSource.schema, 'HttpIngress', { type: 'HttpIngress', port: 1, metrics: { m: { labels: ['bad-name'] } } })).not.toEqual([]);
  });
});

// Issue 17, items 6 and 8: each attack at a bounded size on loopback.
describe('HttpIngress against hostile clients', () => {
  const portOf = (url: string): number => Number(new URL(url).port);

  it('300 slow-header sockets do not take the server: the longest idle are closed at the cap and a push still succeeds', async () => {
    const { src, url } = await start();
    const fds = (): number => readdirSync('/proc/self/fd').length;
    const fdsBefore = fds();
    const slow = await crowd(portOf(url), 300, 'POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n');
    try {
      const excess = 300 - HTTP_LIMITS.maxConnections;
      expect(await until(() => slow.closedByServer() >= excess, 3_000)).toBe(true);
      expect(slow.open()).toBeLessThanOrEqual(HTTP_LIMITS.maxConnections);
      // This process holds both ends: what is not a client socket is the server's.
      await until(() => false, 100);
      const serverFds = fds() - fdsBefore - slow.open();
      console.log(`ingress slow headers: 300 sockets, ${slow.closedByServer()} closed by the server, ${slow.open()} open, server descriptors +${serverFds}`);
      expect(serverFds).toBeLessThanOrEqual(HTTP_LIMITS.maxConnections);
      const r = await post(url, { metrics: { plain: { value: 42 } } });
      expect(r.status).toBe(200);
      expect(valueOf(await probeOnce(src), 'plain')).toBe(42);
    } finally {
      slow.destroy();
    }
  });

  it('answers an oversized request head with 431, not a reset', async () => {
    const { url } = await start();
    const answer = await rawExchange(portOf(url), oversizedHead(64 * 1024, 'POST'));
    expect(statuses(answer.text)).toEqual([431]);
  });

  it('bounds pipelined requests per connection: of 2,000 pipelined in one write at most maxPipelined are answered', async () => {
    const { src, url } = await start();
    const flood = await rawExchange(portOf(url), pipelinedGets(2_000), 5_000);
    expect(flood.closed).toBe(true);
    expect(statuses(flood.text).length).toBeLessThanOrEqual(HTTP_LIMITS.maxPipelined);
    // A client that reads its answers may send pushes back to back on one connection.
    const body = JSON.stringify({ metrics: { sample_metric: { value: 1, labels: { host: 'p' } } } });
    const push = `POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`;
    const pushes = await rawExchange(portOf(url), push.repeat(50) + pipelinedGets(1, true));
    expect(statuses(pushes.text)).toEqual(Array(51).fill(200));
    expect(valueOf(await probeOnce(src), 'sample_metric', { host: 'p' })).toBe(50);
  });

  it('bounds body bytes in flight over all connections: 250 stalled 1 MB bodies hold at most 16 MiB, the rest get 503', async () => {
    const { src, url } = await start();
    const port = portOf(url);
    const n = 250;
    const bodySize = 1_000_000;
    // Each client declares 1 MB, sends all but the last 1,000 bytes and stalls.
    const part = Buffer.alloc(bodySize - 1_000, 0x20);
    const head = `POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${bodySize}\r\n\r\n`;
    const before = rss();
    let peak = before;
    const sampler = setInterval(() => (peak = Math.max(peak, rss())), 20);
    const answers: string[] = [];
    const sockets: net.Socket[] = [];
    try {
      await Promise.all(
        Array.from(
          { length: n },
          (_, i) =>
            new Promise<void>((resolve) => {
              const s = net.connect({ port, host: '127.0.0.1' });
              sockets.push(s);
              answers[i] = '';
              s.on('data', (d: Buffer) => (answers[i] += d.toString('latin1')));
              s.on('error', () => resolve());
              s.on('close', () => resolve());
              s.once('connect', () => {
                s.write(head);
                // Resolves once the kernel took it all (the server read it) or the server closed.
                s.write(part, () => resolve());
              });
            }),
        ),
      );
      // Time for the server to read what the kernel holds for it and answer the rest (a loaded
      // machine takes longer): at least 1 s, then until no more than the budget's clients are held.
      const limit = MAX_BYTES_IN_FLIGHT / (bodySize - 1_000);
      await until(() => false, 1_000);
      await until(() => sockets.filter((s) => !s.destroyed).length <= limit, 10_000);
      peak = Math.max(peak, rss());
      const refused = answers.filter((a) => statuses(a)[0] === 503).length;
      const held = sockets.filter((s) => !s.destroyed).length;
      console.log(
        `ingress bodies in flight: ${n} clients, ${held} held, ${refused} answered 503; RSS ${(before / 2 ** 20).toFixed(0)} MiB before, peak ${(peak / 2 ** 20).toFixed(0)} MiB (+${((peak - before) / 2 ** 20).toFixed(0)} MiB)`,
      );
      expect(held).toBeLessThanOrEqual(limit);
      expect(refused).toBeGreaterThanOrEqual(n - held - 5);
      expect(answers.find((a) => statuses(a)[0] === 503)).toMatch(/Retry-After: 1/i);
      // 250 MB held would be the unbounded case; the budget is 16 MiB.
      expect(peak - before).toBeLessThan(64 * 2 ** 20);
      // A small push still fits in what is left.
      expect((await post(url, { metrics: { plain: { value: 1 } } })).status).toBe(200);
    } finally {
      clearInterval(sampler);
      for (const s of sockets) s.destroy();
    }
    // The stalled clients are gone: their bytes are given back, a body near 1 MiB fits again.
    await until(() => false, 200);
    const big = JSON.stringify({ metrics: { plain: { value: 2 } } }) + ' '.repeat(MAX_BODY_BYTES - 100);
    expect((await post(url, big)).status).toBe(200);
    expect(valueOf(await probeOnce(src), 'plain')).toBe(2);
  });

  it('refuses a 1 MB label value (400) and keeps one of 1 KiB', async () => {
    const { src, url } = await start();
    const r = await post(url, { metrics: { sample_metric: { value: 1, labels: { host: 'x'.repeat(1_000_000) } } } });
    expect(r.status).toBe(400);
    expect(String(r.json['error'])).toMatch(`label "host" is longer than ${MAX_LABEL_VALUE_LENGTH} characters`);
    expect(await probeOnce(src)).toEqual([]);
    const long = 'y'.repeat(MAX_LABEL_VALUE_LENGTH);
    expect((await post(url, { metrics: { sample_metric: { value: 1, labels: { host: long } } } })).status).toBe(200);
    expect(valueOf(await probeOnce(src), 'sample_metric', { host: long })).toBe(1);
  });

  it('echoes at most a short piece of an unknown metric or label name', async () => {
    const { url } = await start();
    const name = 'm'.repeat(100_000);
    const r = await post(url, { metrics: { [name]: { value: 1 } } });
    expect(r.status).toBe(400);
    expect(String(r.json['error']).length).toBeLessThan(200);
  });

  it('refuses a counter pushed past the largest finite number (400) and keeps its value', async () => {
    const { src, url } = await start();
    const push = (value: number) => post(url, { metrics: { sample_metric: { value, labels: { host: 'o' } } } });
    expect((await push(Number.MAX_VALUE)).status).toBe(200);
    const r = await push(Number.MAX_VALUE);
    expect(r.status).toBe(400);
    expect(String(r.json['error'])).toMatch(/counter would pass the largest number/);
    expect(valueOf(await probeOnce(src), 'sample_metric', { host: 'o' })).toBe(Number.MAX_VALUE);
    // 1e309 is not a finite JSON number at all.
    expect((await post(url, '{"metrics": {"sample_metric": {"value": 1e309, "labels": {"host": "o"}}}}')).status).toBe(400);
  });

  it('maxSeries holds under many distinct label sets', async () => {
    const { src, url } = await start({ maxSeries: 50 });
    let refused = 0;
    for (let i = 0; i < 80; i++) {
      const r = await post(url, { metrics: { sample_metric: { value: 1, labels: { host: `h${i}` } } } });
      if (r.status === 400) refused++;
    }
    expect(refused).toBe(30);
    expect(await probeOnce(src)).toHaveLength(50);
  });
});
