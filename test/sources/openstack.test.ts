// OpenStack source against two HTTP servers in the test: one plays Keystone v3 (password auth,
// X-Subject-Token, the captured catalog with its compute URLs pointed at the Nova server), the
// other plays Nova os-simple-tenant-usage at microversion 2.40 with the captured documents and the
// real os-metrics dumps, paged the way Nova pages (by instance, "next" links with a marker).
import { fixtureDir } from '../helpers/fixtures.js';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { OpenStackSource, type OpenStackConfig } from '../../src/sources/openstack/index.js';
import { UsageCollector, parsePage } from '../../src/sources/openstack/usage.js';
import { SourceError, type Sample } from '../../src/sdk/index.js';
import { probeOnce, valueOf } from '../helpers/probe.js';
import { build } from '../helpers/plugin.js';

const FIX = fixtureDir('openstack');
const read = (f: string): string => readFileSync(path.join(FIX, f), 'utf8');
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- captured documents, read field by field
type Json = any;
const TOKEN_DOC = JSON.parse(read('keystone-v3-token-response.json')) as Json;
const PROJECT_ID: string = TOKEN_DOC.token.project.id;
const DUMP_NAMES = ['os_metrics_20220301.json', 'os_metrics_20210102.json', 'os_metrics_20260101.json'];
const DUMPS: Record<string, Json> = Object.fromEntries(DUMP_NAMES.map((f) => [f, JSON.parse(read(`os-metrics/${f}`))]));
const EMPTY_DUMP = readFileSync(path.join(FIX, 'os-metrics/os_metrics_20220427.json'));
const USER = 'admin';
const PASSWORD = 'S3cr3t-OpenStack-pw!';

// ---- Keystone ----
interface KeystoneState {
  mode: 'ok' | 'hang' | 'garbage' | 'html' | 'notoken' | 'echo';
  lifetimeMs: number;
  twoRegions: boolean;
  auths: number;
}
const ks: KeystoneState = { mode: 'ok', lifetimeMs: 3_600_000, twoRegions: false, auths: 0 };
const validTokens = new Set<string>();
let tokenSerial = 0;
let novaBase = '';

function tokenBody(): string {
  const doc = structuredClone(TOKEN_DOC);
  doc.token.expires_at = new Date(Date.now() + ks.lifetimeMs).toISOString();
  doc.token.issued_at = new Date().toISOString();
  for (const svc of doc.token.catalog as Json[]) {
    for (const e of svc.endpoints as Json[]) {
      // Only the public compute endpoint reaches the test Nova; the others lead nowhere.
      e.url = String(e.url).replace('http://23.253.248.171:8774', e.interface === 'public' ? novaBase : 'http://127.0.0.1:9');
    }
    if (svc.type === 'compute' && ks.twoRegions) {
      svc.endpoints.push({ id: 'r2', interface: 'public', region: 'RegionTwo', region_id: 'RegionTwo', url: `${novaBase}/r2/v2.1/${PROJECT_ID}` });
    }
  }
  return JSON.stringify(doc);
}

function keystone(req: http.IncomingMessage, res: http.ServerResponse): void {
  res.on('error', () => {});
  let raw = '';
  req.on('data', (d: Buffer) => (raw += d.toString()));
  req.on('end', () => {
    if (req.method !== 'POST' || req.url !== '/identity/v3/auth/tokens') return void res.writeHead(404).end('{"error":{"code":404,"message":"not found"}}');
    ks.auths++;
    if (ks.mode === 'hang') return;
    if (ks.mode === 'garbage') return void res.writeHead(201, { 'x-subject-token': 'x' }).end(Buffer.from([0xde, 0xad, 0xbe, 0xef, 0x00, 0x01]));
    if (ks.mode === 'html')
      return void res.writeHead(503, { 'content-type': 'text/html' }).end('<html><body><h1>503 Service Unavailable</h1>No server is available</body></html>');
    if (ks.mode === 'echo') {
      // A hostile or broken Keystone that quotes the request (password included) in its error.
      return void res.writeHead(401, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { code: 401, message: `bad request ${raw}` } }));
    }
    let body: Json;
    try {
      body = JSON.parse(raw);
    } catch {
      return void res.writeHead(400).end('{"error":{"code":400,"message":"Malformed request body"}}');
    }
    const id = body?.auth?.identity;
    const ok =
      id?.methods?.[0] === 'password' &&
      id?.password?.user?.name === USER &&
      id?.password?.user?.password === PASSWORD &&
      id?.password?.user?.domain?.name === 'Default' &&
      body?.auth?.scope?.project?.name === 'admin' &&
      body?.auth?.scope?.project?.domain?.name === 'Default';
    if (!ok) {
      return void res
        .writeHead(401, { 'content-type': 'application/json' })
        .end('{"error": {"code": 401, "title": "Unauthorized", "message": "The request you have made requires authentication."}}');
    }
    const token = `gAAAAAB-test-token-${++tokenSerial}-${Math.random().toString(36).slice(2)}`;
    validTokens.add(token);
    const headers = { 'content-type': 'application/json', 'x-subject-token': token };
    res.writeHead(201, ks.mode === 'notoken' ? { 'content-type': 'application/json' } : headers).end(tokenBody());
  });
}

