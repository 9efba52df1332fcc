// Viessmann: the feature-list parser on two real devices' answers (PyViCare's test responses, see
// test/fixtures/viessmann/README.md), then the source against a local OAuth + IoT API server that
// checks the PKCE verifier against the login's challenge, hands out expiring tokens and refreshes
// them, and replays those answers.
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseFeatures, pickDevice } from '../../src/sources/viessmann/parse.js';
import { ViessmannSource } from '../../src/sources/viessmann/index.js';
import { ViessmannOauth } from '../../src/sources/viessmann/oauth.js';
import { createLogger } from '../../src/log.js';
import { probeOnce } from '../helpers/probe.js';
import { build } from '../helpers/plugin.js';
import { freePort, tempDir } from '../helpers/net.js';
import { paramProblems, readmeExamples } from '../helpers/readme-examples.js';

const FIXTURES = path.join(__dirname, '../fixtures/viessmann');
const VITOCAL_200S = readFileSync(path.join(FIXTURES, 'Vitocal200S.json'), 'utf8');
const VITOCAL_222S = readFileSync(path.join(FIXTURES, 'Vitocal222S.json'), 'utf8');
const INSTALLATIONS = readFileSync(path.join(FIXTURES, 'installations.json'), 'utf8');

const C = 'celsius';
const H = 'hours';
const EXPECTED_200S = [
  { name: 'return_temperature', value: 27.9, unit: C },
  { name: 'outside_temperature', value: 13.5, unit: C },
  { name: 'hot_water_storage_top', value: 53.9, unit: C },
  { name: 'hot_water_storage', value: 53.9, unit: C },
  { name: 'supply_temp', value: 27.8, unit: C },
  { name: 'secondary_return_temp', value: 27.9, unit: C },
  { name: 'secondary_supply_temp', value: 26.1, unit: C },
  { name: 'compressor_active', value: 0 },
  { name: 'compressor_stats_starts', value: 21574 },
  { name: 'compressor_stats_hours', value: 4742.2, unit: H },
  { name: 'compressor_stats_hours_class_1', value: 182, unit: H },
  { name: 'compressor_stats_hours_class_2', value: 587, unit: H },
  { name: 'compressor_stats_hours_class_3', value: 2828, unit: H },
  { name: 'compressor_stats_hours_class_4', value: 597, unit: H },
  { name: 'compressor_stats_hours_class_5', value: 384, unit: H },
  { name: 'hot_water_charging', value: 0 },
  { name: 'heating_circulation_pump', value: 0 },
  { name: 'hot_water_circulation_pump', value: 0 },
  { name: 'hot_water_primary_pump', value: 0 },
  { name: 'hot_water_target_temp', value: 40, unit: C },
  { name: 'program_normal_temp', value: 20, unit: C },
  { name: 'compressor_phase', value: 0, labels: { phase: 'cooling' } },
  { name: 'compressor_phase', value: 0, labels: { phase: 'heating' } },
  { name: 'compressor_phase', value: 0, labels: { phase: 'pause' } },
];

