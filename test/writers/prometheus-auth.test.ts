// The Prometheus writer's endpoint secured: basic auth against bcrypt hashes (as an exporter-toolkit
// web config's basic_auth_users) and mutual TLS with a client CA. Checked on the verifier itself,
// with Node clients that lack credentials or a certificate, by `pollect --check`, and with a real
// Prometheus scraping through both as its prometheus.yml configures it.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { performance } from 'node:perf_hooks';
import http from 'node:http';
import https from 'node:https';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import bcrypt from 'bcryptjs';
import { CLOCK_TICKS, parsePidStat } from '../../src/host/proc-parse.js';
import { BasicAuth, CACHE_MS, checkUsers, MAX_CHECKS } from '../../src/writers/prometheus/auth.js';
import { PrometheusWriter, type PrometheusConfig } from '../../src/writers/prometheus/index.js';
import { ParamError, type Batch } from '../../src/sdk/index.js';
import { BIN, cli } from '../helpers/cli.js';
import { configFor, pluginContext } from '../helpers/plugin.js';
import { freePort, spawnDaemon, tempDir, waitForPort, type Daemon } from '../helpers/net.js';
import { needs } from '../helpers/servers.js';
import { certificateAuthority, selfSigned, signedBy } from '../helpers/certs.js';
import { point } from '../helpers/points.js';

/** Cost 4: the cheapest bcrypt, for the tests that do not time it. */
const HASH = bcrypt.hashSync('s3cret', 4);
const basic = (user: string, password: string): string => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

/** bcryptjs on this thread, counted. */
function countingCompare(): { compare: (password: string, hash: string) => Promise<boolean>; calls: () => number } {
  let calls = 0;
  return {
    compare: (password, hash) => {
      calls++;
      return bcrypt.compare(password, hash);
    },
    calls: () => calls,
  };
}

