// Fritz: the TR-064 description and SOAP answer parsers on test/fixtures/fritz/ (fritzconnection's
// test data and answers built from AVM's TR-064 documentation, see its README), then the source
// against a local SOAP server that enforces HTTP digest authentication (RFC 7616/2617: its own
// nonces, nonce counts that must grow, the response hash checked against the password).
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { FritzSource } from '../../src/sources/fritz/index.js';
import { parseActionResponse, parseServices } from '../../src/sources/fritz/tr064.js';
import { digestAuthorization, parseChallenge } from '../../src/sources/fritz/digest.js';
import { redact } from '../../src/sdk/index.js';
import { createLogger } from '../../src/log.js';
import { probeOnce } from '../helpers/probe.js';
import { build, configFor, pluginContext } from '../helpers/plugin.js';

const FIX = path.join(__dirname, '../fixtures/fritz');
const fixture = (name: string): string => readFileSync(path.join(FIX, name), 'utf8');
const WAN = 'urn:dslforum-org:service:WANCommonInterfaceConfig:1';

describe('TR-064 parsers', () => {
  it('find every service of the FRITZ!Box 7590 descriptions, the embedded devices too', async () => {
    const tr64 = await parseServices(fixture('tr64desc.xml'), 'tr64desc.xml');
    expect(tr64).toHaveLength(34);
    expect(tr64).toContainEqual({ serviceType: WAN, controlURL: '/upnp/control/wancommonifconfig1' });
    expect(tr64).toContainEqual({ serviceType: 'urn:dslforum-org:service:LANConfigSecurity:1', controlURL: '/upnp/control/lanconfigsecurity' });
    const igd = await parseServices(fixture('igddesc.xml'), 'igddesc.xml');
    expect(igd).toContainEqual({ serviceType: 'urn:schemas-upnp-org:service:WANCommonInterfaceConfig:1', controlURL: '/igdupnp/control/WANCommonIFC1' });
  });

  it("read an action's output arguments, the escaped user list too", async () => {
    expect(await parseActionResponse(fixture('GetTotalBytesReceived.xml'), 'GetTotalBytesReceived', 'x')).toEqual({ NewTotalBytesReceived: '4294967000' });
    const users = await parseActionResponse(fixture('X_AVM-DE_GetUserList.xml'), 'X_AVM-DE_GetUserList', 'x');
    expect(users['NewX_AVM-DE_UserList']).toBe('<List><Username last_user="0">admin</Username><Username last_user="1">fritz4711</Username></List>');
  });

  it('refuse what is not a description or not the answer asked for', async () => {
    await expect(parseServices('<html><body>login</body></html>', 'tr64desc.xml')).rejects.toThrow(/tr64desc\.xml: not a UPnP device description/);
    await expect(parseServices('<root><device', 'tr64desc.xml')).rejects.toThrow(/tr64desc\.xml: invalid XML/);
    await expect(parseActionResponse(fixture('GetTotalBytesSent.xml'), 'GetTotalBytesReceived', 'x')).rejects.toThrow(/no GetTotalBytesReceivedResponse/);
  });
});

describe('digest challenge and answer', () => {
  it('parses a challenge and answers it as RFC 2617 computes (MD5, qop=auth)', () => {
    const c = parseChallenge('Digest realm="F!Box SOAP-Auth", nonce="F758BE72FB999CEA", algorithm=MD5, qop="auth"');
    if (typeof c === 'string') throw new Error(c);
    const header = digestAuthorization(c, 'dslf-config', 'secret', 'POST', '/upnp/control/wancommonifconfig1');
    const f = fields(header);
    const ha1 = md5('dslf-config:F!Box SOAP-Auth:secret');
    const ha2 = md5('POST:/upnp/control/wancommonifconfig1');
    expect(f.response).toBe(md5(`${ha1}:F758BE72FB999CEA:00000001:${f.cnonce}:auth:${ha2}`));
    expect(f.nc).toBe('00000001');
    expect(fields(digestAuthorization(c, 'dslf-config', 'secret', 'POST', '/x')).nc).toBe('00000002');
  });
  it('says why it cannot answer a challenge', () => {
    expect(parseChallenge(undefined)).toMatch(/without a WWW-Authenticate/);
    expect(parseChallenge('Basic realm="x"')).toMatch(/wants "Basic" authentication, not Digest/);
    expect(parseChallenge('Digest realm="x", nonce="n", algorithm=SHA-512-256')).toMatch(/algorithm "SHA-512-256" is not supported/);
    expect(parseChallenge('Digest realm="x"')).toMatch(/no realm or nonce/);
  });
});