describe('Viessmann answers', () => {
  it('a Vitocal 200-S feature list gives every value the Python pollect reports, with its names', () => {
    expect(parseFeatures(JSON.parse(VITOCAL_200S))).toEqual(EXPECTED_200S);
  });

  it('a Vitocal 222-S (phase "ready", no storage top sensor, no dhw charging, primary pump or normal program) gives what it has', () => {
    const samples = parseFeatures(JSON.parse(VITOCAL_222S));
    expect(samples.map((s) => s.name)).toEqual([
      'return_temperature',
      'outside_temperature',
      'hot_water_storage',
      'supply_temp',
      'secondary_supply_temp',
      'compressor_active',
      'compressor_stats_starts',
      'compressor_stats_hours',
      'heating_circulation_pump',
      'hot_water_target_temp',
      'compressor_phase',
      'compressor_phase',
      'compressor_phase',
    ]);
    expect(samples.find((s) => s.name === 'compressor_active')?.value).toBe(1);
    expect(samples.find((s) => s.name === 'compressor_stats_starts')?.value).toBe(2651);
    expect(samples.filter((s) => s.name === 'compressor_phase').map((s) => s.value)).toEqual([0, 0, 0]);
  });

  it('picks the first installation, its first gateway and the first device that is not the gateway', () => {
    expect(pickDevice(JSON.parse(INSTALLATIONS))).toEqual({ installationId: '1234567', gatewaySerial: '7633107093013212', deviceId: '0' });
    const gatewayOnly = { data: [{ id: 5, gateways: [{ serial: 'S', devices: [{ id: 'gateway', deviceType: 'vitoconnect' }] }] }] };
    expect(pickDevice(gatewayOnly)).toEqual({ installationId: '5', gatewaySerial: 'S', deviceId: '0' });
    expect(() => pickDevice({ data: [] })).toThrow(/no installation/);
    expect(() => pickDevice({ data: [{ id: 5 }] })).toThrow(/no gateway/);
    expect(() => pickDevice([])).toThrow(/not a Viessmann installation list/);
    expect(() => parseFeatures({ error: 'x' })).toThrow(/not a Viessmann feature list/);
    expect(parseFeatures({ data: [null, 3, { feature: 'heating.sensors.temperature.outside', properties: { value: { value: 'NaN' } } }] })).toEqual([]);
  });
});

/** A local Viessmann: IAM (authorize, token) under /idp/v2 and the IoT API under /iot. */
class FakeViessmann {
  server!: Server;
  url = '';
  challenge: { value: string; method: string; redirect: string } | undefined;
  codes = new Map<string, string>();
  access = new Set<string>();
  refreshTokens = new Set<string>();
  grants: string[] = [];
  /** The API paths asked. */
  paths: string[] = [];
  /** Replaces the API's answers when set. */
  api: ((req: IncomingMessage, res: ServerResponse) => boolean) | undefined;
  tokenAnswer: ((res: ServerResponse) => boolean) | undefined;
  refreshRotates = true;
  private n = 0;

  async start(): Promise<void> {
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  issue(): { access_token: string; refresh_token: string; token_type: string; expires_in: number } {
    const t = { access_token: `vi-access-${++this.n}-secret`, refresh_token: `vi-refresh-${this.n}-secret`, token_type: 'Bearer', expires_in: 3600 };
    this.access.add(t.access_token);
    this.refreshTokens.add(t.refresh_token);
    return t;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const u = new URL(req.url!, this.url);
    const json = (status: number, body: unknown): void => void res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    if (u.pathname === '/idp/v2/authorize') {
      const q = u.searchParams;
      this.challenge = { value: q.get('code_challenge')!, method: q.get('code_challenge_method')!, redirect: q.get('redirect_uri')! };
      const code = `vi-code-${Math.random().toString(36).slice(2)}`;
      this.codes.set(code, q.get('client_id')!);
      res.writeHead(302, { location: `${this.challenge.redirect}?code=${code}` }).end();
      return;
    }
    if (u.pathname === '/idp/v2/token' && req.method === 'POST') {
      let body = '';
      for await (const chunk of req) body += chunk;
      const form = new URLSearchParams(body);
      this.grants.push(form.get('grant_type')!);
      if (this.tokenAnswer?.(res)) return;
      if (form.get('grant_type') === 'authorization_code') {
        const code = form.get('code')!;
        const verifier = form.get('code_verifier') ?? '';
        const s256 = createHash('sha256').update(verifier).digest('base64url');
        const ok =
          this.codes.get(code) === form.get('client_id') &&
          this.challenge?.method === 'S256' &&
          s256 === this.challenge.value &&
          form.get('redirect_uri') === this.challenge.redirect;
        this.codes.delete(code);
        return ok ? json(200, this.issue()) : json(400, { error: 'invalid_grant', error_description: 'code_verifier does not match' });
      }
      if (form.get('grant_type') === 'refresh_token' && this.refreshTokens.has(form.get('refresh_token')!)) {
        const t = this.issue();
        if (!this.refreshRotates) return json(200, { access_token: t.access_token, token_type: 'Bearer', expires_in: 3600 });
        this.refreshTokens.delete(form.get('refresh_token')!);
        return json(200, t);
      }
      return json(400, { error: 'invalid_grant' });
    }
    if (u.pathname.startsWith('/iot/')) {
      const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1] ?? '';
      if (!this.access.has(bearer)) return json(401, { error: 'EXPIRED TOKEN', token: bearer });
      this.paths.push(u.pathname.replace(/^\/iot\/v1\/equipment\/installations/, '').replace(/\/gateways\/.*/, ' features') || 'installations');
      if (this.api?.(req, res)) return;
      if (u.pathname === '/iot/v1/equipment/installations' && u.searchParams.get('includeGateways') === 'true') {
        res.writeHead(200, { 'content-type': 'application/json' }).end(INSTALLATIONS);
        return;
      }
      if (u.pathname === '/iot/v1/equipment/installations/1234567/gateways/7633107093013212/devices/0/features') {
        res.writeHead(200, { 'content-type': 'application/json' }).end(VITOCAL_200S);
        return;
      }
    }
    json(404, { error: 'not found' });
  }
}

