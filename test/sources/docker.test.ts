// Docker source against an HTTP server on a unix socket in the test that speaks the Engine API
// paths dockerode calls (GET /containers/json, GET /containers/{id}/stats?stream=false, with or
// without a /v1.xx prefix) and serves the captured payloads.
import { fixtureDir } from '../helpers/fixtures.js';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import http from 'node:http';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { DockerSource, type DockerConfig } from '../../src/sources/docker/index.js';
import { blockIoBytes, cpuPercent, cpuReading, memoryUsageNoCache, networkBytes, onlineCpus, statsToSamples } from '../../src/sources/docker/stats.js';
import { SourceError, type Sample } from '../../src/sdk/index.js';
import { createLogger } from '../../src/log.js';
import { initSource, valueOf } from '../helpers/probe.js';
import { tempDir } from '../helpers/net.js';
import { toSamples } from '../../src/executors/samples.js';
import { build } from '../helpers/plugin.js';

const FIX = fixtureDir('docker');
const LIST_RAW = readFileSync(path.join(FIX, 'containers-list.json'), 'utf8');
const V1_RAW = readFileSync(path.join(FIX, 'container-stats-cgroupv1.json'), 'utf8');
const V2_RAW = readFileSync(path.join(FIX, 'container-stats-cgroupv2.json'), 'utf8');
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- fixture documents, read field by field
type Json = Record<string, any>;
const V1 = JSON.parse(V1_RAW) as Json;
const V2 = JSON.parse(V2_RAW) as Json;
const ALPINE = (JSON.parse(LIST_RAW) as Json[])[0]!;

// The list capture has one container (the cgroup v2 one). The cgroup v1 capture is of chouette's
// Redis container (id "123a"); its list entry is the captured one with that id, name and image.
const REDIS = { ...ALPINE, Id: '123a', Names: ['/chouette-iot_redis_1'], Image: 'redis:5.0.5' };
const GONE = { ...ALPINE, Id: 'deadbeef0000', Names: ['/vanishing'], Image: 'busybox' };

interface Behaviour {
  list: Json[] | 'garbage' | 'html' | 'huge' | 'hang' | 'truncated' | 'object' | 'empty';
  /** Per container id: a payload, or a failure. */
  stats: Record<string, string | 'garbage' | 'huge' | 'hang' | 'truncated'>;
  /** Stats answers wait until this many stats requests are in flight at once (0: answer at once). */
  awaitInFlight: number;
}
let behaviour: Behaviour;
let requests: string[] = [];
let inFlight = 0;
let maxInFlight = 0;
let statsCalls = new Map<string, number>();
/** Stats answers held back until behaviour.awaitInFlight requests are in flight. */
let held: (() => void)[] = [];

function reset(): void {
  behaviour = { list: [ALPINE, REDIS], stats: { [ALPINE.Id]: V2_RAW, '123a': V1_RAW }, awaitInFlight: 0 };
  held = [];
  requests = [];
  inFlight = 0;
  maxInFlight = 0;
  statsCalls = new Map();
}

function sendFailure(res: http.ServerResponse, kind: string): void {
  switch (kind) {
    case 'garbage':
      return void res.writeHead(200, { 'content-type': 'application/json' }).end(Buffer.from([0x1f, 0x8b, 0x08, 0x00, 0xde, 0xad, 0xbe, 0xef]));
    case 'html':
      return void res.writeHead(500, { 'content-type': 'text/html' }).end('<html><body><h1>500 Internal Server Error</h1>nginx</body></html>');
    case 'truncated':
      // Announces more than it sends, then hangs up.
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': '5000' });
      res.write(V1_RAW.slice(0, 700));
      return void setTimeout(() => res.socket?.destroy(), 20);
    case 'huge': {
      res.writeHead(200, { 'content-type': 'application/json' });
      const chunk = Buffer.alloc(1024 * 1024, 0x20);
      res.write('[');
      let sent = 0;
      const pump = (): void => {
        while (sent < 50 && !res.destroyed) {
          sent++;
          if (!res.write(chunk)) return void res.once('drain', pump);
        }
        if (!res.destroyed) res.end(']');
      };
      return pump();
    }
    case 'object':
      return void res.writeHead(200, { 'content-type': 'application/json' }).end('{"message":"page not found"}');
    case 'empty':
      return void res.writeHead(200, { 'content-type': 'application/json' }).end();
    case 'hang':
      return;
  }
}