// ---- Nova ----
type Failure = 'hang' | 'garbage' | 'html' | 'huge' | 'truncated' | 'empty' | 'always401' | 'forbidden' | 'wrongshape';
interface NovaState {
  /** Page bodies by marker ('' = first page). */
  pages: Map<string, string | Buffer>;
  failure?: Failure;
  /** The next request with a valid token is answered 401 and the token revoked. */
  revokeNext: boolean;
  requests: { path: string; query: URLSearchParams; token: string }[];
}
const nova: NovaState = { pages: new Map(), revokeNext: false, requests: [] };

function novaHandler(req: http.IncomingMessage, res: http.ServerResponse): void {
  res.on('error', () => {});
  const url = new URL(req.url ?? '/', 'http://nova');
  const token = String(req.headers['x-auth-token'] ?? '');
  nova.requests.push({ path: url.pathname, query: url.searchParams, token });
  const json = { 'content-type': 'application/json' };
  if (!/^(\/r2)?\/v2\.1\/[0-9a-f]+\/os-simple-tenant-usage(\/[0-9a-f]+)?$/.test(url.pathname))
    return void res.writeHead(404, json).end('{"itemNotFound":{"code":404}}');
  if (nova.failure === 'always401') {
    return void res.writeHead(401, json).end(`{"error": {"code": 401, "message": "token ${token} is not valid"}}`);
  }
  if (!validTokens.has(token)) {
    return void res
      .writeHead(401, json)
      .end('{"error": {"code": 401, "title": "Unauthorized", "message": "The request you have made requires authentication."}}');
  }
  if (nova.revokeNext) {
    nova.revokeNext = false;
    validTokens.delete(token);
    return void res.writeHead(401, json).end(`{"error": {"code": 401, "message": "token ${token} expired"}}`);
  }
  if (req.headers['openstack-api-version'] !== 'compute 2.40' || req.headers['x-openstack-nova-api-version'] !== '2.40') {
    return void res.writeHead(400, json).end('{"badRequest":{"code":400,"message":"this test Nova speaks 2.40 only"}}');
  }
  const start = url.searchParams.get('start') ?? '';
  const end = url.searchParams.get('end') ?? '';
  if (!/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$/.test(start) || !/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$/.test(end)) {
    return void res.writeHead(400, json).end('{"badRequest":{"code":400,"message":"Invalid start time."}}');
  }
  switch (nova.failure) {
    case 'hang':
      return;
    case 'garbage':
      return void res.writeHead(200, json).end(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00]));
    case 'html':
      return void res
        .writeHead(500, { 'content-type': 'text/html' })
        .end(
          '<html><head><title>500 Internal Server Error</title></head><body><h1>Internal Server Error</h1><p>The server encountered an internal error.</p></body></html>',
        );
    case 'truncated':
      return void res.writeHead(200, json).end(JSON.stringify({ tenant_usage: DUMPS['os_metrics_20220301.json'] }).slice(0, 2000));
    case 'empty':
      return void res.writeHead(200, json).end(EMPTY_DUMP);
    case 'forbidden':
      return void res
        .writeHead(403, json)
        .end('{"forbidden": {"code": 403, "message": "Policy doesn\'t allow os_compute_api:os-simple-tenant-usage:list to be performed."}}');
    case 'wrongshape':
      return void res.writeHead(200, json).end('{"servers": []}');
    case 'huge': {
      res.writeHead(200, json);
      const chunk = Buffer.alloc(1024 * 1024, 0x20);
      res.write('{"tenant_usage": {');
      let sent = 0;
      const pump = (): void => {
        while (sent < 50 && !res.destroyed) {
          sent++;
          if (!res.write(chunk)) return void res.once('drain', pump);
        }
        if (!res.destroyed) res.end('}}');
      };
      return pump();
    }
  }
  const body = nova.pages.get(url.searchParams.get('marker') ?? '');
  if (body === undefined) return void res.writeHead(400, json).end('{"badRequest":{"code":400,"message":"marker not found"}}');
  res.writeHead(200, json).end(body);
}