const tmp = tempDir();
afterAll(() => tmp.remove());
const fakes: FakeViessmann[] = [];
const sources: ViessmannSource[] = [];
afterEach(async () => {
  for (const s of sources.splice(0)) await s.shutdown();
  for (const f of fakes.splice(0)) {
    f.server.closeAllConnections();
    await new Promise((r) => f.server.close(r));
  }
});

let n = 0;
async function setup(params: Record<string, unknown> = {}, lines: string[] = []) {
  const fake = new FakeViessmann();
  await fake.start();
  fakes.push(fake);
  const tokenFile = path.join(tmp.dir, `token${n++}.json`);
  const log = createLogger('test', { level: 'debug', write: (l) => void lines.push(l) });
  const source = build(
    ViessmannSource,
    { client_id: 'pollect-client', apiUrl: `${fake.url}/iot`, iamUrl: `${fake.url}/idp/v2`, tokenFile, ...params },
    { configDir: tmp.dir, log },
  );
  sources.push(source);
  return { fake, source, tokenFile };
}

/** A token file as the Python pollect writes it: expires_in is the expiry time in epoch seconds. */
function pythonToken(file: string, t: { access_token: string; refresh_token: string }, expiresAt: number, mode = 0o644): void {
  writeFileSync(file, JSON.stringify({ ...t, token_type: 'Bearer', expires_in: expiresAt }), { mode });
}

const mode = (file: string): number => statSync(file).mode & 0o777;
const nowS = (): number => Math.floor(Date.now() / 1000);