describe('basic auth: the bcrypt verifier', () => {
  const made: BasicAuth[] = [];
  /** A verifier with its bcrypt in a child process, as the writer makes it; closed after the test. */
  const verifier = (users: Record<string, string>): BasicAuth => {
    const auth = new BasicAuth(users);
    made.push(auth);
    return auth;
  };
  afterEach(async () => {
    while (made.length) await made.pop()!.close();
  });

  it('checkUsers: a hash that is not bcrypt, or a user name with ":", is a param error at its path', () => {
    expect(() => checkUsers({ alice: HASH, bob: HASH.replace('$2b$', '$2y$') }, 'basicAuthUsers')).not.toThrow();
    for (const [users, param, msg] of [
      [{ alice: 'secret' }, 'basicAuthUsers.alice', /^not a bcrypt hash/],
      [{ alice: '{SHA}5en6G6MezRroT3XKqkdPOmY/BfQ=' }, 'basicAuthUsers.alice', /htpasswd -nBC 10/],
      [{ alice: HASH.slice(0, -1) }, 'basicAuthUsers.alice', /^not a bcrypt hash/],
      [{ alice: HASH.replace('$04$', '$03$') }, 'basicAuthUsers.alice', /^not a bcrypt hash/],
      [{ 'a:b': HASH }, 'basicAuthUsers.a:b', /cannot contain ":"/],
    ] as const) {
      let err: unknown;
      try {
        checkUsers(users, 'basicAuthUsers');
      } catch (e) {
        err = e;
      }
      expect(err, param).toBeInstanceOf(ParamError);
      expect((err as ParamError).param).toBe(param);
      expect((err as ParamError).message).toMatch(msg);
    }
  });

  it('lets the right password in; a wrong one, an unknown user (even with a known password) and a malformed header out', async () => {
    const auth = verifier({ alice: HASH, bob: bcrypt.hashSync('other', 4) });
    expect(await auth.check(basic('alice', 's3cret'))).toBe('ok');
    expect(await auth.check(basic('bob', 'other'))).toBe('ok');
    expect(await auth.check(basic('alice', 'S3cret'))).toBe('denied');
    expect(await auth.check(basic('bob', 's3cret'))).toBe('denied');
    // The unknown user is checked against alice's hash (for timing) and still refused.
    expect(await auth.check(basic('mallory', 's3cret'))).toBe('denied');
    expect(await auth.check(basic('', 's3cret'))).toBe('denied');
    // Refused at once, without bcrypt.
    const counted = countingCompare();
    const bare = new BasicAuth({ alice: HASH }, { compare: counted.compare });
    for (const h of [undefined, '', 'Bearer x', 'Basic', 'Basic !!!', `Basic ${Buffer.from('nocolon').toString('base64')}`])
      expect(bare.check(h)).toBe('denied');
    expect(counted.calls()).toBe(0);
    // A password with ":" in it: the user ends at the first one.
    const colon = verifier({ carol: bcrypt.hashSync('a:b', 4) });
    expect(await colon.check(basic('carol', 'a:b'))).toBe('ok');
  });

  it('remembers a success for CACHE_MS (no bcrypt meanwhile), never a failure; the same credentials at once share one check', async () => {
    let now = 1_000_000;
    const counted = countingCompare();
    const auth = new BasicAuth({ alice: HASH }, { now: () => now, compare: counted.compare });
    const [a, b] = [auth.check(basic('alice', 's3cret')), auth.check(basic('alice', 's3cret'))];
    expect(a).toBeInstanceOf(Promise);
    expect(await Promise.all([a, b])).toEqual(['ok', 'ok']);
    expect(counted.calls()).toBe(1);
    now += CACHE_MS - 1;
    expect(auth.check(basic('alice', 's3cret'))).toBe('ok');
    expect(counted.calls()).toBe(1);
    now += 1;
    expect(await auth.check(basic('alice', 's3cret'))).toBe('ok');
    expect(counted.calls()).toBe(2);
    // A wrong password is checked every time.
    expect(await auth.check(basic('alice', 'wrong'))).toBe('denied');
    expect(await auth.check(basic('alice', 'wrong'))).toBe('denied');
    expect(counted.calls()).toBe(4);
  });

  it(`runs at most ${MAX_CHECKS} bcrypt checks at once: a client guessing passwords gets 'busy', a remembered scraper still gets in`, async () => {
    const auth = verifier({ alice: HASH });
    expect(await auth.check(basic('alice', 's3cret'))).toBe('ok');
    const guesses = Array.from({ length: MAX_CHECKS }, (_, i) => auth.check(basic('alice', `guess${i}`)));
    expect(auth.check(basic('alice', 'one more'))).toBe('busy');
    expect(auth.check(basic('alice', 's3cret'))).toBe('ok');
    expect(await Promise.all(guesses)).toEqual(Array(MAX_CHECKS).fill('denied'));
    expect(await auth.check(basic('alice', 'one more'))).toBe('denied');
  });

  it('an unknown user takes as long as a known one (cost 10)', async () => {
    // bcrypt on this thread, timed by this thread's work: the child process's transport is the
    // same for every user, and elapsed time on a loaded machine is mostly other work.
    let spent = 0;
    const compare = async (password: string, hash: string): Promise<boolean> => {
      const t = process.cpuUsage();
      const ok = bcrypt.compareSync(password, hash);
      const d = process.cpuUsage(t);
      spent = d.user + d.system;
      return ok;
    };
    const auth = new BasicAuth({ alice: bcrypt.hashSync('s3cret', 10) }, { compare });
    const time = async (user: string): Promise<number> => {
      spent = 0;
      expect(await auth.check(basic(user, 'wrong'))).toBe('denied');
      return spent;
    };
    const known = Math.min(await time('alice'), await time('alice'));
    const unknown = Math.min(await time('mallory'), await time('mallory'));
    // Loose bounds (CPU time on a shared machine varies); a shortcut for unknown users would be ~0.
    expect(unknown / known).toBeGreaterThan(0.5);
    expect(unknown / known).toBeLessThan(2);
  });

  it('bcrypt runs off the event loop: four checks at cost 10 at once never block it for long', async () => {
    const auth = verifier({ alice: bcrypt.hashSync('s3cret', 10) });
    expect(await auth.check(basic('alice', 'warm-up'))).toBe('denied');
    const before = performance.eventLoopUtilization();
    const verdicts = await Promise.all(Array.from({ length: MAX_CHECKS }, (_, i) => auth.check(basic('alice', `guess${i}`))));
    const busy = performance.eventLoopUtilization(before).utilization;
    expect(verdicts).toEqual(Array(MAX_CHECKS).fill('denied'));
    // The share of the time the event loop was busy (not waiting for events): ~1 when bcryptjs runs
    // on this thread, as its async mode does in 100 ms slices (four checks held the loop ~400 ms at
    // a stretch). Unlike the loop's delay, this does not move when the machine is busy.
    expect(busy).toBeLessThan(0.3);
    // Closed, it fails what still waits and starts again on the next check.
    const pending = expect(auth.check(basic('alice', 'late'))).rejects.toThrow(/stopped/);
    await auth.close();
    await pending;
    expect(await auth.check(basic('alice', 's3cret'))).toBe('ok');
  });
});