/** Nova's totals for a set of servers (nova/api/openstack/compute/simple_tenant_usage.py). */
function totalsOf(servers: Json[]): Json {
  const sum = (f: (s: Json) => number): number => servers.reduce((a, s) => a + f(s), 0);
  return {
    total_hours: sum((s) => s.hours),
    total_vcpus_usage: sum((s) => s.hours * s.vcpus),
    total_memory_mb_usage: sum((s) => s.hours * s.memory_mb),
    total_local_gb_usage: sum((s) => s.hours * s.local_gb),
  };
}

/** Pages of `per` instances each, as Nova 2.40 serves them, keyed by the marker that asks for them. */
function paged(usages: Json[], per: number, kind: 'show' | 'list'): Map<string, string> {
  const servers = usages.flatMap((u) => u.server_usages as Json[]);
  const pages = new Map<string, string>();
  let marker = '';
  for (let i = 0; ; i += per) {
    const chunk = servers.slice(i, i + per);
    const tenants = [...new Set(chunk.map((s) => s.tenant_id as string))].map((tid) => {
      const mine = chunk.filter((s) => s.tenant_id === tid);
      const u = usages.find((x) => x.tenant_id === tid);
      return { tenant_id: tid, start: u.start, stop: u.stop, ...totalsOf(mine), server_usages: mine };
    });
    // The href names an internal host on purpose: only its marker may be used.
    const links =
      chunk.length === per
        ? [
            {
              rel: 'next',
              href: `http://nova-internal.example:8774/v2.1/${PROJECT_ID}/os-simple-tenant-usage?limit=${per}&marker=${chunk[chunk.length - 1].instance_id}`,
            },
          ]
        : undefined;
    const doc =
      kind === 'show'
        ? { tenant_usage: tenants[0] ?? {}, ...(links ? { tenant_usage_links: links } : {}) }
        : { tenant_usages: tenants, ...(links ? { tenant_usages_links: links } : {}) };
    pages.set(marker, JSON.stringify(doc));
    if (!links) return pages;
    marker = chunk[chunk.length - 1].instance_id;
  }
}

let keystoneServer: http.Server;
let novaServer: http.Server;
let authBase = '';

function listen(server: http.Server): Promise<number> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)));
}

beforeAll(async () => {
  keystoneServer = http.createServer(keystone);
  novaServer = http.createServer(novaHandler);
  authBase = `http://127.0.0.1:${await listen(keystoneServer)}/identity`;
  novaBase = `http://127.0.0.1:${await listen(novaServer)}`;
});

beforeEach(() => {
  Object.assign(ks, { mode: 'ok', lifetimeMs: 3_600_000, twoRegions: false, auths: 0 });
  Object.assign(nova, {
    pages: new Map([['', JSON.stringify({ tenant_usage: DUMPS['os_metrics_20220301.json'] })]]),
    failure: undefined,
    revokeNext: false,
    requests: [],
  });
});

afterEach(() => {
  keystoneServer.closeAllConnections();
  novaServer.closeAllConnections();
});

afterAll(async () => {
  for (const s of [keystoneServer, novaServer]) await new Promise((r) => s.close(r));
});

function source(extra: Partial<OpenStackConfig> = {}): OpenStackSource {
  return build(OpenStackSource, { type: 'OpenStack', authUrl: authBase, username: USER, password: PASSWORD, projectName: 'admin', ...extra });
}

async function probeError(src: OpenStackSource, timeoutMs = 5000): Promise<string> {
  const err = await probeOnce(src, { timeoutMs }).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(SourceError);
  const msg = (err as Error).message;
  expect(msg).not.toContain(PASSWORD);
  expect(msg).toMatch(/^OpenStack: /);
  expect(msg).toMatch(/^[\x20-\x7e\u2026]+$/);
  return msg;
}