function md5(s: string): string {
  return createHash('md5').update(s).digest('hex');
}
function fields(header: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of header.replace(/^Digest\s+/i, '').matchAll(/(\w+)=(?:"([^"]*)"|([^,\s]*))/g)) out[m[1]!] = m[2] ?? m[3] ?? '';
  return out;
}

const servers: Server[] = [];
afterEach(async () => {
  vi.useRealTimers();
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
});

interface Box {
  url: string;
  port: number;
  /** Every request: method, path, the action and the digest user (if any). */
  log: { method: string; path: string; action?: string; user?: string; status: number }[];
  counters: { received: number; sent: number };
}

interface BoxOptions {
  password?: string;
  users?: string[];
  tr64desc?: string;
  /** Replaces the answer of an action. */
  answer?: (action: string, res: ServerResponse) => boolean;
}

/** A FRITZ!Box on loopback: descriptions without auth, SOAP actions only with a valid digest answer. */
async function fritzBox(opts: BoxOptions = {}): Promise<Box> {
  const password = opts.password ?? 'box-pass-4711';
  const users = opts.users ?? ['fritz4711', 'dslf-config'];
  const realm = 'F!Box SOAP-Auth';
  const nonces = new Map<string, number>(); // nonce -> highest nc seen
  const log: Box['log'] = [];
  const counters = { received: 4294967000, sent: 1832940551 };
  const challenge = (res: ServerResponse): void => {
    const nonce = randomBytes(8).toString('hex').toUpperCase();
    nonces.set(nonce, 0);
    res
      .writeHead(401, { 'www-authenticate': `Digest realm="${realm}", nonce="${nonce}", algorithm=MD5, qop="auth"` })
      .end('<HTML><HEAD><TITLE>401 Unauthorized</TITLE></HEAD></HTML>');
  };
  const verify = (req: IncomingMessage): string | undefined => {
    const h = req.headers.authorization;
    if (!h?.startsWith('Digest ')) return undefined;
    const f = fields(h);
    const seen = nonces.get(f.nonce ?? '');
    const nc = parseInt(f.nc ?? '', 16);
    if (seen === undefined || !(nc > seen) || f.realm !== realm || f.uri !== req.url || f.qop !== 'auth' || !users.includes(f.username ?? '')) return undefined;
    const ha1 = md5(`${f.username}:${realm}:${password}`);
    const ha2 = md5(`${req.method}:${f.uri}`);
    if (f.response !== md5(`${ha1}:${f.nonce}:${f.nc}:${f.cnonce}:auth:${ha2}`)) return undefined;
    nonces.set(f.nonce!, nc);
    return f.username;
  };
  const srv = createServer((req, res) => {
    const entry: Box['log'][number] = { method: req.method!, path: req.url!, status: 200 };
    log.push(entry);
    res.on('finish', () => (entry.status = res.statusCode));
    if (req.method === 'GET' && req.url === '/tr64desc.xml')
      return void res.writeHead(200, { 'content-type': 'text/xml' }).end(opts.tr64desc ?? fixture('tr64desc.xml'));
    if (req.method === 'GET' && req.url === '/igddesc.xml') return void res.writeHead(200, { 'content-type': 'text/xml' }).end(fixture('igddesc.xml'));
    if (req.method !== 'POST') return void res.writeHead(404).end();
    const action = /#(.+)$/.exec(String(req.headers.soapaction))?.[1] ?? '';
    entry.action = action;
    req.resume();
    req.on('end', () => {
      const igd = req.url === '/igdupnp/control/WANCommonIFC1';
      if (!igd) {
        const user = verify(req);
        if (!user) return challenge(res);
        entry.user = user;
      }
      if (opts.answer?.(action, res)) return;
      const xml = (name: string, replace?: [string, string]): void =>
        void res.writeHead(200, { 'content-type': 'text/xml; charset="utf-8"' }).end(replace ? fixture(name).replace(...replace) : fixture(name));
      if (action === 'GetTotalBytesReceived') return xml('GetTotalBytesReceived.xml', ['4294967000', String(counters.received)]);
      if (action === 'GetTotalBytesSent') return xml('GetTotalBytesSent.xml', ['1832940551', String(counters.sent)]);
      if (action === 'X_AVM-DE_GetUserList' && req.url === '/upnp/control/lanconfigsecurity') return xml('X_AVM-DE_GetUserList.xml');
      res.writeHead(500, { 'content-type': 'text/xml' }).end(fixture('fault-invalid-action.xml'));
    });
  });
  servers.push(srv);
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as AddressInfo).port;
  return { url: `http://127.0.0.1:${port}`, port, log, counters };
}

