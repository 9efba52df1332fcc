// ZodiacPool: the parsers on test/fixtures/zodiacpool/ (constructed, see its README) and the
// Python pollect's test of the time left (test_ZodiacApi.py: a smart clean of 160 min started 1 h
// ago has 100 min left), then the source against two local HTTPS servers (a certificate made by
// the test, trusted through the `tls.ca` param) standing in for prod.zodiac-io.com (login, token
// refresh, shadows) and prm.iaqualink.net (device list), checking tokens and request signatures.
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { createHmac, randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ZodiacPoolSource } from '../../src/sources/zodiacpool/index.js';
import { jwtExpiry, parseDevices, parseLogin, parseRobot, remainingSeconds } from '../../src/sources/zodiacpool/parse.js';
import { redact } from '../../src/sdk/index.js';
import { probeOnce } from '../helpers/probe.js';
import { build, configFor, pluginContext } from '../helpers/plugin.js';
import { selfSigned } from '../helpers/certs.js';
import { tempDir } from '../helpers/net.js';

const FIX = path.join(__dirname, '../fixtures/zodiacpool');
const fixture = (name: string): string => readFileSync(path.join(FIX, name), 'utf8');
const json = (name: string): unknown => JSON.parse(fixture(name));
const SIGNING_KEY = 'cj7iYKjiKxOqiLcN65PffA'; // the iAqualink app's, as the Python pollect's ZodiacApi has it
const PASSWORD = 'pool-Pass-2024';
/** 1 h after the fixture robot's cycleStartTime. */
const NOW = (1717225400 + 3600) * 1000;

const tmp = tempDir();
afterAll(() => tmp.remove());
const { key, cert } = selfSigned(tmp.dir);
const tlsFiles = { key: readFileSync(path.join(tmp.dir, key)), cert: readFileSync(path.join(tmp.dir, cert)) };

function jwt(exp: number): string {
  const part = (o: object): string => Buffer.from(JSON.stringify(o)).toString('base64url');
  return `${part({ alg: 'RS256', kid: 'test' })}.${part({ sub: 'user', exp, rnd: randomBytes(4).toString('hex') })}.${randomBytes(16).toString('base64url')}`;
}
const hmac = (text: string): string => createHmac('sha1', SIGNING_KEY).update(text).digest('hex');

describe('iAqualink answer parsers', () => {
  it('read the login, the device list and a robot', () => {
    const token = jwt(1717230000);
    const login = parseLogin(JSON.parse(fixture('login.json').replace('ID_TOKEN', token)), 'w');
    expect(login).toEqual({ userId: '123456', email: 'pool.owner@example.com', idToken: token, refreshToken: 'REFRESH_TOKEN', expiresAt: 1717230000 });
    expect(parseDevices(json('devices.json'), 'w')).toEqual(['jy21a0000123', 'KK2100006435']);
    expect(parseRobot(json('shadow-vr.json'), 'w')).toEqual({
      state: 1,
      prCyc: 2,
      errorCode: 0,
      cycleStartTime: 1717225400,
      firstSmrtFlag: 0,
      durations: { customTim: 120, deepTim: 180, firstSmartTim: 150, smartTim: 160, quickTim: 90, waterTim: 45 },
    });
    // A Voyager (cyclonext) reports `robot.1`, which the Python pollect's model does not read.
    expect(parseRobot(json('shadow-cyclonext.json'), 'w')).toBeUndefined();
  });

  it("computes the time left as the Python pollect's test does: 160 min smart clean started 1 h ago -> 100 min", () => {
    const robot = { state: 1, prCyc: 2, errorCode: 0, cycleStartTime: 1_000_000 - 3600, firstSmrtFlag: 0, durations: { smartTim: 160 } };
    expect(Math.round(remainingSeconds(robot, 1_000_000)! / 60)).toBe(100);
    expect(remainingSeconds({ ...robot, firstSmrtFlag: 1, durations: { smartTim: 160, firstSmartTim: 150 } }, 1_000_000)).toBe(150 * 60 - 3600);
    expect(remainingSeconds({ ...robot, prCyc: 0, durations: { waterTim: 45 } }, 1_000_000)).toBe(45 * 60 - 3600);
    expect(remainingSeconds({ ...robot, state: 0 }, 1_000_000)).toBe(-1);
    expect(remainingSeconds({ ...robot, prCyc: 7 }, 1_000_000)).toBeUndefined();
  });

  it('refuse answers of the wrong shape, naming the field', () => {
    expect(() => parseLogin({ id: 1, userPoolOAuth: {} }, 'w')).toThrow(/w: the login answer has no userPoolOAuth\.IdToken/);
    expect(() => parseLogin([], 'w')).toThrow(/not a login answer/);
    expect(() => parseDevices({ devices: [] }, 'w')).toThrow(/w: not a device list/);
    expect(() => parseRobot({ state: {} }, 'w')).toThrow(/the shadow has no state\.reported/);
    expect(() => parseRobot({ state: { reported: { equipment: { robot: { state: 'on', prCyc: 1 } } } } }, 'w')).toThrow(/robot\.state is "on", not a number/);
    expect(jwtExpiry('not-a-jwt')).toBeUndefined();
    expect(jwtExpiry('a.%%%.c')).toBeUndefined();
  });
});