/** Every total and server figure of a tenant_usage document, checked against the samples. */
function expectUsage(samples: Sample[], usage: Json): void {
  const tenant = usage.tenant_id as string;
  for (const k of ['total_local_gb_usage', 'total_vcpus_usage', 'total_memory_mb_usage', 'total_hours']) {
    expect(valueOf(samples, k, { tenant }), k).toBe(usage[k]);
  }
  for (const s of usage.server_usages as Json[]) {
    const labels = { tenant, server: s.instance_id, name: s.name, flavor: s.flavor, state: s.state };
    for (const f of ['hours', 'vcpus', 'memory_mb', 'local_gb', 'uptime']) expect(valueOf(samples, f, labels), `${s.name} ${f}`).toBe(s[f]);
  }
  expect(samples.filter((x) => x.name === 'uptime' && x.labels?.tenant === tenant)).toHaveLength((usage.server_usages as Json[]).length);
}

describe('Nova usage documents -> samples', () => {
  it('reads the 2.40 show and detailed list samples, and their next markers', () => {
    for (const [file, kind] of [
      ['nova-simple-tenant-usage-show.json', 'show'],
      ['nova-simple-tenant-usage-list-detailed.json', 'list'],
    ] as const) {
      const doc = JSON.parse(read(file));
      const page = parsePage(doc, kind);
      expect(page.nextMarker).toBe('1f1deceb-17b5-4c04-84c7-e0d4499c8fe0');
      const c = new UsageCollector();
      page.usages.forEach((u) => c.add(u));
      expectUsage(c.samples(), kind === 'show' ? doc.tenant_usage : doc.tenant_usages[0]);
    }
  });

  it('reads the all-tenants list, the totals-only list and the pre-2.40 answers', () => {
    const all = JSON.parse(read('nova-simple-tenant-usage-list-all-tenants-detailed.json'));
    let c = new UsageCollector();
    const page = parsePage(all, 'list');
    expect(page.nextMarker).toBeUndefined();
    page.usages.forEach((u) => c.add(u));
    for (const u of all.tenant_usages) expectUsage(c.samples(), u);
    expect(valueOf(c.samples(), 'total_memory_mb_usage', { tenant: '6f70656e737461636b20342065766572' })).toBe(1024);

    c = new UsageCollector();
    parsePage(JSON.parse(read('nova-simple-tenant-usage-list.json')), 'list').usages.forEach((u) => c.add(u));
    expect(
      c
        .samples()
        .map((x) => x.name)
        .sort(),
    ).toEqual(['total_hours', 'total_local_gb_usage', 'total_memory_mb_usage', 'total_vcpus_usage']);

    for (const [file, kind] of [
      ['nova-simple-tenant-usage-show-v2.1.json', 'show'],
      ['nova-simple-tenant-usage-list-detailed-v2.1.json', 'list'],
    ] as const) {
      const p = parsePage(JSON.parse(read(file)), kind);
      expect(p.nextMarker).toBeUndefined();
      c = new UsageCollector();
      p.usages.forEach((u) => c.add(u));
      expect(valueOf(c.samples(), 'hours', { name: 'new-server-test' })).toBe(1);
    }
  });

  it('sums totals of a tenant that spans pages', () => {
    const dump = DUMPS['os_metrics_20220301.json'];
    const c = new UsageCollector();
    for (const body of paged([dump], 7, 'show').values()) parsePage(JSON.parse(body), 'show').usages.forEach((u) => c.add(u));
    expectUsage(c.samples(), dump);
  });

  it('rejects answers of the wrong shape', () => {
    expect(() => parsePage({ servers: [] }, 'show')).toThrow(/not an os-simple-tenant-usage answer: no "tenant_usage" \(got keys servers\)/);
    expect(() => parsePage([], 'list')).toThrow(/got a list/);
    expect(() => parsePage({ tenant_usages: {} }, 'list')).toThrow(/not a list/);
    expect(() => parsePage({ tenant_usages: [], tenant_usages_links: [{ rel: 'next', href: 'http://x/y?limit=1' }] }, 'list')).toThrow(/without a marker/);
  });
});

