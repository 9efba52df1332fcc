// AppStoreConnect: the sales report parser (test/fixtures/appstoreconnect/, built from Apple's
// documented Summary Sales Report columns), then the source against a local HTTPS server (its
// certificate made here) that verifies the ES256 JWT with the API key's public key and serves the
// report as gzip TSV, as App Store Connect does.
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { generateKeyPairSync } from 'node:crypto';
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { unitsPerSku } from '../../src/sources/appstoreconnect/parse.js';
import { AppStoreConnectSource } from '../../src/sources/appstoreconnect/index.js';
import { redact } from '../../src/sdk/index.js';
import { probeOnce } from '../helpers/probe.js';
import { build } from '../helpers/plugin.js';
import { tempDir } from '../helpers/net.js';
import { selfSigned } from '../helpers/certs.js';
import { paramProblems, readmeExamples } from '../helpers/readme-examples.js';

const REPORT = readFileSync(path.join(__dirname, '../fixtures/appstoreconnect/sales-summary-daily.tsv'), 'utf8');
const UNITS = [
  ['com.example.app', 15],
  ['com.example.app.pro', 3],
  ['com.example.game', 0],
];

describe('App Store Connect sales report', () => {
  it('counts per SKU the units of downloads (1F) and in-app purchases (IA1), refunds included, not updates or re-downloads', () => {
    expect([...unitsPerSku(REPORT)]).toEqual(UNITS);
    expect([...unitsPerSku(REPORT.replace(/\n/g, '\r\n'))]).toEqual(UNITS);
  });
  it('refuses what is not a sales report, naming the column or line', () => {
    expect(() => unitsPerSku('<html>maintenance</html>')).toThrow(/not a sales report: no column "SKU"/);
    expect(() => unitsPerSku('SKU\tProduct Type Identifier\tUnits')).toThrow(/no column "Developer Proceeds"/);
    expect(() => unitsPerSku('SKU\tProduct Type Identifier\tUnits\tDeveloper Proceeds\na\t1F\tmany\t0')).toThrow(/line 2 has no SKU and whole number of units/);
    expect([...unitsPerSku('SKU\tProduct Type Identifier\tUnits\tDeveloper Proceeds\n')]).toEqual([]);
  });
});

const tmp = tempDir();
afterAll(() => tmp.remove());
const tls = selfSigned(tmp.dir, { key: 'server.key', cert: 'server.pem' });
const TLS = { key: readFileSync(path.join(tmp.dir, tls.key)), cert: readFileSync(path.join(tmp.dir, tls.cert)) };

const apiKey = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
const KEY_PEM = apiKey.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
const PUBLIC_PEM = apiKey.publicKey.export({ type: 'spki', format: 'pem' }).toString();
const OTHER_KEY_PEM = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
const ISSUER = '57246542-96fe-1a63-e053-0824d011072a';
const KEY_ID = '2X9R4HXF34';

const apiError = (status: number, code: string, detail: string) => JSON.stringify({ errors: [{ id: 'x', status: String(status), code, title: code, detail }] });

/** A local App Store Connect: /v1/salesReports behind JWT verification. */
class FakeAppStore {
  server!: Server;
  url = '';
  queries: Record<string, string>[] = [];
  jwts: { header: Record<string, unknown>; claims: Record<string, unknown> }[] = [];
  answer: ((res: ServerResponse) => void) | undefined;