describe('basic auth in the daemon as launched (bin/pollect.js, whose V8 flags turn the optimising compiler off)', () => {
  it('a bcrypt check costs the daemon next to no CPU: it runs in a plain child process', async () => {
    const tmp = tempDir('pollect-auth-bin-');
    const port = await freePort();
    const file = path.join(tmp.dir, 'pollect.json');
    const hash = bcrypt.hashSync('scrape-pw', 10);
    writeFileSync(
      file,
      JSON.stringify({
        tickTime: 60,
        selfMetrics: false,
        writers: [{ type: 'Prometheus', host: '127.0.0.1', port, basicAuthUsers: { prometheus: hash } }],
        executors: [{ sources: [{ type: 'Dummy' }] }],
      }),
    );
    const daemon = spawnDaemon(process.execPath, [BIN, '-c', file]);
    try {
      await waitForPort(port);
      const pid = daemon.child.pid!;
      const before = cpuMs(pid);
      const r = await request(port, { auth: basic('prometheus', 'scrape-pw') });
      const used = cpuMs(pid) - before;
      expect(r.status).toBe(200);
      expect(r.body).toContain('pollect_Dummy 1');
      // In the daemon's own process, under its flags, this one check took 1.5 to 8 s of CPU.
      expect(used).toBeLessThan(400);
      expect(readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim()).toMatch(/^\d+$/);
      expect((await request(port, { auth: basic('prometheus', 'wrong') })).status).toBe(401);
    } finally {
      await daemon.stop();
      tmp.remove();
    }
  }, 60_000);
});

/** CPU time (user + system) of a process so far, in ms. */
function cpuMs(pid: number): number {
  return (parsePidStat(readFileSync(`/proc/${pid}/stat`, 'utf8')).cpuTicks * 1000) / CLOCK_TICKS;
}

function request(
  port: number,
  opts: { path?: string; auth?: string; accept?: string; tls?: { ca: Buffer; cert?: Buffer; key?: Buffer } } = {},
): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  const mod = opts.tls ? https : http;
  return new Promise((resolve, reject) => {
    const req = mod.get(
      {
        host: '127.0.0.1',
        port,
        path: opts.path ?? '/metrics',
        agent: false,
        timeout: 10_000,
        headers: { ...(opts.auth && { Authorization: opts.auth }), ...(opts.accept && { Accept: opts.accept }) },
        ...opts.tls,
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
      },
    );
    req.on('error', reject);
  });
}

const tick: Batch = {
  collection: 'c',
  timestamp: 1_700_000_000_000,
  points: [point('c.Dummy', 42)],
  sources: [
    {
      id: 'c.Dummy',
      collection: 'c',
      type: 'Dummy',
      state: 'probed',
      success: true,
      durationSeconds: 0.001,
      errorsTotal: 0,
      skippedTotal: 0,
      rejectedTotal: 0,
      consecutiveFailures: 0,
    },
  ],
};