function handler(req: http.IncomingMessage, res: http.ServerResponse): void {
  res.on('error', () => {});
  const url = new URL(req.url ?? '/', 'http://docker');
  const p = url.pathname.replace(/^\/v1\.\d+/, '');
  requests.push(`${req.method} ${p}${url.search}`);
  if (req.method === 'GET' && p === '/containers/json') {
    const l = behaviour.list;
    if (typeof l === 'string') return sendFailure(res, l);
    return void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(l));
  }
  const m = /^\/containers\/([^/]+)\/stats$/.exec(p);
  if (req.method === 'GET' && m) {
    const id = decodeURIComponent(m[1]!);
    if (url.searchParams.get('stream') !== 'false') {
      return void res.writeHead(400, { 'content-type': 'application/json' }).end('{"message":"this test serves stream=false only"}');
    }
    statsCalls.set(id, (statsCalls.get(id) ?? 0) + 1);
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    const done = (): void => void inFlight--;
    res.on('close', done);
    held.push(() => {
      const payload = behaviour.stats[id];
      if (payload === undefined) {
        return void res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ message: `No such container: ${id}` }));
      }
      if (['garbage', 'huge', 'hang', 'truncated'].includes(payload)) return sendFailure(res, payload);
      res.writeHead(200, { 'content-type': 'application/json' }).end(payload);
    });
    // Concurrency shows without timing: a source that asked one by one would never get an answer.
    if (inFlight >= behaviour.awaitInFlight) for (const answer of held.splice(0)) answer();
    return;
  }
  res.writeHead(404, { 'content-type': 'application/json' }).end('{"message":"page not found"}');
}

let dir: ReturnType<typeof tempDir>;
let server: http.Server;
let socketPath = '';

beforeAll(async () => {
  dir = tempDir('pollect-docker-');
  socketPath = path.join(dir.dir, 'docker.sock');
  server = http.createServer(handler);
  await new Promise<void>((resolve) => server.listen(socketPath, resolve));
});

afterEach(() => server.closeAllConnections());

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
  dir.remove();
});

const warnings: string[] = [];
const log = createLogger('test', { level: 'warn', write: (l) => warnings.push(l) });

async function source(extra: Partial<DockerConfig> = {}): Promise<DockerSource> {
  reset();
  const src = build(DockerSource, { type: 'Docker', socketPath, ...extra });
  await initSource(src);
  return src;
}

async function probe(src: DockerSource, timeoutMs = 5000): Promise<Sample[]> {
  return toSamples(
    await src.probe({ signal: AbortSignal.timeout(timeoutMs), timeoutMs, tickTime: 10, log, reportProblem: () => {}, notify: () => {}, wants: () => true }),
  );
}

async function probeError(src: DockerSource, timeoutMs = 5000): Promise<string> {
  const err = await probe(src, timeoutMs).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(SourceError);
  return (err as SourceError).message;
}

describe('docker stats figures from the captured payloads (CLI formulas)', () => {
  it('cgroup v1: CPU % from precpu_stats, memory minus total_inactive_file, network, empty blkio', () => {
    const cur = cpuReading(V1.cpu_stats)!;
    const pre = cpuReading(V1.precpu_stats)!;
    expect(cur).toEqual({ total: 231319770843, system: 812809200000000 });
    expect(onlineCpus(V1.cpu_stats)).toBe(8);
    // (231319770843 - 231317787936) / (812809200000000 - 812800840000000) * 8 * 100
    expect(cpuPercent(pre, cur, 8)).toBeCloseTo((1982907 / 8360000000) * 800, 12);
    expect(memoryUsageNoCache(V1.memory_stats)).toBe(11001856 - 487424);
    expect(networkBytes(V1.networks)).toEqual({ rx: 293422, tx: 716624 });
    expect(blockIoBytes(V1.blkio_stats)).toEqual({ read: 0, write: 0 });
  });

  it('cgroup v2: no precpu reading, memory minus inactive_file, lowercase blkio ops', () => {
    expect(cpuReading(V2.precpu_stats)).toBeUndefined();
    expect(onlineCpus(V2.cpu_stats)).toBe(2);
    expect(memoryUsageNoCache(V2.memory_stats)).toBe(234647552 - 0);
    expect(blockIoBytes(V2.blkio_stats)).toEqual({ read: 167936, write: 0 });
    expect(networkBytes(V2.networks)).toEqual({ rx: 1296, tx: 0 });
    const s = statsToSamples(V2, { container: 'c' });
    expect(s.find((x) => x.name === 'cpu.percent')).toBeUndefined();
    expect(valueOf(s, 'memory.limit')).toBe(268435456);
  });

  it('online CPUs fall back to percpu_usage; v1 without total_inactive_file uses inactive_file', () => {
    const noOnline = { ...V1.cpu_stats, online_cpus: 0 };
    expect(onlineCpus(noOnline)).toBe(8);
    const mem = { usage: 1000, stats: { inactive_file: 300 } };
    expect(memoryUsageNoCache(mem)).toBe(700);
    expect(memoryUsageNoCache({ usage: 1000, stats: { total_inactive_file: 2000, inactive_file: 100 } })).toBe(900);
    expect(memoryUsageNoCache({ usage: 1000 })).toBe(1000);
    expect(
      blockIoBytes({
        io_service_bytes_recursive: [
          { op: 'Read', value: 5 },
          { op: 'Write', value: 7 },
          { op: 'Total', value: 12 },
          { op: 'Read', value: 1 },
        ],
      }),
    ).toEqual({ read: 6, write: 7 });
    expect(blockIoBytes({ io_service_bytes_recursive: null })).toBeUndefined();
  });
});