describe('OpenStack source against Keystone and Nova servers', () => {
  for (const file of DUMP_NAMES) {
    it(`reports the real os-metrics dump ${file} exactly`, async () => {
      nova.pages.set('', JSON.stringify({ tenant_usage: DUMPS[file] }));
      const s = await probeOnce(source());
      expectUsage(s, DUMPS[file]);
    });
  }

  it("asks the scoped project's usage for [now - window, now] with microversion 2.40 on the public endpoint", async () => {
    await probeOnce(source({ window: 3600 }));
    expect(nova.requests).toHaveLength(1);
    const r = nova.requests[0]!;
    expect(r.path).toBe(`/v2.1/${PROJECT_ID}/os-simple-tenant-usage/${PROJECT_ID}`);
    const span = Date.parse(r.query.get('end')! + 'Z') - Date.parse(r.query.get('start')! + 'Z');
    expect(span).toBe(3_600_000);
    expect(Math.abs(Date.parse(r.query.get('end')! + 'Z') - Date.now())).toBeLessThan(10_000);
    expect(r.query.has('detailed')).toBe(false);
  });

  it('the 0-byte os-metrics dump as an answer is a clear error', async () => {
    nova.failure = 'empty';
    expect(await probeError(source())).toMatch(/^OpenStack: Nova GET http:\/\/127\.0\.0\.1:\d+\/v2\.1\/\w+\/os-simple-tenant-usage\/\w+: empty body$/);
  });

  it('follows tenant_usage_links page by page, by marker', async () => {
    const dump = DUMPS['os_metrics_20220301.json'];
    nova.pages = paged([dump], 10, 'show');
    expect(nova.pages.size).toBe(3);
    const s = await probeOnce(source());
    expect(nova.requests.map((r) => r.query.get('marker'))).toEqual([null, dump.server_usages[9].instance_id, dump.server_usages[19].instance_id]);
    expectUsage(s, dump);
  });

  it('allTenants: the detailed list, following tenant_usages_links to the empty last page', async () => {
    const all = JSON.parse(read('nova-simple-tenant-usage-list-all-tenants-detailed.json'));
    nova.pages = paged(all.tenant_usages, 1, 'list');
    expect(nova.pages.size).toBe(4);
    const s = await probeOnce(source({ allTenants: true }));
    expect(nova.requests).toHaveLength(4);
    expect(nova.requests[0]!.path).toBe(`/v2.1/${PROJECT_ID}/os-simple-tenant-usage`);
    expect(nova.requests.every((r) => r.query.get('detailed') === '1')).toBe(true);
    for (const u of all.tenant_usages) expectUsage(s, u);
    expect(s.some((x) => x.labels?.tenant === PROJECT_ID)).toBe(false);
  });

  it('a project without usage in the window reports zero totals', async () => {
    nova.pages.set('', '{"tenant_usage": {}}');
    const s = await probeOnce(source());
    expect(s.map((x) => [x.name, x.value, x.labels?.tenant])).toEqual(
      ['total_local_gb_usage', 'total_vcpus_usage', 'total_memory_mb_usage', 'total_hours'].map((n) => [n, 0, PROJECT_ID]),
    );
  });

  it('keeps its token while valid and renews it before expires_at', async () => {
    const src = source();
    await probeOnce(src);
    await probeOnce(src);
    expect(ks.auths).toBe(1);
    expect(new Set(nova.requests.map((r) => r.token)).size).toBe(1);
    ks.lifetimeMs = 60_000; // expires within the renewal margin: every probe logs in again
    const short = source();
    await probeOnce(short);
    await probeOnce(short);
    expect(ks.auths).toBe(3);
  });

  it('a token Nova rejects (expired or revoked) is renewed once and the page asked again', async () => {
    const src = source();
    await probeOnce(src);
    nova.requests = [];
    nova.revokeNext = true;
    const s = await probeOnce(src);
    expect(ks.auths).toBe(2);
    expect(nova.requests).toHaveLength(2);
    expect(nova.requests[0]!.token).not.toBe(nova.requests[1]!.token);
    expectUsage(s, DUMPS['os_metrics_20220301.json']);
  });

  it('a Nova that rejects even a fresh token: one re-login, then a clear error without the token', async () => {
    nova.failure = 'always401';
    const msg = await probeError(source());
    expect(ks.auths).toBe(2);
    expect(msg).toMatch(/HTTP 401 even with a fresh token: token \*\*\* is not valid/);
    for (const t of validTokens) expect(msg).not.toContain(t);
  });

  it('a wrong password is a clear auth error that does not show the password', async () => {
    const msg = await probeError(source({ password: 'not-the-Password-42' }));
    expect(msg).toMatch(
      /^OpenStack: Keystone POST http:\/\/127\.0\.0\.1:\d+\/identity\/v3\/auth\/tokens: authentication failed for user "admin" \(domain "Default"\), project "admin" \(domain "Default"\): HTTP 401: The request you have made requires authentication\.$/,
    );
    expect(msg).not.toContain('not-the-Password-42');
    expect(nova.requests).toHaveLength(0);
  });

  it('a Keystone that quotes the password back does not leak it', async () => {
    ks.mode = 'echo';
    const msg = await probeError(source());
    expect(msg).toMatch(/authentication failed/);
    expect(msg).toContain('***');
  });

  it('accepts the auth URL with /v3 and picks the compute endpoint by region', async () => {
    await probeOnce(source({ authUrl: `${authBase}/v3/` }));
    expect(ks.auths).toBe(1);
    ks.twoRegions = true;
    expect(await probeError(source())).toMatch(
      /^OpenStack: Keystone POST http:\S+: the catalog has public "compute" endpoints in several regions \(RegionOne, RegionTwo\); set "region"/,
    );
    nova.requests = [];
    await probeOnce(source({ region: 'RegionTwo' }));
    expect(nova.requests[0]!.path).toMatch(/^\/r2\/v2\.1\//);
    expect(await probeError(source({ region: 'Nowhere' }))).toMatch(
      /no public "compute" endpoint in region "Nowhere" in the catalog \(it has: .*public@RegionOne/,
    );
  });

  it('Keystone failures: no answer, garbage, an HTML error page, no X-Subject-Token', async () => {
    ks.mode = 'hang';
    expect(await probeError(source(), 400)).toMatch(
      /^OpenStack: Keystone POST http:\/\/127\.0\.0\.1:\d+\/identity\/v3\/auth\/tokens: no answer within 400 ms$/,
    );
    ks.mode = 'garbage';
    expect(await probeError(source())).toMatch(/the token answer is not JSON/);
    ks.mode = 'html';
    expect(await probeError(source())).toMatch(/HTTP 503 Service Unavailable: 503 Service Unavailable No server is available/);
    ks.mode = 'notoken';
    expect(await probeError(source())).toMatch(/no X-Subject-Token header/);
    expect(await probeError(source({ authUrl: 'http://127.0.0.1:9/identity' }))).toMatch(
      /^OpenStack: Keystone POST http:\/\/127\.0\.0\.1:9\/identity\/v3\/auth\/tokens: .*ECONNREFUSED/,
    );
  });

  it('Nova failures: garbage, HTML page, truncated JSON, wrong shape, 403 on all tenants, 50 MB, no answer', async () => {
    const cases: [Failure, RegExp, Partial<OpenStackConfig>?][] = [
      ['garbage', /invalid JSON \(Unexpected token .*; application\/json; body starts "PNG"\)/],
      ['html', /HTTP 500 Internal Server Error: 500 Internal Server Error Internal Server Error The server encountered/],
      ['truncated', /invalid JSON \((Unterminated string|Unexpected end|Expected).*; application\/json; body starts "\{"tenant_usage":/],
      ['wrongshape', /not an os-simple-tenant-usage answer: no "tenant_usage" \(got keys servers\)/],
      ['forbidden', /HTTP 403: listing all tenants needs the admin role/, { allTenants: true }],
      ['huge', /response larger than 33554432 bytes/],
    ];
    for (const [failure, re, extra] of cases) {
      nova.failure = failure;
      expect(await probeError(source(extra), 20_000), failure).toMatch(re);
    }
    nova.failure = 'hang';
    const t0 = Date.now();
    expect(await probeError(source(), 600)).toMatch(/^OpenStack: Nova GET .*: no answer within 600 ms$/);
    expect(Date.now() - t0).toBeLessThan(3000);
  });

  it('a "next" link that loops is stopped', async () => {
    const dump = DUMPS['os_metrics_20260101.json'];
    const id = dump.server_usages[0].instance_id;
    const looping = JSON.stringify({ tenant_usage: dump, tenant_usage_links: [{ rel: 'next', href: `http://x/os-simple-tenant-usage?marker=${id}` }] });
    nova.pages = new Map([
      ['', looping],
      [id, looping],
    ]);
    expect(await probeError(source())).toMatch(/"next" links loop/);
    expect(nova.requests).toHaveLength(2);
  });
});