describe.skipIf(!needs('openssl'))('the endpoint with basic auth and mutual TLS', () => {
  const tmp = tempDir('pollect-auth-');
  let ca: { key: string; cert: string };
  const started: PrometheusWriter[] = [];
  beforeAll(() => {
    ca = certificateAuthority(tmp.dir);
    signedBy(tmp.dir, ca, 'server');
    signedBy(tmp.dir, ca, 'client', { client: true });
    // A client certificate from another CA: refused too.
    signedBy(tmp.dir, certificateAuthority(tmp.dir, 'other-ca'), 'stranger', { client: true });
  });
  afterEach(async () => {
    while (started.length) await started.pop()!.stop();
  });
  afterAll(() => tmp.remove());

  async function start(params: Partial<PrometheusConfig>): Promise<PrometheusWriter> {
    const w = new PrometheusWriter(configFor(PrometheusWriter, { host: '127.0.0.1', port: 0, ...params }), pluginContext({ configDir: tmp.dir }));
    started.push(w);
    await w.start();
    w.write(tick);
    return w;
  }
  const file = (name: string): Buffer => readFileSync(path.join(tmp.dir, name));

  it('basic auth: 401 with a challenge without or with wrong credentials; health and readiness answer anyone', async () => {
    const w = await start({ basicAuthUsers: { prom: HASH } });
    for (const auth of [undefined, basic('prom', 'nope'), basic('nobody', 's3cret'), 'Bearer s3cret']) {
      const r = await request(w.port, { auth });
      expect(r.status, String(auth)).toBe(401);
      expect(r.headers['www-authenticate']).toBe('Basic realm="pollect", charset="UTF-8"');
      expect(r.body).not.toContain('c_Dummy');
    }
    // The status page and `/` are behind the password too.
    expect((await request(w.port, { path: '/', accept: 'text/html' })).status).toBe(401);
    expect((await request(w.port, { path: '/' })).status).toBe(401);
    const ok = await request(w.port, { auth: basic('prom', 's3cret') });
    expect(ok.status).toBe(200);
    expect(ok.body).toContain('c_Dummy 42');
    expect((await request(w.port, { path: '/', accept: 'text/html', auth: basic('prom', 's3cret') })).body).toContain('<title>pollect status</title>');
    expect((await request(w.port, { path: '/healthz' })).status).toBe(200);
    // Outside a daemon, ready once written to.
    expect((await request(w.port, { path: '/readyz' })).status).toBe(200);
  });

  it('mutual TLS: a client without a certificate, or with one another CA signed, cannot even connect', async () => {
    const w = await start({ tls: { key: 'server.key', cert: 'server.pem', clientCa: 'ca.pem' } });
    const caPem = file('ca.pem');
    const ok = await request(w.port, { tls: { ca: caPem, cert: file('client.pem'), key: file('client.key') } });
    expect(ok.status).toBe(200);
    expect(ok.body).toContain('c_Dummy 42');
    await expect(request(w.port, { tls: { ca: caPem } })).rejects.toThrow(/certificate required|handshake|socket hang up|ECONNRESET/i);
    await expect(request(w.port, { tls: { ca: caPem, cert: file('stranger.pem'), key: file('stranger.key') } })).rejects.toThrow(
      /unknown ca|handshake|socket hang up|ECONNRESET/i,
    );
    await expect(request(w.port, { path: '/healthz', tls: { ca: caPem } })).rejects.toThrow();
  });

  it('a clientCa that is not there or not a certificate is a param error', () => {
    const make = (clientCa: string) => () =>
      new PrometheusWriter(configFor(PrometheusWriter, { tls: { key: 'server.key', cert: 'server.pem', clientCa } }), pluginContext({ configDir: tmp.dir }));
    expect(make('missing.pem')).toThrow(/cannot read .*missing\.pem: no such file/);
    expect(make('server.key')).toThrow(/server\.key is not a PEM file with a certificate/);
  });

  it('pollect --check names the bad hash and the missing client CA by their config paths', async () => {
    const cfg = path.join(tmp.dir, 'check.json');
    writeFileSync(
      cfg,
      JSON.stringify({
        writers: [
          { type: 'Prometheus', basicAuthUsers: { prom: 'plaintext-password' } },
          { type: 'Prometheus', port: 9999, tls: { key: 'server.key', cert: 'server.pem', clientCa: 'nope/ca.pem' } },
        ],
        executors: [{ sources: [{ type: 'Dummy' }] }],
      }),
    );
    const r = await cli(['-c', cfg, '--check']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^ {2}writers\[0\]\.basicAuthUsers\.prom: not a bcrypt hash/m);
    expect(r.stderr).toMatch(/^ {2}writers\[1\]\.tls\.clientCa: cannot read .*nope\/ca\.pem: no such file$/m);
    // The hash itself never shows, whatever it is.
    expect(r.stderr).not.toContain('plaintext-password');
    writeFileSync(
      cfg,
      JSON.stringify({
        writers: [
          { type: 'Prometheus', basicAuthUsers: { prom: HASH } },
          { type: 'Prometheus', port: 9999, tls: { key: 'server.key', cert: 'server.pem', clientCa: 'ca.pem' } },
        ],
        executors: [{ sources: [{ type: 'Dummy' }] }],
      }),
    );
    expect((await cli(['-c', cfg, '--check'])).code).toBe(0);
  });
});

