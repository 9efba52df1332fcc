// Bind: parser on the captured statistics, then a real named (forwarding to a second named that
// is authoritative for the forwarded zone, so the resolver and the cache work) queried with dig.
import { fixtureDir } from '../helpers/fixtures.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { BindSource } from '../../src/sources/bind/index.js';
import { parseBindStats } from '../../src/sources/bind/parse.js';
import { SourceError } from '../../src/sdk/index.js';
import { freePort, spawnDaemon, tempDir, waitForPort, type Daemon } from '../helpers/net.js';
import { probeOnce, valueOf } from '../helpers/probe.js';
import { needs } from '../helpers/servers.js';
import { build } from '../helpers/plugin.js';

const FIX = fixtureDir('bind');
const fx = (f: string): string => readFileSync(path.join(FIX, f), 'utf8');

describe('Bind statistics parser on captured payloads', () => {
  it('XML v3 server: qtypes, resolver, cache stats and rrsets of each view', async () => {
    const s = await parseBindStats(fx('xml-v3-server.xml'));
    expect(s.format).toBe('xml-v3');
    expect(s.qtypes).toMatchObject({ A: 63672, NS: 373, SOA: 18, PTR: 3393, MX: 618, TXT: 970, AAAA: 5735, SRV: 139, RRSIG: 1, ANY: 22 });
    expect(Object.keys(s.qtypes)).toHaveLength(10);
    expect(Object.keys(s.views)).toEqual(['_default', '_bind']);
    const d = s.views['_default']!;
    expect(d.queryV4).toBe(92573);
    expect(d.queryV6).toBe(0);
    expect(d.rrsets['A']).toBe(195);
    expect(d.rrsets['NS']).toBe(42);
    // Independent count of the rrsets in the default view's cache.
    const cacheXml = fx('xml-v3-server.xml').split('<cache name="internal">')[1]!.split('</cache>')[0]!;
    expect(Object.keys(d.rrsets)).toHaveLength((cacheXml.match(/<rrset>/g) ?? []).length);
    expect(s.views['_bind']).toMatchObject({ cacheHits: 0, cacheMisses: 0, rrsets: {} });
  });

  it('JSON v1 server: the same shape', async () => {
    const s = await parseBindStats(fx('json-v1-server.json'));
    expect(s.format).toBe('json-v1');
    expect(s.qtypes).toEqual({ A: 2, PTR: 7, AAAA: 2, SRV: 2 });
    expect(s.views['_default']).toEqual({
      queryV4: 447,
      queryV6: 112,
      cacheHits: 1675,
      cacheMisses: 44,
      rrsets: { A: 150, NS: 44, PTR: 3, AAAA: 104, DS: 23, RRSIG: 94, NSEC: 8, DNSKEY: 7, '!AAAA': 23, '!DS': 5, NXDOMAIN: 1 },
    });
  });

  it('legacy XML v2 is read too (no cache hit counters there)', async () => {
    const s = await parseBindStats(fx('xml-v2.xml'));
    expect(s.format).toBe('xml-v2');
    expect(s.qtypes['A']).toBe(58951432);
    expect(s.views['_default']!.rrsets['A']).toBe(2700);
    expect(s.views['_default']!.rrsets['NS']).toBe(759);
    expect(s.views['_default']!.queryV4).toBeGreaterThan(0);
    expect(s.views['_default']!.cacheHits).toBeUndefined();
    expect(Object.keys(s.views)).toEqual(['_default', '_bind']);
  });

  it.each(['xml-v3-mem.xml', 'xml-v3-net.xml', 'json-v1-mem.json', 'json-v1-net.json'])('%s (no server section) parses to empty', async (f) => {
    const s = await parseBindStats(fx(f));
    expect(s.qtypes).toEqual({});
    expect(s.views).toEqual({});
  });

  it('garbage, HTML, truncated and foreign documents give clear errors', async () => {
    await expect(parseBindStats('<html><body>Not Found</body></html>')).rejects.toThrow(/not BIND statistics/);
    await expect(parseBindStats(fx('xml-v3-server.xml').slice(0, 3000))).rejects.toThrow(/invalid XML/);
    await expect(parseBindStats(fx('json-v1-server.json').slice(0, 500))).rejects.toThrow(/invalid JSON/);
    await expect(parseBindStats('{"hello": 1}')).rejects.toThrow(/no "json-stats-version"/);
    await expect(parseBindStats('\x00\x01\x02garbage')).rejects.toThrow(SourceError);
    await expect(parseBindStats('<statistics version="4.0"></statistics>')).rejects.toThrow(/unsupported BIND XML statistics version "4.0"/);
  });
});

