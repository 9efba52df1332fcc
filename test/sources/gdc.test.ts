// Gdc: the Play Console crash export parser (UTF-16 CSV, test/fixtures/gdc/, constructed from
// Google's documented columns), then the source against a local server that speaks the Cloud
// Storage JSON API (object list, media download) and the service-account token exchange (it
// verifies the RS256 JWT with the test key's public key).
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { generateKeyPairSync } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { decodeExport, latestDay, parseCrashExport } from '../../src/sources/gdc/parse.js';
import { GdcSource } from '../../src/sources/gdc/index.js';
import { createLogger } from '../../src/log.js';
import { redact } from '../../src/sdk/index.js';
import { probeOnce } from '../helpers/probe.js';
import { build } from '../helpers/plugin.js';
import { tempDir } from '../helpers/net.js';
import { paramProblems, readmeExamples } from '../helpers/readme-examples.js';

const FIXTURE = path.join(__dirname, '../fixtures/gdc/crashes_my.app.package_202105_app_version.csv');
const EXPORT = readFileSync(FIXTURE);
const local = (y: number, m: number, d: number): number => new Date(y, m - 1, d).getTime();

describe('Play Console crash export', () => {
  it('decodes UTF-16 (BOM little- or big-endian, or none) and UTF-8', () => {
    const text = 'Date,Package Name\n2021-05-31,a.b\n';
    expect(decodeExport(EXPORT).startsWith('Date,Package Name,App Version Code,Daily Crashes,Daily ANRs\n')).toBe(true);
    expect(decodeExport(Buffer.concat([Buffer.from([0xfe, 0xff]), Buffer.from(text, 'utf16le').swap16()]))).toBe(text);
    expect(decodeExport(Buffer.from(text, 'utf16le'))).toBe(text);
    expect(decodeExport(Buffer.from(`\uFEFF${text}`, 'utf8'))).toBe(text);
  });

  it("reports the last day's rows; a last day more than three days old counts 0, as in the Python pollect", () => {
    const rows = parseCrashExport(decodeExport(EXPORT));
    expect(rows).toHaveLength(8);
    const last = [
      { date: local(2021, 5, 31), versionCode: 412, crashes: 2, anrs: 0 },
      { date: local(2021, 5, 31), versionCode: 413, crashes: 5, anrs: 1 },
      { date: local(2021, 5, 31), versionCode: 414, crashes: 0, anrs: 3 },
    ];
    expect(latestDay(rows, local(2021, 6, 1) + 12 * 3600_000)).toEqual(last);
    expect(latestDay(rows, local(2021, 6, 4) + 1)).toEqual(last.map((r) => ({ ...r, crashes: 0, anrs: 0 })));
    expect(latestDay([], Date.now())).toEqual([]);
  });

  it('refuses a row that is not a date and three whole numbers, naming its line', () => {
    expect(() => parseCrashExport('h\n2021-05-31,a,412,2,0\n2021-05-31,a,413,x,0\n')).toThrow(/line 3 is not "date,package,version code,crashes,ANRs"/);
    expect(() => parseCrashExport('h\n31.05.2021,a,1,2,3')).toThrow(/line 2/);
    expect(() => parseCrashExport('h\n2021-05-31,a,1,2')).toThrow(/line 2/);
  });
});

const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const PRIVATE_PEM = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
const PUBLIC_PEM = publicKey.export({ type: 'spki', format: 'pem' }).toString();
const OTHER_PEM = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
const EMAIL = 'pollect@api-project-1234.iam.gserviceaccount.com';
const BUCKET = 'pubsite_prod_rev_1234';

/** A local Google: the OAuth2 token endpoint and the Cloud Storage JSON API for one bucket. */
class FakeGoogle {
  server!: Server;
  url = '';
  objects = new Map<string, { updated: string; body: Buffer }>();
  tokens = new Set<string>();
  requests: string[] = [];
  claims: Record<string, unknown>[] = [];
  storage: ((req: IncomingMessage, res: ServerResponse) => boolean) | undefined;
  private n = 0;