describe('Viessmann source against a local OAuth + API server', () => {
  it('without a token: says where to log in, takes the code at the callback (PKCE S256 checked), keeps the token with mode 0600, then probes', async () => {
    const port = await freePort();
    const lines: string[] = [];
    const { fake, source, tokenFile } = await setup({ callback_url: `http://localhost:${port}/cb` }, lines);
    const err = (await probeOnce(source).catch((e: Error) => e)) as Error;
    expect(err.message).toMatch(/no Viessmann token in .*token\d+\.json yet: log in once: open http:\/\/127\.0\.0\.1:\d+\/idp\/v2\/authorize\?/);
    // A second probe neither starts a second listener nor changes the login URL.
    const again = (await probeOnce(source).catch((e: Error) => e)) as Error;
    expect(again.message).toBe(err.message);

    // The person logs in; Viessmann redirects the browser to the callback with a code.
    const login = /open (\S+) in a browser/.exec(err.message)![1]!;
    expect(new URL(login).searchParams.get('code_challenge_method')).toBe('S256');
    const redirect = await fetch(login, { redirect: 'manual' });
    expect(redirect.status).toBe(302);
    const back = await fetch(redirect.headers.get('location')!);
    expect(back.status).toBe(200);
    expect(await back.text()).toMatch(/authorized/);
    expect(fake.grants).toEqual(['authorization_code']);

    expect(mode(tokenFile)).toBe(0o600);
    const stored = JSON.parse(readFileSync(tokenFile, 'utf8'));
    expect(stored).toMatchObject({ access_token: 'vi-access-1-secret', refresh_token: 'vi-refresh-1-secret', token_type: 'Bearer' });
    expect(stored.expires_in).toBeGreaterThanOrEqual(nowS() + 3590);
    expect(await probeOnce(source)).toEqual(EXPECTED_200S);
    // The log never showed a code, a token or the verifier.
    expect(lines.join('\n')).toMatch(/INFO .*Viessmann login done/);
    expect(lines.join('\n')).not.toMatch(/vi-(access|refresh|code)/);
    // The callback listener is gone once the login is done.
    await expect(fetch(`http://localhost:${port}/cb?code=x`)).rejects.toThrow();
  });

  it('a code traded with a verifier that does not match the challenge is refused', async () => {
    const { fake, tokenFile } = await setup();
    const auth = new ViessmannOauth({
      clientId: 'pollect-client',
      callbackUrl: 'http://localhost:4200/',
      iamUrl: `${fake.url}/idp/v2`,
      file: tokenFile,
      maxBytes: 65536,
      now: Date.now,
    });
    const { url } = auth.authorizationRequest();
    const redirect = await fetch(url, { redirect: 'manual' });
    const code = new URL(redirect.headers.get('location')!).searchParams.get('code')!;
    const d = { signal: AbortSignal.timeout(5000), timeoutMs: 5000 };
    const err = (await auth.exchangeCode(code, auth.authorizationRequest().verifier, d).catch((e: Error) => e)) as Error;
    expect(err.message).toMatch(/Viessmann refused to trade the authorization code for a token .*HTTP 400.*code_verifier does not match.*authorize again/);
    expect(existsSync(tokenFile)).toBe(false);
  });

  it("refreshes the Python pollect's expired token before a probe and rewrites the file with mode 0600", async () => {
    const { fake, source, tokenFile } = await setup();
    const old = fake.issue();
    fake.access.delete(old.access_token); // expired at the server too
    pythonToken(tokenFile, old, nowS() - 10);
    expect(await probeOnce(source)).toEqual(EXPECTED_200S);
    expect(fake.grants).toEqual(['refresh_token']);
    expect(mode(tokenFile)).toBe(0o600);
    expect(JSON.parse(readFileSync(tokenFile, 'utf8')).refresh_token).toBe('vi-refresh-2-secret');
  });

  it('a token the API refuses before its time is refreshed once and the request repeated; a refresh without a new refresh token keeps the old', async () => {
    const { fake, source, tokenFile } = await setup();
    fake.refreshRotates = false;
    const t = fake.issue();
    fake.access.delete(t.access_token); // revoked
    pythonToken(tokenFile, t, nowS() + 3000, 0o600);
    expect(await probeOnce(source)).toEqual(EXPECTED_200S);
    expect(fake.grants).toEqual(['refresh_token']);
    expect(JSON.parse(readFileSync(tokenFile, 'utf8')).refresh_token).toBe(t.refresh_token);
    // Still valid: no refresh on the next probe.
    expect(await probeOnce(source)).toEqual(EXPECTED_200S);
    expect(fake.grants).toEqual(['refresh_token']);
  });

  it('a refused refresh, a broken token file and a broken token answer fail clearly, never quoting a token', async () => {
    const { fake, source, tokenFile } = await setup();
    pythonToken(tokenFile, { access_token: 'vi-unknown-access', refresh_token: 'vi-unknown-refresh' }, nowS() - 1);
    let err = (await probeOnce(source).catch((e: Error) => e)) as Error;
    expect(err.message).toMatch(/Viessmann refused to refresh the token .*HTTP 400.*delete .*token\d+\.json and authorize again/);

    const broken = await setup();
    writeFileSync(broken.tokenFile, '{"access_token": 5}');
    err = (await probeOnce(broken.source).catch((e: Error) => e)) as Error;
    expect(err.message).toMatch(/token\d+\.json is not a Viessmann token/);

    const t = fake.issue();
    pythonToken(tokenFile, t, nowS() - 1);
    fake.tokenAnswer = (res) => {
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"token_type":"Bearer"}');
      return true;
    };
    const fresh = build(ViessmannSource, { ...source.config });
    err = (await probeOnce(fresh).catch((e: Error) => e)) as Error;
    expect(err.message).toMatch(/without access_token/);
    expect(err.message).not.toContain('secret');
  });

  it('malformed, refused, oversized and hanging API answers fail with a clear error; the token is never quoted', async () => {
    const cases: [(res: ServerResponse) => void, RegExp, number?][] = [
      [(res) => res.writeHead(200).end('<html>maintenance</html>'), /installations: invalid JSON/],
      [(res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{"data":[]}'), /no installation/],
      [
        (res) => res.writeHead(403).end('{"viErrorId":"x","message":"forbidden for vi-access-1-secret"}'),
        /installations: HTTP 403 Forbidden: .*forbidden for \*\*\*/,
      ],
      [(res) => res.writeHead(429).end('{"errorType":"RATE_LIMIT_EXCEEDED"}'), /HTTP 429 Too Many Requests: .*RATE_LIMIT_EXCEEDED/],
      [(res) => res.writeHead(200).end(`{"data":[${'{"id":1},'.repeat(1000)}{}]}`), /larger than 1024 bytes/],
      [() => {}, /no answer within 300 ms/, 300],
    ];
    for (const [answer, msg, timeoutMs] of cases) {
      const { fake, source, tokenFile } = await setup({ maxBytes: 1024 });
      const t = fake.issue();
      pythonToken(tokenFile, t, nowS() + 3000, 0o600);
      fake.api = (_req, res) => {
        answer(res);
        return true;
      };
      const err = (await probeOnce(source, { timeoutMs, signal: AbortSignal.timeout(10_000) }).catch((e: Error) => e)) as Error;
      expect(err, String(msg)).toBeInstanceOf(Error);
      expect(err.message).toMatch(msg);
      expect(err.message).not.toContain(t.access_token);
    }
  });

  it('a probe aborted by the core (ctx.signal) stops waiting at once', async () => {
    const { fake, source, tokenFile } = await setup();
    pythonToken(tokenFile, fake.issue(), nowS() + 3000, 0o600);
    fake.api = () => true; // never answers
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 100);
    const started = Date.now();
    const err = (await probeOnce(source, { signal: ac.signal, timeoutMs: 10_000 }).catch((e: Error) => e)) as Error;
    expect(err.message).toMatch(/aborted/);
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('asks for the installation list once, and again after a failure (Viessmann allows 1450 calls a day)', async () => {
    const { fake, source, tokenFile } = await setup();
    pythonToken(tokenFile, fake.issue(), nowS() + 3000, 0o600);
    await probeOnce(source);
    await probeOnce(source);
    let fail = true;
    fake.api = (req, res) => {
      if (!fail || !req.url!.endsWith('/features')) return false;
      fail = false;
      res.writeHead(502).end('bad gateway');
      return true;
    };
    await expect(probeOnce(source)).rejects.toThrow(/features: HTTP 502 Bad Gateway: bad gateway/);
    expect(await probeOnce(source)).toEqual(EXPECTED_200S);
    expect(fake.paths).toEqual(['installations', '/1234567 features', '/1234567 features', '/1234567 features', 'installations', '/1234567 features']);
  });

  it('a callback_url pollect cannot listen on is explained; bad URLs are refused at --check', async () => {
    const { source } = await setup({ callback_url: 'https://example.com/cb' });
    const err = (await probeOnce(source).catch((e: Error) => e)) as Error;
    expect(err.message).toMatch(/callback_url https:\/\/example\.com\/cb is not http:\/\/localhost:<port>/);
    expect(() => build(ViessmannSource, { client_id: 'x', apiUrl: 'ftp://x' })).toThrow(/must start with http/);
    expect(() => build(ViessmannSource, {} as never)).toThrow(/client_id: is required/);
  });

  it("its README's example is a valid config; the Python README's user and password are accepted", () => {
    const examples = readmeExamples('viessmann');
    expect(examples).toHaveLength(1);
    for (const ex of examples) expect(paramProblems(ViessmannSource.schema, 'Viessmann', ex)).toEqual([]);
    expect(paramProblems(ViessmannSource.schema, 'Viessmann', { type: 'Viessmann', client_id: 'c', user: 'me', password: 'pw' })).toEqual([]);
    expect(paramProblems(ViessmannSource.schema, 'Viessmann', { type: 'Viessmann', user: 'me' }).join('\n')).toMatch(/source\.client_id: is required/);
  });
});