const servers: Server[] = [];
afterEach(async () => {
  vi.useRealTimers();
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
});

interface Cloud {
  shadowUrl: string;
  devicesUrl: string;
  log: string[];
  /** Forgets every issued token, as a password change does. */
  revokeAll(): void;
}

interface CloudOptions {
  /** Lifetime of an issued id token, in seconds. */
  ttl?: number;
  answer?: (pathname: string, res: ServerResponse) => boolean;
}

async function listen(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<string> {
  const srv = createServer(tlsFiles, handler);
  servers.push(srv);
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  return `https://127.0.0.1:${(srv.address() as AddressInfo).port}`;
}

async function cloud(opts: CloudOptions = {}): Promise<Cloud> {
  const ttl = opts.ttl ?? 3600;
  const log: string[] = [];
  const idTokens = new Map<string, number>(); // token -> exp
  const refreshTokens = new Set<string>();
  const issue = (withRefresh: boolean): string => {
    const exp = Math.floor(Date.now() / 1000) + ttl;
    const id = jwt(exp);
    idTokens.set(id, exp);
    let text = fixture('login.json').replace('ID_TOKEN', id);
    if (withRefresh) {
      const r = randomBytes(12).toString('hex');
      refreshTokens.add(r);
      text = text.replace('REFRESH_TOKEN', r);
    } else {
      text = text.replace('"RefreshToken": "REFRESH_TOKEN", ', '');
    }
    return text;
  };
  const authorized = (req: IncomingMessage): boolean => {
    const exp = idTokens.get(String(req.headers.authorization));
    return exp !== undefined && Date.now() / 1000 < exp;
  };
  const handler = (req: IncomingMessage, res: ServerResponse): void => {
    const u = new URL(req.url!, 'https://x');
    log.push(`${req.method} ${u.pathname}`);
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      if (opts.answer?.(u.pathname, res)) return;
      const send = (status: number, text: string): void => void res.writeHead(status, { 'content-type': 'application/json' }).end(text);
      if (req.method === 'POST' && u.pathname === '/users/v1/login') {
        const b = JSON.parse(body) as Record<string, string>;
        if (b.apiKey !== 'EOOEMOW4YR6QNB07' || b.email !== 'pool.owner@example.com' || b.password !== PASSWORD)
          return send(401, '{"message":"Incorrect username or password."}');
        return send(200, issue(true));
      }
      if (req.method === 'POST' && u.pathname === '/users/v1/refresh') {
        const b = JSON.parse(body) as Record<string, string>;
        if (b.email !== 'pool.owner@example.com' || !refreshTokens.has(b.refresh_token ?? '')) return send(401, '{"message":"Invalid Refresh Token"}');
        return send(200, issue(false));
      }
      if (!authorized(req)) return send(401, '{"message":"Unauthorized"}');
      const shadow = /^\/devices\/v2\/([^/]+)\/shadow$/.exec(u.pathname);
      if (shadow && u.searchParams.get('signature') === hmac(`${decodeURIComponent(shadow[1]!).toUpperCase()},123456`)) {
        if (shadow[1] === 'jy21a0000123') return send(200, fixture('shadow-vr.json'));
        if (shadow[1] === 'KK2100006435') return send(200, fixture('shadow-cyclonext.json'));
      }
      if (u.pathname === '/v2/devices.json' && req.headers.api_key === 'EOOEMOW4YR6QNB07') {
        const ts = u.searchParams.get('timestamp') ?? '';
        const fresh = Math.abs(Number(ts) - Date.now() / 1000) < 300;
        if (u.searchParams.get('user_id') === '123456' && fresh && u.searchParams.get('signature') === hmac(`123456,${ts}`))
          return send(200, fixture('devices.json'));
      }
      send(403, '{"message":"bad signature"}');
    });
  };
  const shadowUrl = await listen(handler);
  const devicesUrl = await listen((req, res) =>
    new URL(req.url!, 'https://x').pathname.startsWith('/v2/') ? handler(req, res) : void res.writeHead(404).end(),
  );
  return {
    shadowUrl,
    devicesUrl,
    log,
    revokeAll: () => {
      idTokens.clear();
      refreshTokens.clear();
    },
  };
}