describe('Docker source over a unix socket', () => {
  it("lists containers and fetches each one's stats once, stream=false, concurrently", async () => {
    const src = await source();
    behaviour.awaitInFlight = 2;
    const s = await probe(src);
    expect(requests[0]).toBe('GET /containers/json');
    expect(requests.slice(1).sort()).toEqual([`GET /containers/123a/stats?stream=false`, `GET /containers/${ALPINE.Id}/stats?stream=false`].sort());
    expect([...statsCalls.values()]).toEqual([1, 1]);
    expect(maxInFlight).toBe(2);

    const redis = { container: 'chouette-iot_redis_1', image: 'redis:5.0.5' };
    expect(valueOf(s, 'cpu.percent', redis)).toBeCloseTo(((231319770843 - 231317787936) / (812809200000000 - 812800840000000)) * 8 * 100, 12);
    expect(valueOf(s, 'memory.usage', redis)).toBe(10514432);
    expect(valueOf(s, 'memory.limit', redis)).toBe(8103899136);
    expect(valueOf(s, 'network.rx_bytes', redis)).toBe(293422);
    expect(valueOf(s, 'network.tx_bytes', redis)).toBe(716624);
    expect(valueOf(s, 'blkio.read_bytes', redis)).toBe(0);
    expect(valueOf(s, 'blkio.write_bytes', redis)).toBe(0);

    const alpine = { container: 'compassionate_mcnulty', image: 'alpine' };
    expect(s.filter((x) => x.name === 'cpu.percent' && x.labels?.container === 'compassionate_mcnulty')).toHaveLength(0);
    expect(valueOf(s, 'memory.usage', alpine)).toBe(234647552);
    expect(valueOf(s, 'memory.limit', alpine)).toBe(268435456);
    expect(valueOf(s, 'network.rx_bytes', alpine)).toBe(1296);
    expect(valueOf(s, 'blkio.read_bytes', alpine)).toBe(167936);
    expect(valueOf(s, 'blkio.write_bytes', alpine)).toBe(0);
    expect(valueOf(s, 'containers')).toBe(2);
  });

  it('without precpu_stats the CPU % comes from the previous probe of the same container', async () => {
    const src = await source();
    await probe(src);
    const next = structuredClone(V2);
    next.cpu_stats.cpu_usage.total_usage += 50_000_000;
    next.cpu_stats.system_cpu_usage += 2_000_000_000;
    behaviour.stats[ALPINE.Id] = JSON.stringify(next);
    const s = await probe(src);
    expect(valueOf(s, 'cpu.percent', { container: 'compassionate_mcnulty' })).toBeCloseTo((50_000_000 / 2_000_000_000) * 2 * 100, 12);
  });

  it('a container that vanishes between list and stats (404) is skipped cleanly', async () => {
    const src = await source();
    behaviour.list = [ALPINE, GONE, REDIS];
    warnings.length = 0;
    const s = await probe(src);
    expect(statsCalls.get(GONE.Id)).toBe(1);
    expect(s.filter((x) => x.labels?.container === 'vanishing')).toHaveLength(0);
    expect(valueOf(s, 'memory.usage', { container: 'chouette-iot_redis_1' })).toBe(10514432);
    expect(valueOf(s, 'containers')).toBe(2);
    expect(warnings).toEqual([]);
  });

  it('a host with many containers: one stats call each, all at once, no listener-leak warning', async () => {
    const src = await source();
    const many = Array.from({ length: 60 }, (_, i) => ({ ...REDIS, Id: `c${i}`, Names: [`/redis-${i}`] }));
    behaviour.list = many;
    for (const c of many) behaviour.stats[c.Id] = V1_RAW;
    behaviour.awaitInFlight = 60;
    const seen: string[] = [];
    const onWarning = (w: Error): void => void seen.push(w.name);
    process.on('warning', onWarning);
    try {
      const s = await probe(src);
      expect(valueOf(s, 'containers')).toBe(60);
      expect(valueOf(s, 'memory.usage', { container: 'redis-59' })).toBe(10514432);
    } finally {
      await new Promise((r) => setTimeout(r, 50));
      process.off('warning', onWarning);
    }
    expect(maxInFlight).toBe(60);
    expect([...statsCalls.values()].every((n) => n === 1)).toBe(true);
    expect(seen).toEqual([]);
  });

  it('include and exclude select containers by name (globs)', async () => {
    let src = await source({ include: ['chouette-*'] });
    let s = await probe(src);
    expect([...statsCalls.keys()]).toEqual(['123a']);
    expect(new Set(s.map((x) => x.labels?.container))).toEqual(new Set(['chouette-iot_redis_1', undefined]));
    src = await source({ exclude: ['chouette-iot_redis_1'] });
    s = await probe(src);
    expect([...statsCalls.keys()]).toEqual([ALPINE.Id]);
    src = await source({ include: ['*'], exclude: ['*mcnulty', 'chouette?iot*'] });
    s = await probe(src);
    expect(statsCalls.size).toBe(0);
    expect(valueOf(s, 'containers')).toBe(0);
  });

  it('talks to host/port over TCP as the alternative to the socket', async () => {
    const tcp = http.createServer(handler);
    const port = await new Promise<number>((resolve) => tcp.listen(0, '127.0.0.1', () => resolve((tcp.address() as { port: number }).port)));
    try {
      const src = await source({ host: '127.0.0.1', port });
      const s = await probe(src);
      expect(valueOf(s, 'memory.usage', { container: 'chouette-iot_redis_1' })).toBe(10514432);
      expect(requests[0]).toBe('GET /containers/json');
    } finally {
      tcp.closeAllConnections();
      await new Promise((r) => tcp.close(r));
    }
  });

  it('no daemon on the socket is a clear error', async () => {
    const src = await source({ socketPath: path.join(dir.dir, 'nobody.sock') });
    const msg = await probeError(src);
    expect(msg).toMatch(/^Docker at unix:.*nobody\.sock: GET \/containers\/json: connect ENOENT/);
  });

  for (const kind of ['garbage', 'html', 'huge', 'truncated', 'object', 'empty'] as const) {
    it(`a ${kind} container list is a clear error`, async () => {
      const src = await source();
      behaviour.list = kind;
      const msg = await probeError(src, 20_000);
      expect(msg).toMatch(/^Docker at unix:.*: GET \/containers\/json: /);
      expect(msg).toMatch(/^[\x20-\x7e\u2026]+$/);
      const expected = {
        garbage: /invalid JSON \(application\/json; 8 bytes, not text\)/,
        html: /HTTP 500: 500 Internal Server Error nginx/,
        huge: /response larger than 16777216 bytes/,
        truncated: /connection closed after 700 bytes, before the response was complete/,
        object: /expected a list of containers, got object/,
        empty: /empty body/,
      }[kind];
      expect(msg).toMatch(expected);
    });
  }

  it('a daemon that never answers the list is a timeout error', async () => {
    const src = await source();
    behaviour.list = 'hang';
    const t0 = Date.now();
    const msg = await probeError(src, 400);
    expect(msg).toMatch(/GET \/containers\/json: no answer within 400 ms/);
    expect(Date.now() - t0).toBeLessThan(3000);
  });

  it('stats that are JSON but not a stats document count as a failure', async () => {
    const src = await source();
    behaviour.stats[ALPINE.Id] = '{"message":"hello"}';
    behaviour.stats['123a'] = '[1,2]';
    const msg = await probeError(src);
    expect(msg).toMatch(/stats failed for 2 of 2 containers: /);
    expect(msg).toMatch(/compassionate_mcnulty: not a stats document \(keys message\)/);
    expect(msg).toMatch(/chouette-iot_redis_1: not a stats document \(a list\)/);
  });

  for (const kind of ['garbage', 'huge', 'hang', 'truncated'] as const) {
    it(`${kind} stats of the only container fail the probe; with another container they are a warning`, async () => {
      let src = await source();
      behaviour.list = [ALPINE];
      behaviour.stats[ALPINE.Id] = kind;
      const msg = await probeError(src, 500);
      expect(msg).toMatch(/^Docker at unix:.*: stats failed for 1 of 1 containers: compassionate_mcnulty: /);
      if (kind === 'hang') expect(msg).toMatch(/no answer within 400 ms/);
      if (kind === 'huge') expect(msg).toMatch(/larger than 1048576 bytes/);

      src = await source();
      behaviour.stats[ALPINE.Id] = kind;
      warnings.length = 0;
      const s = await probe(src, 500);
      expect(valueOf(s, 'memory.usage', { container: 'chouette-iot_redis_1' })).toBe(10514432);
      expect(valueOf(s, 'containers')).toBe(1);
      expect(warnings.join('\n')).toMatch(/stats failed for 1 of 2 containers: compassionate_mcnulty/);
    });
  }
});
