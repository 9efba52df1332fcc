// OSv against an HTTP server in the test that implements the REST endpoints the source uses, from
// OSv's API listings (fixtures/osv/api-doc-*.json), serving the fixture bodies where there are some.
import { fixtureDir } from '../helpers/fixtures.js';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import http from 'node:http';
import net from 'node:net';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { OSvSource } from '../../src/sources/osv/index.js';
import { parseLong, parseThreads, parseTraceCounts } from '../../src/sources/osv/parse.js';
import { SourceError } from '../../src/sdk/index.js';
import { probeOnce, valueOf } from '../helpers/probe.js';
import { validate } from '../helpers/validate.js';
import { build } from '../helpers/plugin.js';

const FIX = fixtureDir('osv');
const fixture = (f: string): string => readFileSync(path.join(FIX, f), 'utf8');

// No real /os/threads capture exists; this body follows the Thread model of api-doc-os.json and the
// encoding rules of OSv's formatter (", " between members, ": " after keys, unset members left out).
const THREADS =
  '{"list": [{"id": 1, "cpu": 0, "cpu_ms": 1500, "switches": 10, "migrations": 0, "preemptions": 2, "priority": 1, "stack_size": 65536, "status": "waiting", "name": "idle0"},' +
  '{"id": 2, "cpu": 1, "cpu_ms": 250, "switches": 4, "migrations": 1, "preemptions": 0, "priority": 1, "stack_size": 65536, "status": "running", "name": "java"},' +
  '{"id": 3, "cpu": 0, "switches": 0, "status": "unstarted", "name": "new"}], "time_ms": 1448467200000}';

interface Fake {
  port: number;
  enabled: Map<string, number>;
  posts: string[];
  override: Map<string, (res: http.ServerResponse) => void>;
  close: () => Promise<void>;
}

const KNOWN = new Set(['waitqueue_wake_one', 'callout_reset', 'virtio_wait_for_queue']);