  async start(): Promise<void> {
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const u = new URL(req.url!, this.url);
    const json = (status: number, body: unknown): void => void res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    if (u.pathname === '/token' && req.method === 'POST') {
      this.requests.push('token');
      let body = '';
      for await (const chunk of req) body += chunk;
      const form = new URLSearchParams(body);
      if (form.get('grant_type') !== 'urn:ietf:params:oauth:grant-type:jwt-bearer') return json(400, { error: 'unsupported_grant_type' });
      const { importSPKI, jwtVerify } = await import('jose');
      try {
        const { payload, protectedHeader } = await jwtVerify(form.get('assertion')!, await importSPKI(PUBLIC_PEM, 'RS256'), {
          issuer: EMAIL,
          audience: `${this.url}/token`,
          algorithms: ['RS256'],
        });
        this.claims.push({ ...payload, kid: protectedHeader.kid });
      } catch (err) {
        return json(400, { error: 'invalid_grant', error_description: `Invalid JWT Signature (${(err as Error).message})` });
      }
      const token = `ya29.gdc-token-${++this.n}`;
      this.tokens.add(token);
      return json(200, { access_token: token, expires_in: 3599, token_type: 'Bearer' });
    }
    const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1] ?? '';
    if (!this.tokens.has(bearer)) return json(401, { error: { code: 401, message: `Invalid Credentials ${bearer}` } });
    if (this.storage?.(req, res)) return;
    const list = new RegExp(`^/storage/v1/b/${BUCKET}/o$`).exec(u.pathname);
    if (list) {
      this.requests.push(`list ${u.searchParams.get('prefix')}`);
      const prefix = u.searchParams.get('prefix') ?? '';
      const items = [...this.objects]
        .filter(([name]) => name.startsWith(prefix))
        .map(([name, o]) => ({ kind: 'storage#object', name, bucket: BUCKET, updated: o.updated, size: String(o.body.length) }));
      return json(200, items.length ? { kind: 'storage#objects', items } : { kind: 'storage#objects' });
    }
    const media = new RegExp(`^/storage/v1/b/${BUCKET}/o/([^/]+)$`).exec(u.pathname);
    if (media && u.searchParams.get('alt') === 'media') {
      const name = decodeURIComponent(media[1]!);
      this.requests.push(`get ${name}`);
      const o = this.objects.get(name);
      if (!o) return json(404, { error: { code: 404, message: 'No such object' } });
      res.writeHead(200, { 'content-type': 'text/csv' }).end(o.body);
      return;
    }
    json(404, { error: { code: 404, message: 'Not Found' } });
  }
}

const tmp = tempDir();
afterAll(() => tmp.remove());
const fakes: FakeGoogle[] = [];
afterEach(async () => {
  for (const f of fakes.splice(0)) {
    f.server.closeAllConnections();
    await new Promise((r) => f.server.close(r));
  }
});

let n = 0;
async function setup(params: Record<string, unknown> = {}, key: Record<string, unknown> = {}, lines: string[] = []) {
  const fake = new FakeGoogle();
  await fake.start();
  fakes.push(fake);
  const dir = path.join(tmp.dir, `c${n++}`);
  mkdirSync(dir);
  writeFileSync(
    path.join(dir, 'api-project-1234.json'),
    JSON.stringify({
      type: 'service_account',
      project_id: 'api-project-1234',
      private_key_id: 'kid-1234',
      private_key: PRIVATE_PEM,
      client_email: EMAIL,
      client_id: '1234567890',
      token_uri: `${fake.url}/token`,
      ...key,
    }),
  );
  const log = createLogger('test', { level: 'debug', write: (l) => void lines.push(l) });
  const source = build(
    GdcSource,
    {
      bucketName: BUCKET,
      apps: [{ package: 'my.app.package', name: 'My App' }],
      keyFile: 'api-project-1234.json',
      dbDir: 'db',
      storageUrl: fake.url,
      ...params,
    },
    { configDir: dir, log },
  );
  return { fake, source, dir };
}

const month = (d = new Date()): string => `${d.getFullYear()}${String(d.getMonth() + 1).padStart(2, '0')}`;
const day = (ms: number): string => {
  const d = new Date(ms);
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
};
/** An export as Google writes it (UTF-16LE with a BOM) whose last day is yesterday. */
function freshExport(): Buffer {
  const yesterday = Date.now() - 86_400_000;
  const text = `Date,Package Name,App Version Code,Daily Crashes,Daily ANRs\n${day(yesterday - 86_400_000)},my.app.package,7,9,9\n${day(yesterday)},my.app.package,7,1,0\n${day(yesterday)},my.app.package,9,0,4\n`;
  return Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]);
}
const midnight = (ms: number): number => {
  const d = new Date(ms);
  return new Date(d.getFullYear(), d.getMonth(), d.getDate()).getTime() / 1000;
};

