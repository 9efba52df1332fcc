// Webhook writer: the documented JSON body, headers and auth, TLS with a client certificate, and
// the answers of a receiver that goes wrong: 4xx dropped and logged, 5xx/429/garbage/no answer thrown.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { WebhookWriter, webhookBody, type WebhookConfig } from '../../src/writers/webhook/index.js';
import { writerParamsSchema } from '../../src/config/schema.js';
import { createLogger } from '../../src/log.js';
import { ParamError, RetryLaterError, type Notification, type WriterContext } from '../../src/sdk/index.js';
import { validate } from '../helpers/validate.js';
import { receiver, type Receiver } from '../helpers/http-receiver.js';
import { certificateAuthority, signedBy } from '../helpers/certs.js';
import { tempDir } from '../helpers/net.js';
import { batch, point } from '../helpers/points.js';
import { needs } from '../helpers/servers.js';

const SCHEMA = writerParamsSchema(WebhookWriter.schema, 'Webhook');

function writer(params: Record<string, unknown>, configDir = '.'): { w: WebhookWriter; lines: string[] } {
  const data = { type: 'Webhook', ...params };
  expect(validate(SCHEMA, data, [])).toEqual([]);
  const lines: string[] = [];
  const log = createLogger('', { level: 'debug', write: (l) => lines.push(l) });
  const ctx: WriterContext = { configDir, tickTime: 1, log, reportDropped: () => {} };
  const w = new WebhookWriter(data as WebhookConfig, ctx);
  w.id = 'Webhook#1';
  w.start(ctx);
  return { w, lines };
}

const N: Notification = {
  time: 1_700_000_000_515,
  severity: 'failure',
  host: 'db1',
  plugin: 'df',
  pluginInstance: 'root',
  type: 'percent_bytes',
  typeInstance: 'used',
  message:
    'Host db1, plugin df (instance root) type percent_bytes (instance used): Data source "value" is currently 97.1. That is above the failure threshold of 95.0.',
  meta: { DataSource: 'value', CurrentValue: 97.1, FailureMax: 95, persist: false },
  source: 'threshold',
};

describe('Webhook body', () => {
  it('is {notifications: [...]} with ISO time and snake_case fields; absent fields are left out', () => {
    const body = JSON.parse(JSON.stringify(webhookBody([N, { time: 0, severity: 'okay', host: 'h', plugin: 'exec', message: 'fine', source: 'c.Exec' }])));
    expect(body).toEqual({
      notifications: [
        {
          time: '2023-11-14T22:13:20.515Z',
          severity: 'failure',
          host: 'db1',
          plugin: 'df',
          plugin_instance: 'root',
          type: 'percent_bytes',
          type_instance: 'used',
          message: N.message,
          meta: { DataSource: 'value', CurrentValue: 97.1, FailureMax: 95, persist: false },
          source: 'threshold',
        },
        { time: '1970-01-01T00:00:00.000Z', severity: 'okay', host: 'h', plugin: 'exec', message: 'fine', source: 'c.Exec' },
      ],
    });
  });
});

