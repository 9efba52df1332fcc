// TpLinkEap: the parser on test/fixtures/tplinkeap/ (constructed, see its README), then the source
// against a local HTTP server that acts as the EAP's web UI: the index page hands out a COOKIE,
// a form POST with the user and the upper-case MD5 of the password binds it, and the /data/ JSON
// answers `"timeout": "true"` to any request without a bound cookie or without the UI's Referer.
import { afterEach, describe, expect, it } from 'vitest';
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { TpLinkEapSource } from '../../src/sources/tplinkeap/index.js';
import { asAnswer, firstAp, sessionExpired, wifiCounters } from '../../src/sources/tplinkeap/parse.js';
import { redact } from '../../src/sdk/index.js';
import { probeOnce } from '../helpers/probe.js';
import { build, configFor, pluginContext } from '../helpers/plugin.js';

const FIX = path.join(__dirname, '../fixtures/tplinkeap');
const fixture = (name: string): string => readFileSync(path.join(FIX, name), 'utf8');
const json = (name: string): Record<string, unknown> => JSON.parse(fixture(name)) as Record<string, unknown>;
const MAC = '50-C7-BF-A1-B2-C3';
const PASSWORD = 'eap-admin-pass';

const EXPECTED = [
  { name: 'total_clients', value: 7 },
  { name: 'packets', value: 1843322, labels: { wifi: '2ghz', direction: 'rx' } },
  { name: 'packets', value: 2990181, labels: { wifi: '2ghz', direction: 'tx' } },
  { name: 'bytes', value: 412338871, labels: { wifi: '2ghz', direction: 'rx' }, unit: 'bytes' },
  { name: 'bytes', value: 3180046620, labels: { wifi: '2ghz', direction: 'tx' }, unit: 'bytes' },
  { name: 'errors', value: 0, labels: { wifi: '2ghz', direction: 'rx' } },
  { name: 'errors', value: 12, labels: { wifi: '2ghz', direction: 'tx' } },
  { name: 'packets', value: 9912034, labels: { wifi: '5ghz', direction: 'rx' } },
  { name: 'packets', value: 14820551, labels: { wifi: '5ghz', direction: 'tx' } },
  { name: 'bytes', value: 2211850347, labels: { wifi: '5ghz', direction: 'rx' }, unit: 'bytes' },
  { name: 'bytes', value: 19044132001, labels: { wifi: '5ghz', direction: 'tx' }, unit: 'bytes' },
  { name: 'errors', value: 2, labels: { wifi: '5ghz', direction: 'rx' } },
  { name: 'errors', value: 0, labels: { wifi: '5ghz', direction: 'tx' } },
];

describe('EAP answer parser', () => {
  it('reads the first access point and the counters of a radio, as numbers or numeric strings', () => {
    expect(firstAp(json('aplist.json'), 'x')).toEqual({ mac: MAC, clients: 7 });
    expect(wifiCounters(json('interface-wifi0.json'), 'x')).toEqual({
      rx_packets: 1843322,
      tx_packets: 2990181,
      rx_bytes: 412338871,
      tx_bytes: 3180046620,
      rx_errors: 0,
      tx_errors: 12,
    });
    expect(wifiCounters(json('interface-wifi1.json'), 'x').tx_bytes).toBe(19044132001);
  });
  it('tells a live session from a gone one as the Python pollect does', () => {
    expect(sessionExpired(json('aplist.json'))).toBe(false);
    expect(sessionExpired(json('session-expired.json'))).toBe(true);
    expect(sessionExpired({ data: [] })).toBe(false);
  });
  it('refuses answers of the wrong shape with the field named', () => {
    expect(() => asAnswer([1], 'w')).toThrow(/w: not an EAP answer/);
    expect(() => firstAp({ data: {} }, 'w')).toThrow(/"data" is not a list of access points/);
    expect(() => firstAp({ data: [] }, 'w')).toThrow(/the access point list is empty/);
    expect(() => firstAp({ data: [{ MAC, StaNum: 'many' }] }, 'w')).toThrow(/StaNum is "many", not a count/);
    expect(() => wifiCounters({ data: { rx_packets: 1 } }, 'w')).toThrow(/tx_packets is missing, not a count/);
    expect(() => wifiCounters({ data: { ...(json('interface-wifi0.json').data as object), rx_bytes: -5 } }, 'w')).toThrow(/rx_bytes is -5/);
  });
});