describe('Bind against hostile HTTP servers', () => {
  let server: http.Server;
  let base = '';
  beforeAll(async () => {
    server = http.createServer((req, res) => {
      if (req.url === '/html') return void res.writeHead(200, { 'content-type': 'text/html' }).end('<html><body><h1>Welcome to nginx!</h1></body></html>');
      if (req.url === '/500') return void res.writeHead(500).end('<html><body>Internal Server Error</body></html>');
      if (req.url === '/huge') {
        res.writeHead(200, { 'content-type': 'application/xml' });
        res.write('<statistics version="3.13"><server>');
        const chunk = '<x>' + 'a'.repeat(1 << 16) + '</x>';
        for (let i = 0; i < 40; i++) res.write(chunk);
        return void res.end('</server></statistics>');
      }
      if (req.url === '/trunc') {
        res.writeHead(200, { 'content-type': 'application/xml' });
        return void res.end(fx('xml-v3-server.xml').slice(0, 5000));
      }
      if (req.url === '/xml/v3/server') return void res.writeHead(200, { 'content-type': 'application/xml' }).end(fx('xml-v3-server.xml'));
      if (req.url === '/binary') return void res.writeHead(200).end(Buffer.from([0x1f, 0x8b, 0, 0, 0xff, 0xfe]));
      // /hang: never answers
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => {
    server.closeAllConnections();
    server.close();
  });

  it.each([
    ['/html', /not BIND statistics/],
    ['/500', /HTTP 500.*Internal Server Error/],
    ['/trunc', /invalid XML/],
    ['/binary', /invalid XML|not BIND/],
  ])('%s', async (p, re) => {
    await expect(probeOnce(build(BindSource, { type: 'Bind', url: base + p }))).rejects.toThrow(re);
  });

  it('the captured XML as the Python pollect names it: the view in the name, one queryType label, in lower case; `!ds` kept apart from `ds`', async () => {
    const s = await probeOnce(build(BindSource, { type: 'Bind', url: `${base}/xml/v3/server`, views: ['_default'] }));
    expect(new Set(s.map((x) => x.name))).toEqual(new Set(['_default.cache.rrsets']));
    expect(valueOf(s, '_default.cache.rrsets', { queryType: 'a' })).toBe(195);
    expect(valueOf(s, '_default.cache.rrsets', { queryType: 'ns' })).toBe(42);
    const ds = s
      .filter((x) => x.labels!.queryType!.endsWith('ds'))
      .map((x) => x.labels!.queryType)
      .sort();
    expect(ds).toEqual(['!ds', 'ds']);
  });

  it('a huge body is refused', async () => {
    await expect(probeOnce(build(BindSource, { type: 'Bind', url: base + '/huge', maxBytes: 1024 * 1024 }))).rejects.toThrow(/larger than 1048576 bytes/);
  });

  it('a server that never answers: timeout', async () => {
    await expect(probeOnce(build(BindSource, { type: 'Bind', url: base + '/hang' }), { timeoutMs: 300 })).rejects.toThrow(/no answer within 300 ms|aborted/);
  });
});

describe.skipIf(!needs('named', 'dig', 'curl'))('Bind against a real named', () => {
  const tmp = tempDir('pollect-named-');
  let main: Daemon;
  let auth: Daemon;
  let dnsPort = 0;
  let statsPort = 0;

  function namedConf(dir: string, body: string): string {
    mkdirSync(dir, { recursive: true });
    const conf = path.join(dir, 'named.conf');
    writeFileSync(conf, body);
    return conf;
  }
  const zone = (origin: string, records: string): string =>
    `$TTL 300\n@ IN SOA ns.${origin}. admin.${origin}. 1 3600 600 86400 300\n@ IN NS ns.${origin}.\nns IN A 127.0.0.1\n${records}\n`;

  beforeAll(async () => {
    dnsPort = await freePort();
    const authPort = await freePort();
    statsPort = await freePort();
    const authStats = await freePort();
    const authDir = path.join(tmp.dir, 'auth');
    const mainDir = path.join(tmp.dir, 'main');
    const hosts = Array.from({ length: 20 }, (_, i) => `h${i} IN A 192.0.2.${i + 1}\nt${i} IN TXT "t${i}"`).join('\n');
    const authConf = namedConf(
      authDir,
      `options {
  directory "${authDir}"; pid-file "${authDir}/named.pid"; session-keyfile "${authDir}/session.key";
  listen-on port ${authPort} { 127.0.0.1; }; listen-on-v6 { none; }; recursion no; dnssec-validation no;
};
controls { };
statistics-channels { inet 127.0.0.1 port ${authStats} allow { 127.0.0.1; }; };
zone "fwd.test" { type primary; file "${authDir}/fwd.zone"; };
`,
    );
    writeFileSync(path.join(authDir, 'fwd.zone'), zone('fwd.test', hosts));
    const mainConf = namedConf(
      mainDir,
      `options {
  directory "${mainDir}"; pid-file "${mainDir}/named.pid"; session-keyfile "${mainDir}/session.key";
  listen-on port ${dnsPort} { 127.0.0.1; }; listen-on-v6 { none; }; dnssec-validation no;
  allow-query { 127.0.0.1; }; allow-recursion { 127.0.0.1; };
};
controls { };
statistics-channels { inet 127.0.0.1 port ${statsPort} allow { 127.0.0.1; }; };
view "main" {
  match-clients { any; };
  recursion yes;
  zone "example.test" { type primary; file "${mainDir}/example.zone"; };
  zone "fwd.test" { type forward; forward only; forwarders { 127.0.0.1 port ${authPort}; }; };
};
`,
    );
    writeFileSync(path.join(mainDir, 'example.zone'), zone('example.test', 'www IN A 192.0.2.80\nwww IN AAAA 2001:db8::80'));
    auth = spawnDaemon('named', ['-g', '-c', authConf]);
    main = spawnDaemon('named', ['-g', '-c', mainConf]);
    await waitForPort(authStats, '127.0.0.1', 20_000).catch((e: Error) => {
      throw new Error(`${e.message}\n${auth.output()}`);
    });
    await waitForPort(statsPort, '127.0.0.1', 20_000).catch((e: Error) => {
      throw new Error(`${e.message}\n${main.output()}`);
    });
    // named answers DNS once its zones are loaded: wait (bounded) for an authoritative answer.
    for (let i = 0; dig('www.example.test', 'A') !== '192.0.2.80'; i++) {
      if (i > 50) throw new Error(`named does not answer: ${main.output()}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  });
  afterAll(async () => {
    await main?.stop();
    await auth?.stop();
    tmp.remove();
  });

  /** The +short answer of one query, or of several in one dig run (one line each). */
  function dig(name: string, type: string): string;
  function dig(names: string[], type: string): string[];
  function dig(names: string | string[], type: string): string | string[] {
    const queries = [names].flat().flatMap((name) => [name, type]);
    const out = execFileSync('dig', ['@127.0.0.1', '-p', String(dnsPort), '+short', '+tries=1', '+time=2', ...queries], { encoding: 'utf8' }).trim();
    return typeof names === 'string' ? out : out.split('\n');
  }
  /** named's own counters, read from its XML with plain regexes (not the parser under test). */
  function namedCounters(): { qtypeA: number; qtypeTXT: number; queryV4: number; hits: number; misses: number } {
    const xml = execFileSync('curl', ['-sf', `http://127.0.0.1:${statsPort}/xml/v3/server`], { encoding: 'utf8' });
    const server = xml.split('<views>')[0]!;
    const view = xml.split('<view name="main">')[1]!.split('</view>')[0]!;
    const grab = (text: string, group: string, name: string): number => {
      const g = text.split(`<counters type="${group}">`)[1]?.split('</counters>')[0] ?? '';
      return Number(new RegExp(`<counter name="${name}">(\\d+)</counter>`).exec(g)?.[1] ?? 0);
    };
    return {
      qtypeA: grab(server, 'qtype', 'A'),
      qtypeTXT: grab(server, 'qtype', 'TXT'),
      queryV4: grab(view, 'resstats', 'Queryv4'),
      hits: grab(view, 'cachestats', 'CacheHits'),
      misses: grab(view, 'cachestats', 'CacheMisses'),
    };
  }

  it('XML v3: rates from the second probe match the queries sent with dig', async () => {
    const src = build(BindSource, { type: 'Bind', url: `http://127.0.0.1:${statsPort}/xml/v3/server`, views: ['main'] });
    const c0 = namedCounters();
    const t0 = performance.now();
    const first = await probeOnce(src);
    const t1 = performance.now();
    expect(first.filter((s) => s.name?.endsWith('_per_sec'))).toEqual([]); // rates prime on the first probe
    const hosts = Array.from({ length: 10 }, (_, i) => `h${i}.fwd.test`);
    const texts = Array.from({ length: 4 }, (_, i) => `t${i}.fwd.test`);
    expect(dig(hosts, 'A')).toEqual(hosts.map((_, i) => `192.0.2.${i + 1}`)); // 10 forwarded A
    dig(hosts, 'A'); // 10 more, from the cache
    expect(dig(texts, 'TXT')).toEqual(texts.map((_, i) => `"t${i}"`));
    const t2 = performance.now();
    const second = await probeOnce(src);
    const t3 = performance.now();
    const c1 = namedCounters();
    // named saw exactly the queries this test sent (the probes themselves are HTTP, not DNS).
    expect(c1.qtypeA - c0.qtypeA).toBe(20);
    expect(c1.qtypeTXT - c0.qtypeTXT).toBe(4);
    const within = (rate: number, delta: number): void => {
      expect(rate).toBeGreaterThanOrEqual(delta / ((t3 - t0) / 1000) - 1e-9);
      expect(rate).toBeLessThanOrEqual(delta / ((t2 - t1) / 1000) + 1e-9);
    };
    // The Python pollect's series: `server.queries_per_sec{queryType}`, the view in the other names.
    within(valueOf(second, 'server.queries_per_sec', { queryType: 'a' }), 20);
    within(valueOf(second, 'server.queries_per_sec', { queryType: 'txt' }), 4);
    expect(c1.queryV4 - c0.queryV4).toBeGreaterThanOrEqual(14); // each uncached name went to the forwarder
    within(valueOf(second, 'main.queries_per_sec', { queryType: 'v4' }), c1.queryV4 - c0.queryV4);
    expect(valueOf(second, 'main.queries_per_sec', { queryType: 'v6' })).toBe(0);
    within(valueOf(second, 'main.cache_per_sec', { queryType: 'hits' }), c1.hits - c0.hits);
    within(valueOf(second, 'main.cache_per_sec', { queryType: 'misses' }), c1.misses - c0.misses);
    expect(c1.hits - c0.hits).toBeGreaterThan(0);
    // The forwarded answers are in the cache: A and TXT RRsets.
    expect(valueOf(second, 'main.cache.rrsets', { queryType: 'a' })).toBeGreaterThanOrEqual(10);
    expect(valueOf(second, 'main.cache.rrsets', { queryType: 'txt' })).toBeGreaterThanOrEqual(4);
    // Every series has the one label queryType, as there.
    expect(second.every((x) => Object.keys(x.labels ?? {}).join() === 'queryType')).toBe(true);
  });

  it('JSON v1 from the same named gives the same cache RRsets as XML', async () => {
    const json = await probeOnce(build(BindSource, { type: 'Bind', url: `http://127.0.0.1:${statsPort}/json/v1/server` }));
    const xml = await probeOnce(build(BindSource, { type: 'Bind', url: `http://127.0.0.1:${statsPort}/xml/v3/server`, format: 'xml' }));
    const rr = (s: typeof json): string[] =>
      s
        .filter((x) => x.name!.endsWith('.cache.rrsets'))
        .map((x) => `${x.name}/${x.labels!.queryType}=${x.value}`)
        .sort();
    expect(rr(json).length).toBeGreaterThan(0);
    expect(rr(json)).toEqual(rr(xml));
    // Default views: all but _bind.
    expect(new Set(json.map((s) => s.name!.split('.')[0]))).toEqual(new Set(['main']));
  });

  it("the root URL serves the full XML and works as pollect's url", async () => {
    const s = await probeOnce(build(BindSource, { type: 'Bind', url: `http://127.0.0.1:${statsPort}/` }));
    expect(s.some((x) => x.name === 'main.cache.rrsets')).toBe(true);
  });

  it('an unknown view is a clear error naming the views there', async () => {
    await expect(probeOnce(build(BindSource, { type: 'Bind', url: `http://127.0.0.1:${statsPort}/xml/v3/server`, views: ['internal'] }))).rejects.toThrow(
      /no view "internal" in the statistics \(views: main, _bind\)/,
    );
  });

  it('nothing listening: a connection error', async () => {
    const port = await freePort();
    await expect(probeOnce(build(BindSource, { type: 'Bind', url: `http://127.0.0.1:${port}/` }))).rejects.toThrow(/ECONNREFUSED/);
  });
});