describe('Webhook writer', () => {
  let r: Receiver;
  beforeAll(async () => {
    r = await receiver();
  });
  afterAll(async () => {
    await r.close();
  });

  it('POSTs one request per list, with its headers and basic auth; samples are ignored', async () => {
    const { w } = writer({ url: `${r.url}/hook?x=1`, headers: { 'X-Team': 'ops' }, username: 'u', password: 'p' });
    r.requests.length = 0;
    r.answer = { status: 200 };
    await w.write(batch([point('c.Dummy', 1)]));
    await w.notify([N, { ...N, severity: 'okay' }]);
    await w.notify([]);
    expect(r.requests).toHaveLength(1);
    const q = r.requests[0]!;
    expect([q.method, q.url, q.headers['content-type'], q.headers['x-team'], q.headers.authorization]).toEqual([
      'POST',
      '/hook?x=1',
      'application/json',
      'ops',
      `Basic ${Buffer.from('u:p').toString('base64')}`,
    ]);
    expect(JSON.parse(q.body)).toEqual(JSON.parse(JSON.stringify(webhookBody([N, { ...N, severity: 'okay' }]))));
    w.stop();
  });

  it('5xx, 429 (with Retry-After) and garbage are thrown for the core to retry; another 4xx is dropped and logged', async () => {
    const { w, lines } = writer({ url: r.url });
    r.answer = { status: 503, body: 'down' };
    await expect(w.notify([N])).rejects.toThrow(/answered 503 Service Unavailable: down/);
    r.answer = { status: 429 };
    await expect(w.notify([N])).rejects.toThrow(/429/);
    r.answer = 'garbage';
    await expect(w.notify([N])).rejects.toThrow(/Parse Error/);
    r.answer = { status: 404, body: 'no such hook' };
    await expect(w.notify([N])).resolves.toBeUndefined();
    expect(lines.join('\n')).toMatch(/refused 1 notification\(s\): 404 Not Found: no such hook; dropped/);
    w.stop();
  });

  it('honours a Retry-After on 429 or 503', async () => {
    const { w } = writer({ url: r.url });
    r.answer = { status: 429, headers: { 'Retry-After': '7' } };
    const err = await w.notify([N]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RetryLaterError);
    expect((err as RetryLaterError).retryAfterMs).toBe(7000);
    r.answer = { status: 200 };
    w.stop();
  });

  it('a receiver that never answers fails the request at the timeout', async () => {
    const { w } = writer({ url: r.url, timeout: 0.3 });
    r.answer = 'hang';
    const t0 = Date.now();
    await expect(w.notify([N])).rejects.toThrow(/no answer within 0.3 s/);
    expect(Date.now() - t0).toBeLessThan(2000);
    r.answer = { status: 200 };
    w.stop();
  });

  it('checks its params with their path', () => {
    const make = (p: Record<string, unknown>) => () => writer(p);
    const err = (fn: () => unknown) => {
      try {
        fn();
      } catch (e) {
        return e instanceof ParamError ? e.param : String(e);
      }
      return 'none';
    };
    expect(err(make({ url: 'hooks.example.net/x' }))).toBe('url');
    expect(err(make({ url: 'http://x', username: 'u', bearerToken: 't' }))).toBe('bearerToken');
    expect(err(make({ url: 'https://x', tls: { cert: 'c.pem' } }))).toBe('tls.key');
    expect(err(make({ url: 'https://x', tls: { ca: 'missing.pem' } }))).toBe('tls.ca');
  });
});

describe.skipIf(!needs('openssl'))('Webhook over TLS with a client certificate', () => {
  it('verifies the server with the CA and presents the client certificate', async () => {
    const tmp = tempDir();
    const ca = certificateAuthority(tmp.dir);
    const server = signedBy(tmp.dir, ca, 'server');
    const client = signedBy(tmp.dir, ca, 'client', { client: true });
    const seen: { cn?: string; body: string }[] = [];
    const pem = (f: string) => readFileSync(path.join(tmp.dir, f));
    const srv = https.createServer(
      { key: pem(server.key), cert: pem(server.cert), ca: pem(ca.cert), requestCert: true, rejectUnauthorized: true },
      (req, res) => {
        let body = '';
        req.on('data', (d: Buffer) => (body += d.toString()));
        req.on('end', () => {
          const peer = (req.socket as import('node:tls').TLSSocket).getPeerCertificate();
          seen.push({ cn: String(peer.subject?.CN), body });
          res.end();
        });
      },
    );
    await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
    const port = (srv.address() as AddressInfo).port;
    try {
      const { w } = writer({ url: `https://localhost:${port}/`, tls: { ca: ca.cert, cert: client.cert, key: client.key } }, tmp.dir);
      await w.notify([N]);
      w.stop();
      expect(seen).toHaveLength(1);
      expect(seen[0]!.cn).toBe('client');
      expect(JSON.parse(seen[0]!.body).notifications[0].host).toBe('db1');
      // Without the client certificate the server refuses the handshake: thrown, retried later.
      const { w: anon } = writer({ url: `https://localhost:${port}/`, tls: { ca: ca.cert } }, tmp.dir);
      await expect(anon.notify([N])).rejects.toThrow();
      anon.stop();
    } finally {
      await new Promise<void>((resolve) => srv.close(() => resolve()));
      tmp.remove();
    }
  });
});