const servers: Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
});

interface Eap {
  url: string;
  log: string[];
  /** Drops every session, as the EAP does when someone logs in on its UI. */
  expireAll(): void;
}

const md5Upper = (s: string): string => createHash('md5').update(s).digest('hex').toUpperCase();

async function eap(answer?: (pathname: string, res: ServerResponse) => boolean): Promise<Eap> {
  const sessions = new Map<string, boolean>(); // cookie -> logged in
  const log: string[] = [];
  let url = '';
  const cookieOf = (req: IncomingMessage): string | undefined => /(?:^|;\s*)COOKIE=([^;]+)/.exec(req.headers.cookie ?? '')?.[1];
  const srv = createServer((req, res) => {
    const u = new URL(req.url!, 'http://x');
    log.push(`${req.method} ${u.pathname}${u.searchParams.get('interface') ? ' ' + u.searchParams.get('interface') : ''}`);
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      if (u.pathname === '/' && req.method === 'GET') {
        const sid = randomBytes(12).toString('hex');
        sessions.set(sid, false);
        return void res.writeHead(200, { 'content-type': 'text/html', 'set-cookie': `COOKIE=${sid}; path=/` }).end('<html>login</html>');
      }
      if (u.pathname === '/' && req.method === 'POST') {
        const form = new URLSearchParams(body);
        const sid = cookieOf(req);
        if (sid && sessions.has(sid) && form.get('username') === 'admin' && form.get('password') === md5Upper(PASSWORD)) sessions.set(sid, true);
        return void res.writeHead(200, { 'content-type': 'text/html' }).end('<html>main</html>');
      }
      if (answer?.(u.pathname, res)) return;
      if (!u.pathname.startsWith('/data/')) return void res.writeHead(404).end();
      const sid = cookieOf(req);
      if (!sid || !sessions.get(sid) || req.headers.referer !== url)
        return void res.writeHead(200, { 'content-type': 'application/json' }).end(fixture('session-expired.json'));
      const reply = (name: string): void => void res.writeHead(200, { 'content-type': 'application/json' }).end(fixture(name));
      if (u.pathname === '/data/monitor.ap.aplist.json' && u.searchParams.get('operation') === 'load') return reply('aplist.json');
      if (u.pathname === '/data/monitor.ap.interface.json' && u.searchParams.get('apMac') === MAC && u.searchParams.get('operation') === 'read') {
        const iface = u.searchParams.get('interface');
        if (iface === 'WIFI0') return reply('interface-wifi0.json');
        if (iface === 'WIFI1') return reply('interface-wifi1.json');
      }
      res.writeHead(404).end();
    });
  });
  servers.push(srv);
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(srv.address() as AddressInfo).port}`;
  return { url, log, expireAll: () => sessions.clear() };
}

const source = (url: string, params: Record<string, unknown> = {}) => build(TpLinkEapSource, { url, user: 'admin', password: PASSWORD, ...params });

describe('TpLinkEap source against a local EAP web UI', () => {
  it('logs in once, keeps the session cookie, and logs in again when the session is gone', async () => {
    const box = await eap();
    const src = source(box.url);
    expect(await probeOnce(src)).toEqual(EXPECTED);
    expect(box.log).toEqual([
      'GET /',
      'POST /',
      'GET /data/monitor.ap.aplist.json',
      'GET /data/monitor.ap.interface.json WIFI0',
      'GET /data/monitor.ap.interface.json WIFI1',
    ]);
    box.log.length = 0;
    expect(await probeOnce(src)).toEqual(EXPECTED);
    expect(box.log).toHaveLength(3);
    box.log.length = 0;
    box.expireAll();
    expect(await probeOnce(src)).toEqual(EXPECTED);
    expect(box.log.slice(0, 4)).toEqual(['GET /data/monitor.ap.aplist.json', 'GET /', 'POST /', 'GET /data/monitor.ap.aplist.json']);
  });

  it('fails clearly on a wrong password, never showing it or its MD5', async () => {
    const box = await eap();
    const err = (await probeOnce(source(box.url, { password: 'wrong-password' })).catch((e: Error) => e)) as Error;
    expect(err.message).toMatch(/aplist\.json: the session expired and logging in again did not help \(user or password wrong\?\)/);
    const err2 = (await probeOnce(source(`${box.url}/nope`, { password: PASSWORD })).catch((e: Error) => e)) as Error;
    expect(err2.message).toMatch(/GET http:\/\/127\.0\.0\.1:\d+\/nope: HTTP 404: could not load the login page/);
    for (const e of [err, err2]) {
      expect(e.message).not.toContain(PASSWORD);
      expect(e.message).not.toContain(md5Upper(PASSWORD));
    }
  });

  it('gives a clear error for broken or hostile answers, never a crash', async () => {
    const cases: [(p: string, res: ServerResponse) => boolean, RegExp][] = [
      [(p, res) => p.endsWith('aplist.json') && !!res.writeHead(200).end('<html>busy</html>'), /aplist\.json: invalid JSON/],
      [(p, res) => p.endsWith('aplist.json') && !!res.writeHead(200).end('{"data":[{"MAC":"x","StaNum":true}]}'), /aplist\.json: StaNum is true, not a count/],
      [(p, res) => p.endsWith('interface.json') && !!res.writeHead(200).end('{"data":null}'), /interface\.json \(WIFI0\): "data" is not an interface record/],
      [(p, res) => p.endsWith('aplist.json') && !!res.writeHead(401).end('unauthorized'), /aplist\.json: HTTP 401/],
      [(p, res) => p.endsWith('aplist.json') && !!res.writeHead(200).end(`{"data":[${'1,'.repeat(4000)}1]}`), /response larger than 4096 bytes/],
    ];
    for (const [answer, msg] of cases) {
      const box = await eap(answer);
      const err = await probeOnce(source(box.url, { maxBytes: 4096 })).catch((e: Error) => e);
      expect(err, String(msg)).toBeInstanceOf(Error);
      expect((err as Error).message).toMatch(msg);
    }
    // A UI that hands out no cookie.
    const srv = createServer((_req, res) => res.writeHead(200).end('<html></html>'));
    servers.push(srv);
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    const noCookie = await probeOnce(source(`http://127.0.0.1:${(srv.address() as AddressInfo).port}`)).catch((e: Error) => e);
    expect((noCookie as Error).message).toMatch(/the login handed out no session cookie \(COOKIE\)/);
  });

  it('gives up on a UI that never answers at the probe timeout, through ctx.signal', async () => {
    const srv = createServer(() => {});
    servers.push(srv);
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    const started = Date.now();
    const err = await probeOnce(source(`http://127.0.0.1:${(srv.address() as AddressInfo).port}`), { timeoutMs: 300 }).catch((e: Error) => e);
    expect((err as Error).message).toMatch(/GET http:\/\/127\.0\.0\.1:\d+\/?: (no answer within 300 ms|aborted)/);
    expect(Date.now() - started).toBeLessThan(3000);
    // Shutdown aborts ctx.signal long before the probe's own timeout: the probe ends at once.
    const shutdown = new AbortController();
    setTimeout(() => shutdown.abort(), 200);
    const aborted = await probeOnce(source(`http://127.0.0.1:${(srv.address() as AddressInfo).port}`), { timeoutMs: 60_000, signal: shutdown.signal }).catch(
      (e: Error) => e,
    );
    expect((aborted as Error).message).toMatch(/: aborted$/);
    expect(Date.now() - started).toBeLessThan(6000);
  });

  it('registers the password and its MD5 as secrets itself', () => {
    const config = { ...configFor(TpLinkEapSource, { url: 'http://eap', user: 'admin', password: 'x' }), password: 'Eap-Only-Mine' };
    new TpLinkEapSource(config, pluginContext());
    expect(redact('Eap-Only-Mine and ' + md5Upper('Eap-Only-Mine'))).toBe('*** and ***');
  });

  it('refuses a missing param or a URL that is not http(s) at --check', () => {
    expect(() => build(TpLinkEapSource, { url: 'http://eap', user: 'admin' } as never)).toThrow(/password: is required/);
    expect(() => build(TpLinkEapSource, { url: 'ftp://eap', user: 'admin', password: 'x' })).toThrow(/must start with http/);
  });
});