async function startOsv(): Promise<Fake> {
  const enabled = new Map<string, number>();
  // The fixture's counter list is the initial state: waitqueue_wake_one is enabled at 1000.
  for (const c of (JSON.parse(fixture('snap-test-mock-trace-count.json')) as { list: { name: string; count: number }[] }).list) {
    enabled.set(c.name, c.count);
  }
  const posts: string[] = [];
  const override = new Map<string, (res: http.ServerResponse) => void>();
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const special = override.get(url.pathname);
    if (special) return special(res);
    const send = (status: number, body: string): void => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(body);
    };
    if (req.method === 'GET' && url.pathname === '/os/memory/free') return send(200, fixture('snap-test-mock-os-memory-free.txt'));
    if (req.method === 'GET' && url.pathname === '/os/memory/total') return send(200, fixture('snap-test-mock-os-memory-total.txt'));
    if (req.method === 'GET' && url.pathname === '/os/uptime') return send(200, '176521');
    if (req.method === 'GET' && url.pathname === '/os/threads') return send(200, THREADS);
    if (req.method === 'GET' && url.pathname === '/trace/count') {
      const list = [...enabled].map(([name, count]) => `{"name": "${name}", "count": ${count}}`).join(',');
      return send(200, `{"list": [${list}], "time_ms": 144123232}`);
    }
    const m = /^\/trace\/count\/([^/]+)$/.exec(url.pathname);
    if (req.method === 'POST' && m) {
      const name = decodeURIComponent(m[1]!);
      posts.push(`${name}?enabled=${url.searchParams.get('enabled')}`);
      if (!KNOWN.has(name)) return send(400, `{"message": "Trace point ${name} not found", "code": 400}`);
      if (url.searchParams.get('enabled') === 'true' && !enabled.has(name)) enabled.set(name, 0);
      return send(200, '""');
    }
    send(404, '{"message": "Not found", "code": 404}');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    enabled,
    posts,
    override,
    close: () =>
      new Promise((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

describe('OSv parsers on the fixture bodies', () => {
  it('reads the bare-number memory bodies', () => {
    expect(parseLong(JSON.parse(fixture('snap-test-mock-os-memory-free.txt')), 'free')).toBe(20000);
    expect(parseLong(JSON.parse(fixture('snap-test-mock-os-memory-total.txt')), 'total')).toBe(10000);
  });
  it('reads /trace/count, filled and empty', () => {
    expect([...parseTraceCounts(JSON.parse(fixture('snap-test-mock-trace-count.json')), 't')]).toEqual([['waitqueue_wake_one', 1000]]);
    expect(parseTraceCounts(JSON.parse(fixture('snap-test-mock-trace-count-empty.json')), 't').size).toBe(0);
  });
  it('sums cpu_ms over threads, a thread without cpu_ms counting 0', () => {
    expect(parseThreads(JSON.parse(THREADS), 't')).toEqual({ cpuMs: 1750, threads: 3 });
  });
  it('rejects wrong shapes with a SourceError', () => {
    expect(() => parseLong('OSv', 'GET /os/uptime')).toThrow(/GET \/os\/uptime: expected a non-negative number, got "OSv"/);
    expect(() => parseThreads({ list: 5 }, 'GET /os/threads')).toThrow(SourceError);
    expect(() => parseThreads({ list: [{ cpu_ms: 'x' }] }, 'GET /os/threads')).toThrow(/cpu_ms/);
    expect(() => parseTraceCounts({ list: [{ name: 1 }] }, 'GET /trace/count')).toThrow(/counter entry/);
  });
});

describe('OSv source over HTTP', () => {
  let osv: Fake;
  beforeAll(async () => {
    osv = await startOsv();
  });
  afterAll(async () => {
    await osv.close();
  });
  afterEach(() => osv.override.clear());

  it('emits memory, uptime, summed thread CPU time and no trace without traces', async () => {
    const src = build(OSvSource, { type: 'OSv', host: '127.0.0.1', port: osv.port });
    const s = await probeOnce(src);
    expect(valueOf(s, 'memory.free')).toBe(20000);
    expect(valueOf(s, 'memory.total')).toBe(10000);
    expect(valueOf(s, 'uptime')).toBe(176521);
    expect(valueOf(s, 'cpu.cputime')).toBe(1750);
    expect(s.find((x) => x.name === 'cpu.cputime')?.type).toBe('counter');
    expect(valueOf(s, 'threads')).toBe(3);
    expect(s.filter((x) => x.name === 'trace')).toEqual([]);
    expect(osv.posts).toEqual([]);
  });

  it('reports enabled counters and enables the others once', async () => {
    const src = build(OSvSource, { type: 'OSv', host: '127.0.0.1', port: osv.port, traces: ['waitqueue_wake_one', 'callout_reset'] });
    const s = await probeOnce(src);
    expect(valueOf(s, 'trace', { tracepoint: 'waitqueue_wake_one' })).toBe(1000);
    expect(valueOf(s, 'trace', { tracepoint: 'callout_reset' })).toBe(0);
    expect(s.find((x) => x.name === 'trace')?.type).toBe('counter');
    expect(osv.posts).toEqual(['callout_reset?enabled=true']);
    osv.enabled.set('callout_reset', 206217);
    const s2 = await probeOnce(src);
    expect(valueOf(s2, 'trace', { tracepoint: 'callout_reset' })).toBe(206217);
    expect(osv.posts).toEqual(['callout_reset?enabled=true']);
    // After a reboot of the instance every counter is off again: the source enables it anew.
    osv.enabled.delete('callout_reset');
    const s3 = await probeOnce(src);
    expect(valueOf(s3, 'trace', { tracepoint: 'callout_reset' })).toBe(0);
    expect(osv.posts).toEqual(['callout_reset?enabled=true', 'callout_reset?enabled=true']);
  });

  it('names an unknown trace point', async () => {
    const src = build(OSvSource, { type: 'OSv', host: '127.0.0.1', port: osv.port, traces: ['no_such_point'] });
    await expect(probeOnce(src)).rejects.toThrow(/OSv has no trace point "no_such_point" .*HTTP 400/);
  });

  const bad: [string, string, (res: http.ServerResponse) => void, RegExp][] = [
    [
      'garbage bytes',
      '/os/memory/free',
      (res) => res.end(Buffer.from([0xff, 0x00, 0x13, 0x37, 0xfe])),
      /GET http:\/\/127\.0\.0\.1:\d+\/os\/memory\/free: invalid JSON/,
    ],
    [
      'an HTML error page',
      '/os/threads',
      (res) => {
        res.writeHead(502, { 'content-type': 'text/html' });
        res.end('<html><head><title>502 Bad Gateway</title></head><body><h1>Bad Gateway</h1></body></html>');
      },
      /GET http:\/\/127\.0\.0\.1:\d+\/os\/threads: HTTP 502 Bad Gateway: 502 Bad Gateway Bad Gateway/,
    ],
    ['a truncated body', '/os/threads', (res) => res.end(THREADS.slice(0, 120)), /\/os\/threads: invalid JSON/],
    ['a JSON string instead of a number', '/os/uptime', (res) => res.end('"OSv"'), /GET \/os\/uptime: expected a non-negative number, got "OSv"/],
    [
      'a 50 MB response',
      '/os/threads',
      (res) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        const chunk = Buffer.alloc(1024 * 1024, 0x20);
        let n = 0;
        const more = (): void => {
          while (n < 50) {
            n++;
            if (!res.write(chunk)) return void res.once('drain', more);
          }
          res.end();
        };
        res.on('error', () => {});
        more();
      },
      /\/os\/threads: response larger than 8388608 bytes/,
    ],
  ];
  for (const [what, where, handler, message] of bad) {
    it(`gives a clear SourceError for ${what}`, async () => {
      osv.override.set(where, handler);
      const src = build(OSvSource, { type: 'OSv', host: '127.0.0.1', port: osv.port });
      const err = await probeOnce(src).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(SourceError);
      expect((err as Error).message).toMatch(message);
    });
  }

  it('gives up on a server that never answers, at the probe timeout', async () => {
    const sockets: net.Socket[] = [];
    const silent = net.createServer((s) => sockets.push(s));
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const port = (silent.address() as net.AddressInfo).port;
    try {
      const src = build(OSvSource, { type: 'OSv', host: '127.0.0.1', port });
      const err = await probeOnce(src, { timeoutMs: 500 }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(SourceError);
      expect((err as Error).message).toMatch(/^http:\/\/127\.0\.0\.1:\d+: no complete answer within 500 ms$/);
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise((r) => silent.close(r));
    }
  });

  it('says so when nothing listens', async () => {
    const server = net.createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as net.AddressInfo).port;
    await new Promise((r) => server.close(r));
    const src = build(OSvSource, { type: 'OSv', host: '127.0.0.1', port });
    await expect(probeOnce(src)).rejects.toThrow(/ECONNREFUSED/);
  });
});

describe('OSv params schema', () => {
  it('requires host, fills the port, rejects odd trace names', () => {
    const cfg: Record<string, unknown> = { host: '10.0.0.5' };
    expect(validate(OSvSource.schema, cfg, ['source'])).toEqual([]);
    expect(cfg).toEqual({ host: '10.0.0.5', port: 8000, traces: [] });
    expect(validate(OSvSource.schema, {}, ['source']).join('\n')).toMatch(/host.*required/);
    expect(validate(OSvSource.schema, { host: 'h', traces: ['a/../b'] }, ['source'])).not.toEqual([]);
  });
});