describe('Gdc source against a local Cloud Storage', () => {
  it("downloads this month's export with a service-account token, reports its last day, and downloads again only when it changed", async () => {
    const lines: string[] = [];
    const { fake, source, dir } = await setup({}, {}, lines);
    const name = `stats/crashes/crashes_my.app.package_${month()}_app_version.csv`;
    fake.objects.set(name, { updated: '2026-01-01T06:00:00.000Z', body: freshExport() });
    fake.objects.set(`stats/crashes/crashes_other.app_${month()}_app_version.csv`, { updated: 'x', body: Buffer.from('nope') });
    const expected = [
      { name: 'crashes_my.app.package', value: 1, labels: { versionCode: '7', type: 'crash' } },
      { name: 'crashes_my.app.package', value: 0, labels: { versionCode: '7', type: 'anr' } },
      { name: 'crashes_my.app.package', value: 0, labels: { versionCode: '9', type: 'crash' } },
      { name: 'crashes_my.app.package', value: 4, labels: { versionCode: '9', type: 'anr' } },
      { name: 'latestUpdate', value: midnight(Date.now() - 86_400_000), unit: 'seconds' },
    ];
    expect(await probeOnce(source)).toEqual(expected);
    expect(readFileSync(path.join(dir, 'db', path.basename(name)))).toEqual(fake.objects.get(name)!.body);
    expect(await probeOnce(source)).toEqual(expected);
    fake.objects.set(name, { updated: '2026-01-02T06:00:00.000Z', body: freshExport() });
    await probeOnce(source);
    expect(fake.requests).toEqual(['token', `list ${name}`, `get ${name}`, `list ${name}`, `list ${name}`, `get ${name}`]);
    expect(fake.claims).toEqual([
      expect.objectContaining({ iss: EMAIL, scope: 'https://www.googleapis.com/auth/devstorage.read_only', aud: `${fake.url}/token`, kid: 'kid-1234' }),
    ]);
    const exp = fake.claims[0]!.exp as number;
    expect(exp - (fake.claims[0]!.iat as number)).toBe(3600);
    // The log names what was downloaded and never shows the key or the token.
    expect(lines.join('\n')).toMatch(/downloaded gs:\/\/pubsite_prod_rev_1234\/stats\/crashes\//);
    expect(lines.join('\n')).not.toMatch(/ya29|PRIVATE KEY/);
    // The key file's private key and the access token are registered secrets: no message shows them.
    expect(redact(`key ${PRIVATE_PEM.trim()} token ya29.gdc-token-1`)).toBe('key *** token ***');
  });

  it("without this month's export yet, reports the newest one on disk (its last day long past: 0)", async () => {
    const { source, dir } = await setup();
    mkdirSync(path.join(dir, 'db'));
    copyFileSync(FIXTURE, path.join(dir, 'db', path.basename(FIXTURE)));
    writeFileSync(path.join(dir, 'db', 'crashes_my.app.package_202104_app_version.csv'), 'older: not read');
    expect(await probeOnce(source)).toEqual([
      { name: 'crashes_my.app.package', value: 0, labels: { versionCode: '412', type: 'crash' } },
      { name: 'crashes_my.app.package', value: 0, labels: { versionCode: '412', type: 'anr' } },
      { name: 'crashes_my.app.package', value: 0, labels: { versionCode: '413', type: 'crash' } },
      { name: 'crashes_my.app.package', value: 0, labels: { versionCode: '413', type: 'anr' } },
      { name: 'crashes_my.app.package', value: 0, labels: { versionCode: '414', type: 'crash' } },
      { name: 'crashes_my.app.package', value: 0, labels: { versionCode: '414', type: 'anr' } },
      { name: 'latestUpdate', value: local(2021, 5, 31) / 1000, unit: 'seconds' },
    ]);
  });

  it('a JWT signed with another key is refused with a clear error that quotes no key', async () => {
    const { source } = await setup({}, { private_key: OTHER_PEM });
    const err = (await probeOnce(source).catch((e: Error) => e)) as Error;
    expect(err.message).toMatch(
      /the service account pollect@api-project-1234\.iam\.gserviceaccount\.com got no token: POST http:\/\/127\.0\.0\.1:\d+\/token: HTTP 400.*Invalid JWT Signature/,
    );
    expect(err.message).not.toMatch(/PRIVATE KEY|MII/);
  });

  it('a token refused by storage is replaced once; 403, malformed, oversized and hanging answers fail clearly', async () => {
    const once = await setup();
    let refused = 0;
    once.fake.storage = (_req, res) => {
      if (refused++ > 0) return false;
      res.writeHead(401).end('{"error":{"code":401,"message":"expired"}}');
      return true;
    };
    expect(await probeOnce(once.source)).toEqual([{ name: 'latestUpdate', value: 0, unit: 'seconds' }]);
    expect(once.fake.requests.filter((r) => r === 'token')).toHaveLength(2);

    const cases: [(res: ServerResponse) => void, RegExp, number?][] = [
      [(res) => res.writeHead(401).end('{"error":{"message":"Invalid Credentials ya29.gdc-token-1"}}'), /HTTP 401: .*Invalid Credentials \*\*\*/],
      [
        (res) => res.writeHead(403).end('{"error":{"code":403,"message":"pollect@ does not have storage.objects.list access"}}'),
        /HTTP 403 \(may the service account read the bucket\?.*storage\.objects\.list/,
      ],
      [(res) => res.writeHead(200).end('<html>'), /invalid JSON/],
      [(res) => res.writeHead(200).end('{"items":{"name":"x"}}'), /not a Cloud Storage listing/],
      [(res) => res.writeHead(200).end(`{"items":[${'{"name":"x"},'.repeat(200)}{}]}`), /larger than 1024 bytes/],
      [() => {}, /no answer within 300 ms/, 300],
    ];
    for (const [answer, msg, timeoutMs] of cases) {
      const { fake, source } = await setup({ maxBytes: 1024 });
      fake.storage = (_req, res) => {
        answer(res);
        return true;
      };
      const err = (await probeOnce(source, { timeoutMs, signal: AbortSignal.timeout(10_000) }).catch((e: Error) => e)) as Error;
      expect(err, String(msg)).toBeInstanceOf(Error);
      expect(err.message).toMatch(msg);
      expect(err.message).not.toMatch(/ya29/);
    }
  });

  it('an export larger than maxBytes or not a crash export fails naming it; a probe the core aborts stops at once', async () => {
    const big = await setup({ maxBytes: 1024 });
    const name = `stats/crashes/crashes_my.app.package_${month()}_app_version.csv`;
    big.fake.objects.set(name, { updated: 'u', body: Buffer.alloc(4096, 0x41) });
    expect(((await probeOnce(big.source).catch((e: Error) => e)) as Error).message).toMatch(
      /GET http:\/\/127\.0\.0\.1:\d+\/storage\/v1\/b\/pubsite_prod_rev_1234\/o\/stats%2Fcrashes%2Fcrashes_my\.app\.package_\d{6}_app_version\.csv: response larger than 1024 bytes/,
    );
    expect(existsSync(path.join(big.dir, 'db', path.basename(name)))).toBe(false);

    const bad = await setup();
    bad.fake.objects.set(name, { updated: 'u', body: Buffer.from('Date,Package Name\n<html>\n', 'utf16le') });
    expect(((await probeOnce(bad.source).catch((e: Error) => e)) as Error).message).toMatch(
      /db\/crashes_my\.app\.package_\d{6}_app_version\.csv: line 2 is not/,
    );

    const hang = await setup();
    hang.fake.storage = () => true;
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 100);
    const started = Date.now();
    expect(((await probeOnce(hang.source, { signal: ac.signal }).catch((e: Error) => e)) as Error).message).toMatch(/aborted/);
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('refuses at --check a key file that is missing, not JSON or not a service-account key, at keyFile', async () => {
    const { dir } = await setup();
    const ctx = { configDir: dir };
    const params = { bucketName: BUCKET, keyFile: 'k.json' };
    expect(() => build(GdcSource, params, ctx)).toThrow(/cannot read .*k\.json: no such file/);
    writeFileSync(path.join(dir, 'k.json'), 'not json');
    expect(() => build(GdcSource, params, ctx)).toThrow(/not a service-account key file \(not JSON\)/);
    writeFileSync(path.join(dir, 'k.json'), '{"type":"authorized_user","client_id":"x"}');
    expect(() => build(GdcSource, params, ctx)).toThrow(/no client_email and private_key/);
    try {
      build(GdcSource, params, ctx);
    } catch (err) {
      expect((err as { param?: string }).param).toBe('keyFile');
    }
    expect(() => build(GdcSource, { bucketName: BUCKET } as never, ctx)).toThrow(/keyFile: is required/);
    expect(() => build(GdcSource, { ...params, apps: [{ name: 'x' }] } as never, ctx)).toThrow(/apps\[0\]\.package: is required/);
  });

  it("its README's example is a valid config", () => {
    const examples = readmeExamples('gdc');
    expect(examples).toHaveLength(1);
    for (const ex of examples) expect(paramProblems(GdcSource.schema, 'Gdc', ex)).toEqual([]);
  });
});