const fritz = (box: Box, params: Record<string, unknown> = {}) => build(FritzSource, { ip: '127.0.0.1', port: box.port, pass: 'box-pass-4711', ...params });

describe('Fritz source against a local TR-064 server with digest auth', () => {
  it('reports the WAN byte counters, then their rates across the ui4 wrap; the digest nonce is reused', async () => {
    vi.useFakeTimers({ toFake: ['hrtime'] });
    const box = await fritzBox();
    const src = fritz(box);
    expect(await probeOnce(src)).toEqual([
      { name: 'recv_bytes', value: 4294967000, naming: 'pollect' },
      { name: 'sent_bytes', value: 1832940551, naming: 'pollect' },
    ]);
    // The user who logged in last, from the box's user list (FRITZ!OS 7.24 and later want one),
    // asked for as dslf-config, as fritzconnection does.
    expect(box.log.map((l) => [l.method, l.action ?? l.path, l.status, l.user])).toEqual([
      ['GET', '/tr64desc.xml', 200, undefined],
      ['POST', 'X_AVM-DE_GetUserList', 401, undefined],
      ['POST', 'X_AVM-DE_GetUserList', 200, 'dslf-config'],
      ['POST', 'GetTotalBytesReceived', 200, 'fritz4711'],
      ['POST', 'GetTotalBytesSent', 200, 'fritz4711'],
    ]);
    box.counters.received = 1000; // wrapped: 296 + 1000 bytes
    box.counters.sent += 20_000;
    vi.advanceTimersByTime(2000);
    const second = await probeOnce(src, { naming: 'all' });
    expect(second).toEqual([
      { name: 'recv_bytes', value: 1000, naming: 'pollect' },
      { name: 'received_bytes_total', value: 1000, type: 'counter', unit: 'bytes', naming: 'prometheus' },
      { name: 'sent_bytes', value: 1832960551, naming: 'pollect' },
      { name: 'sent_bytes_total', value: 1832960551, type: 'counter', unit: 'bytes', naming: 'prometheus' },
      { name: 'recv_bytes_sec', value: 648, unit: 'bytes/s', naming: 'pollect' },
      { name: 'sent_bytes_sec', value: 10_000, unit: 'bytes/s', naming: 'pollect' },
    ]);
    // One request per action: the kept challenge answered with nonce counts 3 and 4.
    expect(box.log.slice(5).map((l) => [l.action, l.status])).toEqual([
      ['GetTotalBytesReceived', 200],
      ['GetTotalBytesSent', 200],
    ]);
  });

  it('uses the configured user without asking for the list, and falls back to dslf-config', async () => {
    const box = await fritzBox({ users: ['dslf-config'] });
    await probeOnce(fritz(box, { user: 'dslf-config' }));
    expect(box.log.map((l) => l.action).filter(Boolean)).not.toContain('X_AVM-DE_GetUserList');
    // A box without X_AVM-DE_GetUserList (before FRITZ!OS 7.24) answers a fault: dslf-config it is.
    const old = await fritzBox({
      users: ['dslf-config'],
      answer: (a, res) => a === 'X_AVM-DE_GetUserList' && !!res.writeHead(500).end(fixture('fault-invalid-action.xml')),
    });
    expect(await probeOnce(fritz(old))).toHaveLength(2);
    expect(old.log.at(-1)?.user).toBe('dslf-config');
  });

  it("falls back to the IGD service when tr64desc.xml lacks the WAN service, as the Python pollect's WANCommonIFC1", async () => {
    const box = await fritzBox({ tr64desc: fixture('tr64desc.xml').replaceAll('WANCommonInterfaceConfig:1', 'WANCommonInterfaceConfigX:1') });
    expect(await probeOnce(fritz(box))).toHaveLength(2);
    expect(box.log.filter((l) => l.action?.startsWith('GetTotal')).map((l) => l.path)).toEqual([
      '/igdupnp/control/WANCommonIFC1',
      '/igdupnp/control/WANCommonIFC1',
    ]);
  });

  it('fails with a clear error on a wrong password, never showing it, and never crashes on broken answers', async () => {
    const box = await fritzBox();
    const wrong = await probeOnce(fritz(box, { pass: 'not-the-pass-123' })).catch((e: Error) => e);
    expect((wrong as Error).message).toMatch(
      /^GetTotalBytesReceived at http:\/\/127\.0\.0\.1:\d+\/upnp\/control\/wancommonifconfig1: HTTP 401: user "dslf-config" or its password refused$/,
    );
    const none = await probeOnce(fritz(box, { pass: undefined, user: 'fritz4711' })).catch((e: Error) => e);
    expect((none as Error).message).toMatch(/HTTP 401: the FRITZ!Box wants a password \("pass"\)/);

    const cases: [BoxOptions['answer'], RegExp][] = [
      [(a, res) => a === 'GetTotalBytesReceived' && !!res.writeHead(200).end('<s:Envelope><s:Body><u:GetTotal'), /GetTotalBytesReceived at .*: invalid XML/],
      [
        (a, res) => a === 'GetTotalBytesReceived' && !!res.writeHead(200).end(fixture('GetTotalBytesReceived.xml').replace('4294967000', 'lots')),
        /NewTotalBytesReceived is "lots", not a ui4 byte count/,
      ],
      [
        (a, res) => a === 'GetTotalBytesSent' && !!res.writeHead(200).end(fixture('GetTotalBytesSent.xml').replace('1832940551', '4294967296')),
        /NewTotalBytesSent is "4294967296", not a ui4/,
      ],
      [(a, res) => a === 'GetTotalBytesSent' && !!res.writeHead(200).end(fixture('GetTotalBytesReceived.xml')), /no GetTotalBytesSentResponse/],
      [
        (a, res) => a === 'GetTotalBytesReceived' && !!res.writeHead(500).end(fixture('fault-invalid-action.xml')),
        /SOAP fault: .*UPnPError 401 Invalid Action/,
      ],
      [(a, res) => a === 'GetTotalBytesReceived' && !!res.writeHead(200).end(`<x>${'a'.repeat(70_000)}</x>`), /response larger than 65536 bytes/],
      [
        (a, res) => a === 'GetTotalBytesReceived' && !!res.writeHead(401, { 'www-authenticate': 'Basic realm="x"' }).end(),
        /HTTP 401: the server wants "Basic" authentication, not Digest/,
      ],
    ];
    for (const [answer, msg] of cases) {
      const b = await fritzBox({ answer });
      const err = await probeOnce(fritz(b, { maxBytes: 65536 })).catch((e: Error) => e);
      expect(err, String(msg)).toBeInstanceOf(Error);
      expect((err as Error).message).toMatch(msg);
      expect((err as Error).message).not.toContain('box-pass-4711');
    }
  });

  it('gives up on a box that never answers at the probe timeout, through ctx.signal', async () => {
    const srv = createServer(() => {}); // accepts, never answers
    servers.push(srv);
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    const started = Date.now();
    const err = await probeOnce(build(FritzSource, { ip: '127.0.0.1', port: (srv.address() as AddressInfo).port }), { timeoutMs: 300 }).catch((e: Error) => e);
    expect((err as Error).message).toMatch(/GET http:\/\/127\.0\.0\.1:\d+\/tr64desc\.xml: (no answer within 300 ms|aborted)/);
    expect(Date.now() - started).toBeLessThan(3000);
    // Shutdown aborts ctx.signal long before the probe's own timeout: the probe ends at once.
    const shutdown = new AbortController();
    setTimeout(() => shutdown.abort(), 200);
    const aborted = await probeOnce(build(FritzSource, { ip: '127.0.0.1', port: (srv.address() as AddressInfo).port }), {
      timeoutMs: 60_000,
      signal: shutdown.signal,
    }).catch((e: Error) => e);
    expect((aborted as Error).message).toMatch(/: aborted$/);
    expect(Date.now() - started).toBeLessThan(6000);
  });

  it('registers the password as a secret itself, so no log line or error shows it', () => {
    const lines: string[] = [];
    const log = createLogger('t', { level: 'debug', write: (l) => void lines.push(l) });
    // Constructed directly: not through the config loader, which registers secret-looking keys too.
    const config = { ...configFor(FritzSource, { ip: 'fritz.box' }), pass: 'Fr1tz-Only-Mine' };
    new FritzSource(config, pluginContext({ log }));
    log.info('password is Fr1tz-Only-Mine');
    expect(lines.join('\n')).not.toContain('Fr1tz-Only-Mine');
    expect(redact('x Fr1tz-Only-Mine')).toBe('x ***');
  });

  it('refuses an ip with a scheme or a port at --check', () => {
    expect(() => build(FritzSource, { ip: 'http://192.168.178.1' })).toThrow(/not a host name or address/);
    expect(() => build(FritzSource, { ip: '192.168.178.1:49000' })).toThrow(/carries a port/);
    expect(() => build(FritzSource, { port: 0 })).toThrow(/port/);
  });
});