const source = (c: Pick<Cloud, 'shadowUrl' | 'devicesUrl'>, params: Record<string, unknown> = {}) =>
  build(
    ZodiacPoolSource,
    { user: 'pool.owner@example.com', password: PASSWORD, shadowUrl: c.shadowUrl, devicesUrl: c.devicesUrl, tls: { ca: cert }, ...params },
    { configDir: tmp.dir },
  );

const EXPECTED = [
  { name: 'state', value: 1, labels: { device_serial: 'jy21a0000123' } },
  { name: 'program_cycle', value: 2, labels: { device_serial: 'jy21a0000123' } },
  { name: 'error_code', value: 0, labels: { device_serial: 'jy21a0000123' } },
  { name: 'remaining_time', value: 6000, labels: { device_serial: 'jy21a0000123' }, unit: 'seconds' },
];

describe('ZodiacPool source against local HTTPS stand-ins of the iAqualink cloud', () => {
  it('logs in once, lists the devices, reads each shadow with signed requests; a device without `robot` is a problem, not a failure', async () => {
    vi.useFakeTimers({ toFake: ['Date'], now: NOW });
    const c = await cloud();
    const src = source(c);
    const problems: string[] = [];
    expect(await probeOnce(src, { problems })).toEqual(EXPECTED);
    expect(problems).toEqual(['device KK2100006435: its shadow has no robot (not a pool cleaner of the kind this source reads)']);
    expect(c.log).toEqual(['POST /users/v1/login', 'GET /v2/devices.json', 'GET /devices/v2/jy21a0000123/shadow', 'GET /devices/v2/KK2100006435/shadow']);
    c.log.length = 0;
    vi.setSystemTime(NOW + 600_000); // 10 min later: 10 min less left
    expect((await probeOnce(src)).at(-1)).toEqual({ ...EXPECTED[3], value: 5400 });
    expect(c.log[0]).toBe('GET /v2/devices.json');
  });

  it("refreshes an expired id token with the refresh token, keeping it when the answer leaves it out, and logs in again once they're revoked", async () => {
    vi.useFakeTimers({ toFake: ['Date'], now: NOW });
    const c = await cloud({ ttl: 600 });
    const src = source(c);
    await probeOnce(src);
    for (const step of [1, 2]) {
      vi.setSystemTime(NOW + step * 700_000);
      c.log.length = 0;
      expect(await probeOnce(src)).toHaveLength(4);
      expect(c.log.slice(0, 2)).toEqual(['POST /users/v1/refresh', 'GET /v2/devices.json']);
    }
    c.revokeAll();
    c.log.length = 0;
    expect(await probeOnce(src)).toHaveLength(4);
    expect(c.log.slice(0, 3)).toEqual(['GET /v2/devices.json', 'POST /users/v1/login', 'GET /v2/devices.json']);
  });

  it('fails clearly on a wrong password and on an untrusted certificate, never showing the password', async () => {
    const c = await cloud();
    const wrong = (await probeOnce(source(c, { password: 'not-Pool-Pass' })).catch((e: Error) => e)) as Error;
    expect(wrong.message).toMatch(/^POST https:\/\/127\.0\.0\.1:\d+\/users\/v1\/login: HTTP 401: the account \(user or password\) was refused$/);
    const untrusted = (await probeOnce(source(c, { tls: undefined })).catch((e: Error) => e)) as Error;
    expect(untrusted.message).toMatch(/\/users\/v1\/login: .*(self-signed|certificate)/i);
    for (const e of [wrong, untrusted]) expect(e.message).not.toContain(PASSWORD);
  });

  it('gives a clear error for broken or hostile answers, never a crash', async () => {
    const cases: [CloudOptions['answer'], RegExp][] = [
      [(p, res) => p === '/users/v1/login' && !!res.writeHead(200).end('<html>maintenance</html>'), /login: invalid JSON/],
      [
        (p, res) => p === '/users/v1/login' && !!res.writeHead(200).end('{"id":1,"userPoolOAuth":{"IdToken":5}}'),
        /login: the login answer has no userPoolOAuth\.IdToken/,
      ],
      [(p, res) => p === '/v2/devices.json' && !!res.writeHead(200).end('{"error":"x"}'), /devices\.json: not a device list/],
      [
        (p, res) => p.endsWith('/shadow') && !!res.writeHead(200).end('{"state":{"reported":{"equipment":{"robot":{"state":"1","prCyc":2}}}}}'),
        /shadow: robot\.state is "1", not a number/,
      ],
      [(p, res) => p.endsWith('/shadow') && !!res.writeHead(500).end('{"message":"Internal server error"}'), /shadow: HTTP 500/],
      [(p, res) => p === '/v2/devices.json' && !!res.writeHead(200).end(`[${'{"serial_number":"x"},'.repeat(500)}{}]`), /response larger than 4096 bytes/],
    ];
    for (const [answer, msg] of cases) {
      const c = await cloud({ answer });
      const err = await probeOnce(source(c, { maxBytes: 4096 })).catch((e: Error) => e);
      expect(err, String(msg)).toBeInstanceOf(Error);
      expect((err as Error).message).toMatch(msg);
      expect((err as Error).message).not.toContain(PASSWORD);
    }
  });

  it('gives up on a cloud that never answers at the probe timeout, through ctx.signal', async () => {
    const url = await listen(() => {});
    const started = Date.now();
    const err = await probeOnce(source({ shadowUrl: url, devicesUrl: url }), { timeoutMs: 300 }).catch((e: Error) => e);
    expect((err as Error).message).toMatch(/POST https:\/\/127\.0\.0\.1:\d+\/users\/v1\/login: (no answer within 300 ms|aborted)/);
    expect(Date.now() - started).toBeLessThan(3000);
    // Shutdown aborts ctx.signal long before the probe's own timeout: the probe ends at once.
    const shutdown = new AbortController();
    setTimeout(() => shutdown.abort(), 200);
    const aborted = await probeOnce(source({ shadowUrl: url, devicesUrl: url }), { timeoutMs: 60_000, signal: shutdown.signal }).catch((e: Error) => e);
    expect((aborted as Error).message).toMatch(/: aborted$/);
    expect(Date.now() - started).toBeLessThan(6000);
  });

  it('registers the password and the tokens it is handed as secrets', async () => {
    const config = { ...configFor(ZodiacPoolSource, { user: 'u@example.com', password: 'x' }), password: 'Zodiac-Only-Mine' };
    new ZodiacPoolSource(config, pluginContext());
    expect(redact('pw Zodiac-Only-Mine')).toBe('pw ***');
    vi.useFakeTimers({ toFake: ['Date'], now: NOW });
    const c = await cloud({ ttl: 600, answer: (p, res) => p.endsWith('/shadow') && !!res.writeHead(500).end(`{"echo":"${res.req.headers.authorization}"}`) });
    const err = (await probeOnce(source(c)).catch((e: Error) => e)) as Error;
    // The id token the server echoes, longer than an error's body excerpt, is hidden, not cut.
    expect(err.message).toMatch(/shadow: HTTP 500 Internal Server Error: \{"echo":"\*\*\*"\}$/);
  });

  it('refuses URLs that are not http(s) and unreadable CA files at --check', () => {
    expect(() => build(ZodiacPoolSource, { user: 'u', password: 'p', shadowUrl: 'prod.zodiac-io.com' })).toThrow(/not a valid URL/);
    expect(() => build(ZodiacPoolSource, { user: 'u', password: 'p', tls: { ca: 'missing.pem' } }, { configDir: tmp.dir })).toThrow(
      /cannot read .*missing\.pem: no such file/,
    );
  });
});
