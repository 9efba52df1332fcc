// Dramatiq against a real redis-server started by the test (free port, own temp dir, no
// persistence). Queues are filled with the same commands Dramatiq's RedisBroker runs in
// dramatiq/brokers/redis/dispatch.lua (enqueue, fetch, ack, nack), so the key layout is the broker's.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import net from 'node:net';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { Redis } from 'ioredis';
import { DramatiqSource, type DramatiqConfig } from '../../src/sources/dramatiq/index.js';
import { queueOfKey, scanPattern } from '../../src/sources/dramatiq/keys.js';
import { SourceError, type Sample } from '../../src/sdk/index.js';
import { freePort, spawnDaemon, tempDir, waitForPort, type Daemon } from '../helpers/net.js';
import { needs } from '../helpers/servers.js';
import { initSource, probeOnce, valueOf } from '../helpers/probe.js';
import { validate } from '../helpers/validate.js';
import { build, type Params } from '../helpers/plugin.js';

const PASSWORD = 'S3cret-dramatiq-pw';

async function startRedis(port: number, dir: string, extra: string[] = [], listensOn = port): Promise<Daemon> {
  const d = spawnDaemon('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, ...extra]);
  await waitForPort(listensOn);
  return d;
}

/** Dramatiq's broker operations, command for command as in dispatch.lua. */
class Broker {
  constructor(
    readonly r: Redis,
    readonly ns = 'dramatiq',
  ) {}
  private n = 0;
  async enqueue(queue: string): Promise<string> {
    const id = `00000000-0000-4000-8000-${String(++this.n).padStart(12, '0')}`;
    const msg = JSON.stringify({
      queue_name: queue,
      actor_name: 'work',
      args: [this.n],
      kwargs: {},
      options: {},
      message_id: id,
      message_timestamp: Date.now(),
    });
    await this.r.hset(`${this.ns}:${queue}.msgs`, id, msg);
    await this.r.rpush(`${this.ns}:${queue}`, id);
    return id;
  }
  /** A delayed message goes to <queue>.DQ (RedisBroker.enqueue with delay). */
  enqueueDelayed(queue: string): Promise<string> {
    return this.enqueue(`${queue}.DQ`);
  }
  async fetch(worker: string, queue: string, n: number): Promise<string[]> {
    await this.r.zadd(`${this.ns}:__heartbeats__`, Date.now(), worker);
    const ids: string[] = [];
    for (let i = 0; i < n; i++) {
      const id = await this.r.lpop(`${this.ns}:${queue}`);
      if (!id) break;
      ids.push(id);
      await this.r.sadd(`${this.ns}:__acks__.${worker}.${queue}`, id);
    }
    return ids;
  }
  async ack(worker: string, queue: string, id: string): Promise<void> {
    if ((await this.r.srem(`${this.ns}:__acks__.${worker}.${queue}`, id)) > 0) await this.r.hdel(`${this.ns}:${queue}.msgs`, id);
  }
  async nack(worker: string, queue: string, id: string): Promise<void> {
    const canonical = queue.endsWith('.DQ') ? queue.slice(0, -3) : queue;
    if ((await this.r.srem(`${this.ns}:__acks__.${worker}.${queue}`, id)) > 0) {
      const message = await this.r.hget(`${this.ns}:${queue}.msgs`, id);
      if (message) {
        await this.r.zadd(`${this.ns}:${canonical}.XQ`, Date.now(), id);
        await this.r.hset(`${this.ns}:${canonical}.XQ.msgs`, id, message);
        await this.r.hdel(`${this.ns}:${queue}.msgs`, id);
      }
    }
  }
}

const W1 = 'a1b2c3d4-0000-4000-8000-000000000001';

describe('Dramatiq key classification', () => {
  it('maps every key of the broker layout to its base queue', () => {
    const cases: [string, string | undefined][] = [
      ['dramatiq:default', 'default'],
      ['dramatiq:default.msgs', 'default'],
      ['dramatiq:default.DQ', 'default'],
      ['dramatiq:default.DQ.msgs', 'default'],
      ['dramatiq:default.XQ', 'default'],
      ['dramatiq:default.XQ.msgs', 'default'],
      ['dramatiq:default.acks', 'default'],
      [`dramatiq:__acks__.${W1}.emails.DQ`, 'emails'],
      [`dramatiq:__acks__.${W1}.emails`, 'emails'],
      ['dramatiq:__heartbeats__', undefined],
      ['dramatiq-results:abc', undefined],
      ['other:default.msgs', undefined],
    ];
    for (const [key, q] of cases) expect(queueOfKey(key, 'dramatiq'), key).toBe(q);
  });
  it('escapes glob characters of the prefix', () => {
    expect(scanPattern('my*app[1]')).toBe('my\\*app\\[1\\]:*');
  });
});

describe.skipIf(!needs('redis-server'))('Dramatiq source with a real redis-server', () => {
  let port: number;
  let dir: { dir: string; remove: () => void };
  let redis: Daemon;
  let r: Redis;
  const sources: DramatiqSource[] = [];
  const make = async (cfg: Params<DramatiqConfig> = {}): Promise<DramatiqSource> => {
    const s = build(DramatiqSource, { type: 'Dramatiq', host: '127.0.0.1', port, ...cfg });
    await initSource(s);
    sources.push(s);
    return s;
  };
  const sizes = (s: readonly Sample[]): Record<string, number> =>
    Object.fromEntries(s.filter((x) => x.name === 'queue_size').map((x) => [x.labels!.queue!, x.value]));

  beforeAll(async () => {
    dir = tempDir('pollect-dramatiq-');
    port = await freePort();
    redis = await startRedis(port, dir.dir);
    r = new Redis({ host: '127.0.0.1', port, lazyConnect: true });
    await r.connect();
  });
  afterAll(async () => {
    r?.disconnect();
    await redis?.stop();
    dir?.remove();
  });
  afterEach(async () => {
    for (const s of sources.splice(0)) await s.shutdown();
    if (r.status === 'ready') await r.flushall();
  });

  it('reports nothing for an empty Redis, and configured queues at 0', async () => {
    expect(await probeOnce(await make())).toEqual([]);
    expect(sizes(await probeOnce(await make({ queues: ['emails'] })))).toEqual({ emails: 0, 'emails.DQ': 0, 'emails.XQ': 0 });
  });

  it('counts waiting, in-flight, delayed and dead-lettered messages per queue', async () => {
    const b = new Broker(r);
    for (let i = 0; i < 4; i++) await b.enqueue('default');
    for (let i = 0; i < 2; i++) await b.enqueueDelayed('default');
    for (let i = 0; i < 5; i++) await b.enqueue('reports');
    await r.set('dramatiq-results:some-result', 'x'); // the results backend's namespace is not ours
    await r.hset('unrelated:default.msgs', 'a', 'b');
    const src = await make();
    await r.config('RESETSTAT');
    expect(sizes(await probeOnce(src))).toEqual({
      default: 4,
      'default.DQ': 2,
      'default.XQ': 0,
      reports: 5,
      'reports.DQ': 0,
      'reports.XQ': 0,
    });
    // The source found the queues with SCAN and counted with HLEN; it never ran KEYS.
    const stats = await r.info('commandstats');
    expect(stats).toMatch(/cmdstat_scan:calls=\d+/);
    expect(stats).toMatch(/cmdstat_hlen:calls=6,/);
    expect(stats).not.toMatch(/cmdstat_keys:/);
    // A worker fetches 2: they leave the list but stay in .msgs until acked, so still counted.
    const [m1, m2] = await b.fetch(W1, 'default', 2);
    expect(await r.llen('dramatiq:default')).toBe(2);
    expect(valueOf(await probeOnce(src), 'queue_size', { queue: 'default' })).toBe(4);
    await b.ack(W1, 'default', m1!);
    await b.nack(W1, 'default', m2!);
    const [d1] = await b.fetch(W1, 'default.DQ', 1);
    await b.nack(W1, 'default.DQ', d1!); // dead letters of the delayed queue go to default.XQ
    expect(sizes(await probeOnce(src))).toEqual({
      default: 2,
      'default.DQ': 1,
      'default.XQ': 2,
      reports: 5,
      'reports.DQ': 0,
      'reports.XQ': 0,
    });
  });

  it('keeps reporting a queue at 0 after its last key is gone', async () => {
    const b = new Broker(r);
    const id = await b.enqueue('emails');
    const src = await make();
    expect(valueOf(await probeOnce(src), 'queue_size', { queue: 'emails' })).toBe(1);
    await b.fetch(W1, 'emails', 1);
    await b.ack(W1, 'emails', id);
    expect(await r.keys('*')).toEqual(['dramatiq:__heartbeats__']);
    expect(sizes(await probeOnce(src))).toEqual({ emails: 0, 'emails.DQ': 0, 'emails.XQ': 0 });
  });

  it('finds queues from the acks set alone, with another prefix and a db', async () => {
    const r3 = new Redis({ host: '127.0.0.1', port, db: 3, lazyConnect: true });
    await r3.connect();
    try {
      const b = new Broker(r3, 'app*1');
      await b.enqueue('jobs');
      await b.fetch(W1, 'jobs', 1); // now only app*1:jobs.msgs and the acks set exist
      await r3.hset('appX1:other.msgs', 'a', 'b'); // matches app*1 as a glob, must not count
      const src = await make({ prefix: 'app*1', db: 3 });
      expect(sizes(await probeOnce(src))).toEqual({ jobs: 1, 'jobs.DQ': 0, 'jobs.XQ': 0 });
      await r3.hdel('app*1:jobs.msgs', (await r3.hkeys('app*1:jobs.msgs'))[0]!);
      await r3.del('app*1:jobs');
      expect(sizes(await probeOnce(src))).toEqual({ jobs: 0, 'jobs.DQ': 0, 'jobs.XQ': 0 });
      // The acks set alone tells that the queue exists, for a fresh source too.
      expect(sizes(await probeOnce(await make({ prefix: 'app*1', db: 3 })))).toEqual({ jobs: 0, 'jobs.DQ': 0, 'jobs.XQ': 0 });
    } finally {
      await r3.flushdb();
      r3.disconnect();
    }
  });

  it('names a key of the wrong type', async () => {
    await r.set('dramatiq:weird.msgs', 'not a hash');
    const err = await probeOnce(await make()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SourceError);
    expect((err as Error).message).toMatch(/HLEN dramatiq:weird\.msgs: WRONGTYPE/);
  });

  it('fails fast while Redis is down and recovers when it returns', async () => {
    const p2 = await freePort();
    const d2 = tempDir('pollect-dramatiq2-');
    try {
      const src = await make({ port: p2 });
      const healthy = await make({ queues: ['default'] });
      const t0 = Date.now();
      // The other source, on the Redis that is up, is not affected.
      const [err, fine] = await Promise.all([probeOnce(src, { timeoutMs: 5000 }).catch((e: unknown) => e), probeOnce(healthy)]);
      expect(valueOf(fine, 'queue_size', { queue: 'default' })).toBe(0);
      expect(err).toBeInstanceOf(SourceError);
      expect((err as Error).message).toMatch(new RegExp(`^Redis 127\\.0\\.0\\.1:${p2}: .*ECONNREFUSED`));
      expect(Date.now() - t0).toBeLessThan(2000);
      const second = await startRedis(p2, d2.dir);
      try {
        const r2 = new Redis({ host: '127.0.0.1', port: p2 });
        await new Broker(r2).enqueue('default');
        expect(valueOf(await probeOnce(src), 'queue_size', { queue: 'default' })).toBe(1);
        // Redis goes away under a connected client, then comes back.
        r2.disconnect();
        await second.stop();
        const down = await probeOnce(src, { timeoutMs: 5000 }).catch((e: unknown) => e);
        expect(down).toBeInstanceOf(SourceError);
        expect((down as Error).message).toMatch(new RegExp(`^Redis 127\\.0\\.0\\.1:${p2}: `));
        const again = await startRedis(p2, d2.dir);
        try {
          // No persistence: the restarted Redis is empty, but the queue seen before is still reported.
          expect(sizes(await probeOnce(src))).toEqual({ default: 0, 'default.DQ': 0, 'default.XQ': 0 });
        } finally {
          await again.stop();
        }
      } finally {
        await second.stop();
      }
    } finally {
      d2.remove();
    }
  });

  it('reports a wrong password without printing it, and works with the right one', async () => {
    const p3 = await freePort();
    const d3 = tempDir('pollect-dramatiq3-');
    const secured = await startRedis(p3, d3.dir, ['--requirepass', PASSWORD]);
    try {
      const wrong = 'wrong-' + PASSWORD;
      const src = await make({ port: p3, password: wrong });
      const err = await probeOnce(src, { timeoutMs: 3000 }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(SourceError);
      expect((err as Error).message).toMatch(/WRONGPASS|NOAUTH|invalid password/i);
      expect((err as Error).message).not.toContain(wrong);
      expect((err as Error).message).not.toContain(PASSWORD);
      const none = await probeOnce(await make({ port: p3 }), { timeoutMs: 3000 }).catch((e: unknown) => e);
      expect((none as Error).message).toMatch(/NOAUTH/);
      const ok = await make({ port: p3, password: PASSWORD, queues: ['default'] });
      expect(valueOf(await probeOnce(ok), 'queue_size', { queue: 'default' })).toBe(0);
    } finally {
      await secured.stop();
      d3.remove();
    }
  });

  it('talks TLS, verifying the server against the configured CA', async () => {
    const d = tempDir('pollect-dramatiq-tls-');
    const f = (n: string): string => path.join(d.dir, n);
    const ssl = (...args: string[]): void => void execFileSync('openssl', args, { stdio: 'ignore' });
    // EC keys: generated at once, where RSA keys take up to seconds on a busy machine.
    const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
    ssl('req', '-x509', ...ec, '-days', '2', '-subj', '/CN=pollect test CA', '-keyout', f('ca.key'), '-out', f('ca.pem'));
    ssl('req', ...ec, '-subj', '/CN=127.0.0.1', '-keyout', f('server.key'), '-out', f('server.csr'));
    execFileSync('sh', ['-c', `printf 'subjectAltName=IP:127.0.0.1\n' > '${f('ext')}'`]);
    ssl(
      'x509',
      '-req',
      '-in',
      f('server.csr'),
      '-CA',
      f('ca.pem'),
      '-CAkey',
      f('ca.key'),
      '-CAcreateserial',
      '-days',
      '2',
      '-extfile',
      f('ext'),
      '-out',
      f('server.pem'),
    );
    const tlsPort = await freePort();
    const tlsRedis = await startRedis(
      0,
      d.dir,
      [
        '--tls-port',
        String(tlsPort),
        '--tls-cert-file',
        f('server.pem'),
        '--tls-key-file',
        f('server.key'),
        '--tls-ca-cert-file',
        f('ca.pem'),
        '--tls-auth-clients',
        'no',
      ],
      tlsPort,
    );
    try {
      const ok = await make({ port: tlsPort, tls: { ca: f('ca.pem') }, queues: ['default'] });
      expect(valueOf(await probeOnce(ok, { timeoutMs: 5000 }), 'queue_size', { queue: 'default' })).toBe(0);
      const unverified = await make({ port: tlsPort, tls: true });
      const err = await probeOnce(unverified, { timeoutMs: 5000 }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(SourceError);
      expect((err as Error).message).toMatch(/self[- ]signed|unable to (get|verify)/i);
      const plain = await probeOnce(await make({ port: tlsPort }), { timeoutMs: 1000 }).catch((e: unknown) => e);
      expect(plain).toBeInstanceOf(SourceError);
    } finally {
      await tlsRedis.stop();
      d.remove();
    }
  });

  describe('hostile servers', () => {
    const servers: net.Server[] = [];
    const sockets: net.Socket[] = [];
    afterEach(async () => {
      for (const s of sockets.splice(0)) s.destroy();
      for (const s of servers.splice(0)) await new Promise((res) => s.close(res));
    });
    const serve = async (onConnection: (s: net.Socket) => void): Promise<number> => {
      const srv = net.createServer((s) => {
        sockets.push(s);
        s.on('error', () => {});
        onConnection(s);
      });
      servers.push(srv);
      await new Promise<void>((res) => srv.listen(0, '127.0.0.1', res));
      return (srv.address() as net.AddressInfo).port;
    };

    it('gives up on a server that accepts but never replies, at the probe timeout', async () => {
      const p = await serve(() => {});
      const src = await make({ port: p });
      const err = await probeOnce(src, { timeoutMs: 500 }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(SourceError);
      expect((err as Error).message).toBe(`Redis 127.0.0.1:${p}: no ready connection within 500 ms (connected, but the handshake did not complete)`);
      // The next probe starts over cleanly (not "already connecting").
      const again = await probeOnce(src, { timeoutMs: 300 }).catch((e: unknown) => e);
      expect((again as Error).message).toBe(`Redis 127.0.0.1:${p}: no ready connection within 300 ms (connected, but the handshake did not complete)`);
    });

    it('reports an HTTP server answering instead of Redis', async () => {
      const p = await serve((s) =>
        s.once('data', () => s.end('HTTP/1.1 400 Bad Request\r\nContent-Type: text/html\r\n\r\n<html><body><h1>400 Bad Request</h1></body></html>')),
      );
      const err = await probeOnce(await make({ port: p }), { timeoutMs: 2000 }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(SourceError);
      expect((err as Error).message).toMatch(new RegExp(`^Redis 127\\.0\\.0\\.1:${p}: `));
    });

    it('reports garbage bytes', async () => {
      const p = await serve((s) => s.once('data', () => s.write(Buffer.from([0x00, 0xff, 0x13, 0x37, 0x0d, 0x0a, 0x99]))));
      const err = await probeOnce(await make({ port: p }), { timeoutMs: 1000 }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(SourceError);
      expect((err as Error).message).toBe(`Redis 127.0.0.1:${p}: the server does not speak the Redis protocol (a reply started with byte 0x00)`);
    });

    it('reports a 50 MB reply to every command as a failed handshake, at the probe timeout', async () => {
      const big = Buffer.alloc(50 * 1024 * 1024, 0x41);
      const p = await serve((s) =>
        s.on('data', () => {
          s.write(`$${big.length}\r\n`);
          s.write(big);
          s.write('\r\n');
        }),
      );
      const err = await probeOnce(await make({ port: p }), { timeoutMs: 1000 }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(SourceError);
      expect((err as Error).message).toMatch(new RegExp(`^Redis 127\\.0\\.0\\.1:${p}: no ready connection within 1000 ms`));
    });

    it('reports a 50 MB reply to SCAN from a real Redis behind a proxy', async () => {
      // Everything passes through to the real redis-server, except that SCAN gets 50 MB back.
      const big = Buffer.alloc(50 * 1024 * 1024, 0x41);
      const p = await serve((client) => {
        const upstream = net.connect(port, '127.0.0.1');
        sockets.push(upstream);
        upstream.on('error', () => {});
        upstream.pipe(client);
        client.on('data', (chunk: Buffer) => {
          if (/\r\nscan\r\n/i.test(chunk.toString('latin1'))) {
            client.write(`$${big.length}\r\n`);
            client.write(big);
            client.write('\r\n');
          } else upstream.write(chunk);
        });
      });
      await new Broker(r).enqueue('default');
      const err = await probeOnce(await make({ port: p }), { timeoutMs: 5000 }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(SourceError);
      expect((err as Error).message).toBe(`Redis 127.0.0.1:${p}: SCAN dramatiq:*: unexpected reply (a string of 52428800 characters)`);
    });
  });
});

describe('Dramatiq params schema', () => {
  it('accepts tls as true or as files, fills defaults, rejects other forms', () => {
    const cfg: Record<string, unknown> = { tls: { ca: 'ca.pem' } };
    expect(validate(DramatiqSource.schema, cfg, ['source'])).toEqual([]);
    expect(cfg).toMatchObject({ host: '127.0.0.1', port: 6379, db: 0, prefix: 'dramatiq', queues: [] });
    expect(validate(DramatiqSource.schema, { tls: true }, ['source'])).toEqual([]);
    expect(validate(DramatiqSource.schema, { tls: 'yes' }, ['source'])).not.toEqual([]);
    expect(validate(DramatiqSource.schema, { tls: { cafile: 'x' } }, ['source'])).not.toEqual([]);
  });
});