describe.skipIf(!needs('prometheus', 'openssl'))('a real Prometheus scrapes through basic auth and mutual TLS', () => {
  let server: Daemon | undefined;
  const tmp = tempDir('pollect-auth-prom-');
  const writers: PrometheusWriter[] = [];
  afterAll(async () => {
    await server?.stop();
    for (const w of writers) await w.stop();
    tmp.remove();
  });

  async function query(promPort: number, q: string): Promise<{ metric: Record<string, string>; value: [number, string] }[]> {
    const res = await fetch(`http://127.0.0.1:${promPort}/api/v1/query?query=${encodeURIComponent(q)}`, { signal: AbortSignal.timeout(5000) });
    const body = (await res.json()) as { status: string; data: { result: { metric: Record<string, string>; value: [number, string] }[] } };
    if (body.status !== 'success') throw new Error(`query ${q}: ${JSON.stringify(body)}`);
    return body.data.result;
  }

  it('the jobs with the right credentials are up (one scraping `/`) and their values arrive; the ones without are down', async () => {
    const ca = certificateAuthority(tmp.dir);
    signedBy(tmp.dir, ca, 'server');
    signedBy(tmp.dir, ca, 'client', { client: true });
    selfSigned(tmp.dir, { key: 'plain.key', cert: 'plain.pem' });
    const start = async (params: Partial<PrometheusConfig>): Promise<PrometheusWriter> => {
      const w = new PrometheusWriter(configFor(PrometheusWriter, { host: '127.0.0.1', port: 0, ...params }), pluginContext({ configDir: tmp.dir }));
      writers.push(w);
      await w.start();
      w.write(tick);
      return w;
    };
    // Cost 10 and the `$2y$` spelling, as `htpasswd -nBC 10` makes it.
    const hash = bcrypt.hashSync('scrape-pw', 10).replace(/^\$2b\$/, '$2y$');
    const withAuth = await start({ basicAuthUsers: { prometheus: hash } });
    const withMtls = await start({ tls: { key: 'server.key', cert: 'server.pem', clientCa: 'ca.pem' } });
    const d = tmp.dir;
    const job = (name: string, port: number, extra: string[]): string[] => [
      `  - job_name: ${name}`,
      ...extra.map((l) => `    ${l}`),
      '    static_configs:',
      `      - targets: ['127.0.0.1:${port}']`,
    ];
    const promPort = await freePort();
    writeFileSync(
      path.join(d, 'prometheus.yml'),
      [
        'global:',
        '  scrape_interval: 1s',
        '  scrape_timeout: 1s',
        'scrape_configs:',
        ...job('basic', withAuth.port, ['basic_auth:', '  username: prometheus', '  password: scrape-pw']),
        ...job('basic_wrong', withAuth.port, ['basic_auth:', '  username: prometheus', '  password: guess']),
        ...job('basic_none', withAuth.port, []),
        // The Python pollect served every path: a job scraping `/` keeps working.
        ...job('root', withAuth.port, ['metrics_path: /', 'basic_auth:', '  username: prometheus', '  password: scrape-pw']),
        ...job('mtls', withMtls.port, [
          'scheme: https',
          'tls_config:',
          `  ca_file: ${path.join(d, 'ca.pem')}`,
          `  cert_file: ${path.join(d, 'client.pem')}`,
          `  key_file: ${path.join(d, 'client.key')}`,
        ]),
        ...job('mtls_nocert', withMtls.port, ['scheme: https', 'tls_config:', `  ca_file: ${path.join(d, 'ca.pem')}`]),
        // A certificate the endpoint's CA did not sign.
        ...job('mtls_stranger', withMtls.port, [
          'scheme: https',
          'tls_config:',
          `  ca_file: ${path.join(d, 'ca.pem')}`,
          `  cert_file: ${path.join(d, 'plain.pem')}`,
          `  key_file: ${path.join(d, 'plain.key')}`,
        ]),
        '',
      ].join('\n'),
    );
    server = spawnDaemon('prometheus', [
      `--config.file=${path.join(d, 'prometheus.yml')}`,
      `--storage.tsdb.path=${path.join(d, 'data')}`,
      `--web.listen-address=127.0.0.1:${promPort}`,
      '--log.level=warn',
    ]);
    await waitForPort(promPort);
    const jobs = ['basic', 'basic_wrong', 'basic_none', 'root', 'mtls', 'mtls_nocert', 'mtls_stranger'];
    const end = Date.now() + 30_000;
    let up: Record<string, string> = {};
    while (Date.now() < end) {
      try {
        up = Object.fromEntries((await query(promPort, 'up')).map((r) => [r.metric.job!, r.value[1]]));
      } catch {
        // not ready yet
      }
      // A first scrape may time out on a busy machine (bcrypt takes ~0.1 s of CPU): wait for the good jobs to be up.
      if (jobs.every((j) => j in up) && up.basic === '1' && up.root === '1' && up.mtls === '1') break;
      await new Promise((r) => setTimeout(r, 250));
    }
    expect(up, server.output().slice(-2000)).toEqual({
      basic: '1',
      basic_wrong: '0',
      basic_none: '0',
      root: '1',
      mtls: '1',
      mtls_nocert: '0',
      mtls_stranger: '0',
    });
    const values = await query(promPort, 'c_Dummy');
    expect(values.map((r) => [r.metric.job, r.value[1]]).sort()).toEqual([
      ['basic', '42'],
      ['mtls', '42'],
      ['root', '42'],
    ]);
  }, 90_000);
});