  async start(): Promise<void> {
    this.server = createServer(TLS, (req, res) => void this.handle(req, res));
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.url = `https://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const u = new URL(req.url!, this.url);
    const { importSPKI, jwtVerify } = await import('jose');
    const jwt = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1] ?? '';
    try {
      const { payload, protectedHeader } = await jwtVerify(jwt, await importSPKI(PUBLIC_PEM, 'ES256'), {
        issuer: ISSUER,
        audience: 'appstoreconnect-v1',
        algorithms: ['ES256'],
        maxTokenAge: '20m',
      });
      if (protectedHeader.kid !== KEY_ID || (payload.exp ?? 0) - (payload.iat ?? 0) > 1200) throw new Error('bad kid or lifetime');
      this.jwts.push({ header: { ...protectedHeader }, claims: { ...payload } });
    } catch {
      res
        .writeHead(401, { 'content-type': 'application/json' })
        .end(apiError(401, 'NOT_AUTHORIZED', `Provide a properly configured and signed bearer token (got ${jwt})`));
      return;
    }
    if (u.pathname !== '/v1/salesReports') return void res.writeHead(404).end();
    this.queries.push(Object.fromEntries(u.searchParams));
    if (this.answer) return this.answer(res);
    res.writeHead(200, { 'content-type': 'application/a-gzip' }).end(gzipSync(REPORT));
  }
}

const fakes: FakeAppStore[] = [];
afterEach(async () => {
  for (const f of fakes.splice(0)) {
    f.server.closeAllConnections();
    await new Promise((r) => f.server.close(r));
  }
});

let n = 0;
async function setup(params: Record<string, unknown> = {}, keyPem = KEY_PEM) {
  const fake = new FakeAppStore();
  await fake.start();
  fakes.push(fake);
  const dir = path.join(tmp.dir, `c${n++}`);
  mkdirSync(dir);
  writeFileSync(path.join(dir, 'my_api_key.p8'), keyPem);
  const source = build(
    AppStoreConnectSource,
    {
      keyId: KEY_ID,
      keyFile: 'my_api_key.p8',
      issuerId: ISSUER,
      vendorNumber: '882223',
      dbDir: 'db',
      apiUrl: fake.url,
      ca: path.join(tmp.dir, tls.cert),
      ...params,
    },
    { configDir: dir },
  );
  return { fake, source, dir };
}

const yesterday = (): string => {
  const d = new Date(Date.now() - 86_400_000);
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
};

describe('AppStoreConnect source against a local HTTPS App Store Connect', () => {
  it("downloads yesterday's report with an ES256 JWT, reports units per SKU, and reads it from dbDir afterwards", async () => {
    const { fake, source, dir } = await setup();
    writeFileSync(path.join(dir, 'report_882223_2020-01-01.tsv'), 'an older report');
    const before = Math.floor(Date.now() / 1000) - 86_400;
    const samples = await probeOnce(source);
    expect(samples.slice(0, 3)).toEqual(UNITS.map(([sku, value]) => ({ name: 'units', value, labels: { sku } })));
    expect(samples[3]).toMatchObject({ name: 'latestUpdate', unit: 'seconds' });
    expect(samples[3]!.value).toBeGreaterThanOrEqual(before);
    expect(samples[3]!.value).toBeLessThanOrEqual(before + 5);
    expect(fake.queries).toEqual([
      {
        'filter[frequency]': 'DAILY',
        'filter[reportDate]': yesterday(),
        'filter[reportSubType]': 'SUMMARY',
        'filter[reportType]': 'SALES',
        'filter[vendorNumber]': '882223',
        'filter[version]': '1_0',
      },
    ]);
    expect(fake.jwts[0]!.header).toEqual({ alg: 'ES256', kid: KEY_ID, typ: 'JWT' });
    // The API key is a registered secret from --check on: no message shows it.
    expect(redact(`key ${KEY_PEM.trim()}`)).toBe('key ***');
    // Kept as the vendor's only report; the next probe asks nobody.
    expect(readdirSync(path.join(dir, 'db'))).toEqual([`report_882223_${yesterday()}.tsv`]);
    expect(readFileSync(path.join(dir, 'db', `report_882223_${yesterday()}.tsv`), 'utf8')).toBe(REPORT);
    expect((await probeOnce(source)).slice(0, 3)).toEqual(samples.slice(0, 3));
    expect(fake.queries).toHaveLength(1);
  });

  it('a report not made yet gives nothing and is asked for again; a day without sales gives only latestUpdate', async () => {
    const { fake, source, dir } = await setup();
    fake.answer = (res) =>
      res
        .writeHead(404, { 'content-type': 'application/json' })
        .end(apiError(404, 'NOT_FOUND', 'Report is not available yet. Daily reports for the Americas are available by 5 am Pacific Time'));
    expect(await probeOnce(source)).toEqual([]);
    expect(existsSync(path.join(dir, 'db'))).toBe(false);
    fake.answer = (res) =>
      res.writeHead(404, { 'content-type': 'application/json' }).end(apiError(404, 'NOT_FOUND', 'There were no sales for the date specified.'));
    expect((await probeOnce(source)).map((s) => s.name)).toEqual(['latestUpdate']);
    expect((await probeOnce(source)).map((s) => s.name)).toEqual(['latestUpdate']);
    expect(fake.queries).toHaveLength(2);
  });

  it('a JWT signed with another key is refused: a clear error that quotes neither the JWT nor the key', async () => {
    const { source } = await setup({}, OTHER_KEY_PEM);
    const err = (await probeOnce(source).catch((e: Error) => e)) as Error;
    expect(err.message).toMatch(
      /GET https:\/\/127\.0\.0\.1:\d+\/v1\/salesReports: HTTP 401: Provide a properly configured and signed bearer token \(got \*\*\*\)/,
    );
    expect(err.message).not.toMatch(/eyJ|PRIVATE KEY/);
  });

  it('403, a gzip bomb, a broken gzip, a non-report, an oversized and a hanging answer fail clearly', async () => {
    const bomb = gzipSync(Buffer.alloc(64 * 1024 * 1024));
    const cases: [(res: ServerResponse) => void, RegExp, number?][] = [
      [
        (res) => res.writeHead(403).end(apiError(403, 'FORBIDDEN_ERROR', 'The API key in use does not allow this request')),
        /HTTP 403: The API key in use does not allow this request/,
      ],
      [(res) => res.writeHead(200).end(bomb), /the report is larger than 1048576 bytes unpacked/],
      [(res) => res.writeHead(200).end(Buffer.concat([gzipSync(REPORT).subarray(0, 40), Buffer.alloc(20)])), /the report is not a valid gzip/],
      [(res) => res.writeHead(200).end(gzipSync('<html>maintenance</html>')), /report_882223_\d{4}-\d\d-\d\d\.tsv: not a sales report: no column "SKU"/],
      [(res) => res.writeHead(200).end(Buffer.alloc(2 * 1024 * 1024, 0x41)), /response larger than 1048576 bytes/],
      [() => {}, /no answer within 300 ms/, 300],
    ];
    for (const [answer, msg, timeoutMs] of cases) {
      const { fake, source } = await setup({ maxBytes: 1024 * 1024 });
      fake.answer = answer;
      const err = (await probeOnce(source, { timeoutMs, signal: AbortSignal.timeout(10_000) }).catch((e: Error) => e)) as Error;
      expect(err, String(msg)).toBeInstanceOf(Error);
      expect(err.message).toMatch(msg);
    }
  });

  it("a server certificate the source cannot verify (no ca) fails the probe; the core's abort stops a hanging one", async () => {
    const { fake, dir } = await setup();
    const noCa = build(
      AppStoreConnectSource,
      { keyId: KEY_ID, keyFile: 'my_api_key.p8', issuerId: ISSUER, vendorNumber: '882223', apiUrl: fake.url },
      { configDir: dir },
    );
    expect(((await probeOnce(noCa).catch((e: Error) => e)) as Error).message).toMatch(/salesReports: .*(self.signed|certificate)/i);
    fake.answer = () => {};
    const { source } = await setup();
    const hanging = fakes.at(-1)!;
    hanging.answer = () => {};
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 100);
    const started = Date.now();
    expect(((await probeOnce(source, { signal: ac.signal }).catch((e: Error) => e)) as Error).message).toMatch(/aborted/);
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('refuses at --check a key file that is missing or not an EC P-256 key, at keyFile', () => {
    const dir = path.join(tmp.dir, 'check');
    mkdirSync(dir);
    const params = { keyId: KEY_ID, keyFile: 'k.p8', issuerId: ISSUER, vendorNumber: '882223' };
    expect(() => build(AppStoreConnectSource, params, { configDir: dir })).toThrow(/cannot read .*k\.p8: no such file/);
    writeFileSync(path.join(dir, 'k.p8'), 'not a key');
    expect(() => build(AppStoreConnectSource, params, { configDir: dir })).toThrow(/not a private key \(PEM\)/);
    writeFileSync(path.join(dir, 'k.p8'), generateKeyPairSync('ec', { namedCurve: 'secp384r1' }).privateKey.export({ type: 'pkcs8', format: 'pem' }));
    expect(() => build(AppStoreConnectSource, params, { configDir: dir })).toThrow(/not an App Store Connect API key/);
    expect(() => build(AppStoreConnectSource, { ...params, keyId: undefined } as never, { configDir: dir })).toThrow(/keyId: is required/);
  });

  it("its README's example is a valid config", () => {
    const examples = readmeExamples('appstoreconnect');
    expect(examples).toHaveLength(1);
    for (const ex of examples) expect(paramProblems(AppStoreConnectSource.schema, 'AppStoreConnect', ex)).toEqual([]);
  });
});
