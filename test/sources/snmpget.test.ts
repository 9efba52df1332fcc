// SnmpGet against a real Net-SNMP snmpd started here on a free loopback UDP port, compared with
// the snmpget command's answers for the same OIDs; plus hostile fake agents over real UDP.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import dgram from 'node:dgram';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { SnmpGetSource, type SnmpGetConfig } from '../../src/sources/snmpget/index.js';
import { expandMetrics, normalizeOid } from '../../src/sources/snmpget/oids.js';
import { parseAgent } from '../../src/sources/snmpget/agent.js';
import { messageSize } from '../../src/sources/snmpget/tcp.js';
import { decodeOpaqueFloat, toSnmpValue, T } from '../../src/sources/snmpget/values.js';
import { RateTracker } from '../../src/sdk/rate.js';
import { ParamError, SourceError } from '../../src/sdk/index.js';
import { createLogger } from '../../src/log.js';
import { freePort, spawnDaemon, tempDir, type Daemon } from '../helpers/net.js';
import { probeOnce, valueOf } from '../helpers/probe.js';
import { needs } from '../helpers/servers.js';
import { build, type Params } from '../helpers/plugin.js';

const COMMUNITY = 'c0mmunity-s3cret';
const V3_USER = 'pollectv3';
const AUTH_PASS = 'auth-phrase-9d2f';
const PRIV_PASS = 'priv-phrase-7c1a';
const BASE = '1.3.6.1.4.1.99999';
const IF_HC_IN_OCTETS_LO = '1.3.6.1.2.1.31.1.1.1.6.1'; // Counter64 of the loopback interface
const IF_DESCR_1 = '1.3.6.1.2.1.2.2.1.2.1';

function freeUdpPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = dgram.createSocket('udp4');
    s.on('error', reject);
    s.bind(0, '127.0.0.1', () => {
      const port = s.address().port;
      s.close(() => resolve(port));
    });
  });
}

const tmp = tempDir('pollect-snmpd-');
const env = { ...process.env, MIBS: '', MIBDIRS: path.join(tmp.dir, 'nomibs'), SNMP_PERSISTENT_DIR: path.join(tmp.dir, 'persist'), SNMPCONFPATH: tmp.dir };
let port = 0;
let tcpPort = 0;
let snmpd: Daemon;
const counterFile = path.join(tmp.dir, 'c32');

/** `snmpget` (Net-SNMP's command) for the same OIDs: { oid: [type, value] }. */
function snmpget(args: string[], oids: string[]): Record<string, [string, string]> {
  const out = execFileSync('snmpget', ['-On', '-Ot', '-Oe', '-r', '1', '-t', '2', ...args, `127.0.0.1:${port}`, ...oids], { env, encoding: 'utf8' });
  const res: Record<string, [string, string]> = {};
  for (const line of out.split('\n')) {
    const m = /^\.?([\d.]+) = (?:([\w-]+): )?(.*)$/.exec(line);
    if (m) res[m[1]!] = [m[2] ?? '', m[3]!.replace(/^"|"$/g, '')];
  }
  return res;
}
const haveSnmpd = needs('snmpd', 'snmpget');
const v2cArgs = ['-v2c', '-c', COMMUNITY];
const v3Args = ['-v3', '-l', 'authPriv', '-u', V3_USER, '-a', 'SHA', '-A', AUTH_PASS, '-x', 'AES', '-X', PRIV_PASS];

beforeAll(async () => {
  if (!haveSnmpd) return;
  mkdirSync(env.MIBDIRS, { recursive: true });
  const pass = path.join(tmp.dir, 'pass.sh');
  // A pass script: a Counter32 read from a file the test writes, a gauge table 1..3 and its names.
  writeFileSync(
    pass,
    `#!/bin/sh
[ "$1" = "-g" ] || exit 0
case "$2" in
  .${BASE}.3.1|.${BASE}.3.2|.${BASE}.3.3) echo "$2"; echo gauge; echo $(( \${2##*.} * 10 )) ;;
  .${BASE}.4.1|.${BASE}.4.2|.${BASE}.4.3) echo "$2"; echo string; echo "port-\${2##*.}" ;;
  .${BASE}.6.1) echo "$2"; echo string; echo "12.5" ;;
esac
`,
  );
  chmodSync(pass, 0o755);
  // pass output is cached by snmpd for 30 s; pass_persist is asked every time: the changing counter.
  const persist = path.join(tmp.dir, 'persist.sh');
  writeFileSync(
    persist,
    `#!/bin/sh
while read -r cmd; do
  case "$cmd" in
    PING) echo PONG ;;
    get) read -r oid
      if [ "$oid" = ".${BASE}.2.1" ]; then echo "$oid"; echo counter; cat '${counterFile}'; else echo NONE; fi ;;
    getnext) read -r oid; echo NONE ;;
    set) read -r oid; read -r val; echo not-writable ;;
    *) exit 0 ;;
  esac
done
`,
  );
  chmodSync(persist, 0o755);
  writeFileSync(counterFile, '4294967290\n');
  const big = Array.from({ length: 70 }, (_, i) => `override .${BASE}.5.${i + 1}.0 octet_str "${'x'.repeat(1000)}"`).join('\n');
  const conf = path.join(tmp.dir, 'snmpd.conf');
  writeFileSync(
    conf,
    `rocommunity ${COMMUNITY} 127.0.0.1
createUser ${V3_USER} SHA "${AUTH_PASS}" AES "${PRIV_PASS}"
createUser ${V3_USER}b SHA-256 "${AUTH_PASS}" AES-256 "${PRIV_PASS}"
rouser ${V3_USER}b priv
rouser ${V3_USER} priv
override .${BASE}.1.1.0 integer 42
override .${BASE}.1.2.0 counter 4000000000
override .${BASE}.1.3.0 octet_str "hello"
override .${BASE}.1.4.0 unsigned 123456
pass_persist .${BASE}.2 ${persist}
pass .${BASE}.3 ${pass}
pass .${BASE}.4 ${pass}
pass .${BASE}.6 ${pass}
${big}
`,
  );
  port = await freeUdpPort();
  tcpPort = await freePort();
  snmpd = spawnDaemon('snmpd', ['-f', '-Lo', '-C', '-c', conf, `udp:127.0.0.1:${port},tcp:127.0.0.1:${tcpPort}`], { env });
  // Ready when snmpget gets an answer (bounded).
  for (let i = 0; ; i++) {
    try {
      snmpget(v2cArgs, [`${BASE}.1.1.0`]);
      break;
    } catch {
      if (i > 50 || snmpd.child.exitCode !== null) throw new Error(`snmpd did not start: ${snmpd.output()}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }
});

afterAll(async () => {
  await snmpd?.stop();
  tmp.remove();
});

function source(extra: Params<SnmpGetConfig> & Pick<Params<SnmpGetConfig>, 'metrics'>): SnmpGetSource {
  return build(SnmpGetSource, { type: 'SnmpGet', host: '127.0.0.1', port, communityString: COMMUNITY, snmpVersion: '2c', ...extra });
}

function debugLog(): { lines: string[]; log: ReturnType<typeof createLogger> } {
  const lines: string[] = [];
  return { lines, log: createLogger('snmp', { level: 'debug', write: (l) => lines.push(l) }) };
}

describe.skipIf(!haveSnmpd)('SnmpGet against a real snmpd', () => {
  const scalarMetrics = [
    { name: 'integer', oid: `iso.3.6.1.4.1.99999.1.1.0` },
    { name: 'counter', oid: `.${BASE}.1.2.0` },
    { name: 'gauge', oid: `${BASE}.1.4.0` },
    { name: 'passgauge', oid: `${BASE}.3.2` },
    { name: 'numericString', oid: `${BASE}.6.1` },
    { name: 'lo_in', oid: IF_HC_IN_OCTETS_LO, oidLabels: { ifname: IF_DESCR_1 } },
  ];

  it('v2c values match snmpget for the same OIDs', async () => {
    const samples = await probeOnce(source({ metrics: scalarMetrics }));
    const ref = snmpget(v2cArgs, [`${BASE}.1.1.0`, `${BASE}.1.2.0`, `${BASE}.1.4.0`, `${BASE}.3.2`, `${BASE}.6.1`, IF_HC_IN_OCTETS_LO, IF_DESCR_1]);
    expect(ref[`${BASE}.1.1.0`]).toEqual(['INTEGER', '42']);
    expect(valueOf(samples, 'integer')).toBe(Number(ref[`${BASE}.1.1.0`]![1]));
    expect(ref[`${BASE}.1.2.0`]![0]).toBe('Counter32');
    expect(valueOf(samples, 'counter')).toBe(Number(ref[`${BASE}.1.2.0`]![1]));
    expect(valueOf(samples, 'gauge')).toBe(Number(ref[`${BASE}.1.4.0`]![1]));
    expect(valueOf(samples, 'passgauge')).toBe(Number(ref[`${BASE}.3.2`]![1]));
    expect(valueOf(samples, 'numericString')).toBe(Number(ref[`${BASE}.6.1`]![1]));
    // Counter64 of lo: snmpget asked a moment later, so it saw as many octets or more.
    expect(ref[IF_HC_IN_OCTETS_LO]![0]).toBe('Counter64');
    const lo = valueOf(samples, 'lo_in', { ifname: ref[IF_DESCR_1]![1] });
    expect(lo).toBeGreaterThan(0);
    expect(lo).toBeLessThanOrEqual(Number(ref[IF_HC_IN_OCTETS_LO]![1]));
    expect(Number(ref[IF_HC_IN_OCTETS_LO]![1]) - lo).toBeLessThan(10_000_000);
  });

  it('v3 authPriv (SHA/AES) reads the same values as v2c and as snmpget -v3', async () => {
    const v3 = build(SnmpGetSource, {
      type: 'SnmpGet',
      host: '127.0.0.1',
      port,
      snmpVersion: 3,
      username: V3_USER,
      authPassPhrase: AUTH_PASS,
      authProtocol: 'SHA',
      privacyPassPhrase: PRIV_PASS,
      privacyProtocol: 'AES',
      metrics: scalarMetrics.slice(0, 5),
    });
    const s3 = await probeOnce(v3);
    const ref = snmpget(v3Args, [`${BASE}.1.1.0`, `${BASE}.1.2.0`, `${BASE}.1.4.0`]);
    expect(valueOf(s3, 'integer')).toBe(Number(ref[`${BASE}.1.1.0`]![1]));
    expect(valueOf(s3, 'counter')).toBe(Number(ref[`${BASE}.1.2.0`]![1]));
    expect(valueOf(s3, 'gauge')).toBe(Number(ref[`${BASE}.1.4.0`]![1]));
    const s2 = await probeOnce(source({ metrics: scalarMetrics.slice(0, 5) }));
    expect(s3.map((s) => [s.name, s.value])).toEqual(s2.map((s) => [s.name, s.value]));
    // A second probe reuses the session (engine already discovered).
    expect(valueOf(await probeOnce(v3), 'integer')).toBe(42);
    v3.shutdown();
  });

  it("snmpget's agent addresses: host:port, udp:, tcp: (RFC 3430 framing over one connection)", async () => {
    const metrics = scalarMetrics.slice(0, 2);
    const expected = (await probeOnce(source({ metrics }))).map((s) => [s.name, s.value]);
    for (const host of [`127.0.0.1:${port}`, `udp:127.0.0.1:${port}`, `tcp:127.0.0.1:${tcpPort}`, `TCP:localhost:${tcpPort}`]) {
      const src = build(SnmpGetSource, { type: 'SnmpGet', host, communityString: COMMUNITY, snmpVersion: '2c', metrics });
      expect(
        (await probeOnce(src)).map((s) => [s.name, s.value]),
        host,
      ).toEqual(expected);
      // The second probe goes over the same session (and TCP connection).
      expect(valueOf(await probeOnce(src), 'integer'), host).toBe(42);
      src.shutdown();
    }
  });

  it("v3 with net-snmp's spellings SHA-256 and AES-256 (Blumenthal), as snmpget -a SHA-256 -x AES-256", async () => {
    const v3 = build(SnmpGetSource, {
      type: 'SnmpGet',
      host: `127.0.0.1:${port}`,
      snmpVersion: 3,
      username: `${V3_USER}b`,
      authPassPhrase: AUTH_PASS,
      authProtocol: 'SHA-256',
      privacyPassPhrase: PRIV_PASS,
      privacyProtocol: 'AES-256',
      metrics: scalarMetrics.slice(0, 1),
    });
    const ref = snmpget(['-v3', '-l', 'authPriv', '-u', `${V3_USER}b`, '-a', 'SHA-256', '-A', AUTH_PASS, '-x', 'AES-256', '-X', PRIV_PASS], [`${BASE}.1.1.0`]);
    expect(ref[`${BASE}.1.1.0`]).toEqual(['INTEGER', '42']);
    expect(valueOf(await probeOnce(v3), 'integer')).toBe(42);
    v3.shutdown();
  });

  it('v1 with a missing OID among others: the rest is read (noSuchName handled)', async () => {
    const v1 = source({
      snmpVersion: 1,
      metrics: [
        { name: 'a', oid: `${BASE}.1.1.0` },
        { name: 'gone', oid: `${BASE}.9.9.0` },
        { name: 'b', oid: `${BASE}.1.4.0` },
      ],
    });
    const samples = await probeOnce(v1);
    expect(samples.map((s) => s.name).sort()).toEqual(['a', 'b']);
    expect(valueOf(samples, 'b')).toBe(123456);
  });

  it('range with oidLabels (pollect snippet 02 semantics); missing indexes are skipped', async () => {
    const { lines, log } = debugLog();
    const src = source({
      metrics: [{ name: 'port_value', oid: `${BASE}.3.\${if}`, range: { from: 1, to: 4, label: 'if' }, oidLabels: { port: `${BASE}.4.\${if}` } }],
    });
    const samples = await src.probe({
      signal: AbortSignal.timeout(10_000),
      timeoutMs: 10_000,
      tickTime: 10,
      log,
      reportProblem: () => {},
      notify: () => {},
      wants: () => true,
    });
    const ref = snmpget(v2cArgs, [`${BASE}.3.1`, `${BASE}.3.2`, `${BASE}.3.3`, `${BASE}.4.2`]);
    expect(samples).toEqual(
      [1, 2, 3].map((i) => ({
        name: 'port_value',
        value: Number(ref[`${BASE}.3.${i}`]![1]),
        labels: { if: String(i), port: `port-${i}` },
      })),
    );
    expect(ref[`${BASE}.4.2`]![1]).toBe('port-2');
    expect(lines.join('\n')).toMatch(/skipped 1 OID.*99999\.3\.4 \(noSuchInstance\)/);
  });

  it("pollect.json's `oids` list is summed", async () => {
    const samples = await probeOnce(source({ metrics: [{ name: 'sum', oids: [`${BASE}.3.1`, `${BASE}.3.2`, `iso.3.6.1.4.1.99999.3.3`] }] }));
    expect(samples).toEqual([{ name: 'sum', value: 10 + 20 + 30 }]);
  });

  it('rate: the first probe primes every OID; Counter32 wrap; Counter64 of lo', async () => {
    writeFileSync(counterFile, '4294967290\n');
    const src = source({
      metrics: [
        { name: 'wrapping', oid: `${BASE}.2.1`, mode: 'rate' },
        { name: 'lo_rate', oid: IF_HC_IN_OCTETS_LO, mode: 'rate' },
      ],
    });
    const t0 = performance.now();
    const primed = await probeOnce(src, { naming: 'all' });
    const t1 = performance.now();
    // Nothing for pollect's names yet; the counters themselves for Prometheus'.
    expect(primed.filter((x) => x.naming !== 'prometheus')).toEqual([]);
    expect(primed.find((x) => x.name === 'wrapping')).toEqual({ name: 'wrapping', value: 4294967290, type: 'counter', naming: 'prometheus' });
    writeFileSync(counterFile, '10\n'); // wrapped: 6 to the top, then 10 more
    await new Promise((r) => setTimeout(r, 300));
    const t2 = performance.now();
    const second = await probeOnce(src);
    const t3 = performance.now();
    const wrapped = valueOf(second, 'wrapping');
    const delta = 2 ** 32 - 4294967290 + 10;
    expect(wrapped).toBeGreaterThanOrEqual(delta / ((t3 - t0) / 1000));
    expect(wrapped).toBeLessThanOrEqual(delta / ((t2 - t1) / 1000));
    expect(valueOf(second, 'lo_rate')).toBeGreaterThanOrEqual(0);
    // Prometheus takes the wrap for a counter reset, as for any exporter's Counter32.
    expect(valueOf(await probeOnce(src, { naming: 'prometheus' }), 'wrapping')).toBe(10);
  });

  it('rate of a real Counter64 (ifHCInOctets of lo) matches the change snmpget sees', async () => {
    const src = source({
      metrics: [
        { name: 'lo_rate', oid: IF_HC_IN_OCTETS_LO, mode: 'rate', unit: 'bytes' },
        { name: 'lo_raw', oid: IF_HC_IN_OCTETS_LO, unit: 'bytes' },
      ],
    });
    const t0 = performance.now();
    const first = await probeOnce(src);
    const t1 = performance.now();
    expect(first.map((x) => x.name)).toEqual(['lo_raw']);
    const before = valueOf(first, 'lo_raw');
    // snmpd caches the interface table for a few seconds: wait (bounded) until snmpget sees it move.
    for (let i = 0; i < 150 && Number(snmpget(v2cArgs, [IF_HC_IN_OCTETS_LO])[IF_HC_IN_OCTETS_LO]![1]) === before; i++) {
      await new Promise((r) => setTimeout(r, 100));
    }
    const t2 = performance.now();
    const second = await probeOnce(src);
    const t3 = performance.now();
    const after = valueOf(second, 'lo_raw');
    expect(after).toBeGreaterThan(before); // our own SNMP packets cross lo
    const rate = valueOf(second, 'lo_rate');
    // The configured unit is declared, per second for the rate.
    expect(second.map((x) => [x.name, x.unit])).toEqual([
      ['lo_rate', 'bytes/s'],
      ['lo_raw', 'bytes'],
    ]);
    expect(rate).toBeGreaterThanOrEqual((after - before) / ((t3 - t0) / 1000));
    expect(rate).toBeLessThanOrEqual((after - before) / ((t2 - t1) / 1000));
  });

  it('all OIDs go in as few GETs as maxVarbinds allows', async () => {
    const { lines, log } = debugLog();
    const src = source({ maxVarbinds: 50, metrics: [{ name: 'v', oid: `${BASE}.1.\${i}.0`, range: { from: 1, to: 120, label: 'i' } }] });
    const samples = await src.probe({
      signal: AbortSignal.timeout(10_000),
      timeoutMs: 10_000,
      tickTime: 10,
      log,
      reportProblem: () => {},
      notify: () => {},
      wants: () => true,
    });
    expect(samples.map((x) => x.labels?.i)).toEqual(['1', '2', '4']); // .1.1.0 to .1.4.0 exist; .1.3.0 is text
    expect(lines.join('\n')).toContain('120 OIDs in 3 GET request(s)');
  });

  it('tooBig from the agent splits the request', async () => {
    const { lines, log } = debugLog();
    const labels = Object.fromEntries(Array.from({ length: 70 }, (_, i) => [`l${i + 1}`, `${BASE}.5.${i + 1}.0`]));
    const src = build(SnmpGetSource, {
      type: 'SnmpGet',
      host: '127.0.0.1',
      port,
      snmpVersion: '3',
      username: V3_USER,
      authPassPhrase: AUTH_PASS,
      privacyPassPhrase: PRIV_PASS,
      maxVarbinds: 200,
      metrics: [{ name: 'x', oid: `${BASE}.1.1.0`, oidLabels: labels }],
    });
    const samples = await src.probe({
      signal: AbortSignal.timeout(15_000),
      timeoutMs: 15_000,
      tickTime: 10,
      log,
      reportProblem: () => {},
      notify: () => {},
      wants: () => true,
    });
    expect(samples).toHaveLength(1);
    expect(samples[0]!.labels!['l70']).toBe('x'.repeat(1000));
    expect(lines.join('\n')).toContain('71 OIDs in 3 GET request(s)');
    src.shutdown();
  });

  it('wrong community: a timeout error that does not show the community', async () => {
    const secret = 'wr0ng-community-xyz';
    const src = source({ communityString: secret, retries: 0, metrics: [{ name: 'a', oid: `${BASE}.1.1.0` }] });
    const err = await probeOnce(src, { timeoutMs: 600 }).catch((e: Error) => e);
    expect(err).toBeInstanceOf(SourceError);
    expect((err as Error).message).toMatch(/no answer after 1 tries of 540 ms \(wrong community string, or no agent\)/);
    expect((err as Error).message).not.toContain(secret);
  });

  it('v3 wrong pass phrase: an authentication error without the secret', async () => {
    const wrong = 'not-the-auth-phrase-42';
    const src = build(SnmpGetSource, {
      type: 'SnmpGet',
      host: '127.0.0.1',
      port,
      snmpVersion: 3,
      username: V3_USER,
      authPassPhrase: wrong,
      privacyPassPhrase: PRIV_PASS,
      metrics: [{ name: 'a', oid: `${BASE}.1.1.0` }],
    });
    const err = await probeOnce(src, { timeoutMs: 3000 }).catch((e: Error) => e);
    expect(err).toBeInstanceOf(SourceError);
    expect((err as Error).message).toMatch(/SNMPv3 authentication failed for user "pollectv3": Wrong Digest/);
    for (const s of [wrong, PRIV_PASS, AUTH_PASS]) expect((err as Error).message).not.toContain(s);
  });

  it('only missing OIDs: a clear error', async () => {
    const src = source({
      metrics: [
        { name: 'a', oid: `${BASE}.9.1.0` },
        { name: 'b', oid: `${BASE}.1.3.0` },
      ],
    });
    const err = await probeOnce(src).catch((e: Error) => e);
    expect(err).toBeInstanceOf(SourceError);
    expect((err as Error).message).toContain('none of the 2 OIDs has a numeric value: 1.3.6.1.4.1.99999.9.1.0 (noSuchObject)');
    expect((err as Error).message).toContain('1.3.6.1.4.1.99999.1.3.0 (OctetString "hello" is not a number)');
  });
});

describe('SnmpGet against hostile agents', () => {
  const servers: dgram.Socket[] = [];
  afterAll(() => servers.forEach((s) => s.close()));
  async function fakeAgent(reply: ((msg: Buffer) => Buffer | undefined) | undefined): Promise<number> {
    const s = dgram.createSocket('udp4');
    servers.push(s);
    s.on('message', (msg, rinfo) => {
      const out = reply?.(msg);
      if (out) s.send(out, rinfo.port, rinfo.address);
    });
    await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
    return s.address().port;
  }
  const cfg = (p: number): Params<SnmpGetConfig> => ({
    host: '127.0.0.1',
    port: p,
    snmpVersion: '2c',
    retries: 0,
    metrics: [{ name: 'a', oid: '1.3.6.1.2.1.1.3.0' }],
  });

  it('an agent that never answers: timeout error', async () => {
    const p = await fakeAgent(undefined);
    // The abort comes later than the budget here: this is the source's own timeout, not the race with the abort.
    await expect(probeOnce(build(SnmpGetSource, cfg(p)), { timeoutMs: 400, signal: AbortSignal.timeout(2000) })).rejects.toThrow(/no answer after 1 tries/);
  });

  it('garbage and a huge garbage datagram: a SourceError, no crash', async () => {
    const p = await fakeAgent(() => Buffer.from('<html>500 Internal Server Error</html>'));
    const err = await probeOnce(build(SnmpGetSource, cfg(p)), { timeoutMs: 400, signal: AbortSignal.timeout(2000) }).catch((e: Error) => e);
    expect(err).toBeInstanceOf(SourceError);
    expect((err as Error).message).toMatch(/invalid packet/);
    const p2 = await fakeAgent(() => Buffer.alloc(60_000, 0x30));
    await expect(probeOnce(build(SnmpGetSource, cfg(p2)), { timeoutMs: 400 })).rejects.toThrow(SourceError);
  });

  it("the probe's abort signal ends a pending request at once", async () => {
    const p = await fakeAgent(undefined);
    const src = build(SnmpGetSource, { ...cfg(p), retries: 5 });
    const started = Date.now();
    const err = await probeOnce(src, { timeoutMs: 10_000, signal: AbortSignal.timeout(200) }).catch((e: Error) => e);
    expect((err as Error).message).toMatch(/within the probe timeout/);
    expect(Date.now() - started).toBeLessThan(2000);
  });
});

describe('SnmpGet config and values', () => {
  it('normalizes OIDs and rejects names', () => {
    expect(normalizeOid('iso.3.6.1.2.1.1.3.0', 'x')).toBe('1.3.6.1.2.1.1.3.0');
    expect(normalizeOid('.1.3.6.1', 'x')).toBe('1.3.6.1');
    expect(() => normalizeOid('sysUpTime.0', 'x')).toThrow(/not a numeric OID/);
  });

  it('expands the snippet 02 range', () => {
    const s = expandMetrics([{ name: 'interface_link_state', oid: 'iso.3.6.1.2.1.2.2.1.5.${if}', range: { from: 1, to: 10, label: 'if' } }]);
    expect(s).toHaveLength(10);
    expect(s[9]).toEqual({ metric: 'interface_link_state', rate: false, oids: ['1.3.6.1.2.1.2.2.1.5.10'], labels: { if: '10' }, labelOids: [] });
    expect(s[9]!.unit).toBeUndefined();
    // A rate without a unit is still per second.
    expect(expandMetrics([{ name: 'x', oid: '1.3.6.1', mode: 'rate' }])[0]!.unit).toBe('/s');
    expect(() => expandMetrics([{ name: 'x', oid: '1.3.6.1', range: { from: 1, to: 2, label: 'if' } }])).toThrow(/no oid contains/);
    expect(() => expandMetrics([{ name: 'x', oid: '1.3.${i}', range: { from: 1, to: 1e6, label: 'i' } }])).toThrow(/larger than/);
  });

  it('config mistakes are config errors at construction, named by param (pollect --check finds them)', () => {
    const base = { type: 'SnmpGet', host: '127.0.0.1', metrics: [{ name: 'a', oid: '1.3.6.1' }] };
    const make = (c: object): SnmpGetSource => build(SnmpGetSource, { ...base, ...c });
    expect(() => make({ snmpVersion: 4 })).toThrow(/snmpVersion: must be an integer, or a string/);
    expect(() => make({ snmpVersion: '2d' })).toThrow(/snmpVersion: must be/);
    expect(() => make({ snmpVersion: 3 })).toThrow(/username: is required/);
    // pollect's README snippet says privacyProtocol SHA, which is no cipher.
    expect(() => make({ snmpVersion: 3, username: 'u', authPassPhrase: 'abcdefgh', privacyPassPhrase: 'abcdefgh', privacyProtocol: 'SHA' })).toThrow(
      /privacyProtocol: must be one of "DES", "AES", "AES128", "AES-128", "AES256", "AES-256", "AES256B", "AES256C", "AES-256-C", "AES256R"/,
    );
    expect(() => make({ snmpVersion: 3, username: 'u', privacyPassPhrase: 'abcdefgh' })).toThrow(/must have property authPassPhrase/);
    const paramError = (c: object): ParamError => {
      try {
        make(c);
      } catch (err) {
        if (err instanceof ParamError) return err;
        throw err;
      }
      throw new Error('no ParamError');
    };
    expect(paramError({ metrics: [{ name: 'x' }] })).toMatchObject({ param: 'metrics[0]', message: '(x) needs "oid" or "oids"' });
    expect(
      paramError({
        metrics: [
          { name: 'a', oid: '1.3.6.1' },
          { name: 'x', oid: 'sysDescr.0' },
        ],
      }).param,
    ).toBe('metrics[1].oid');
    expect(paramError({ host: 'http://agent' }).param).toBe('host');
    expect(paramError({ host: 'agent:70000' }).message).toMatch(/port 70000 is not 1-65535/);
    expect(paramError({ host: 'udp6:10.0.0.1' }).message).toMatch(/IPv6 transport with an IPv4 address/);
    // The Python pollect's mode: anything but rate is the raw value.
    expect(() => make({ metrics: [{ name: 'a', oid: '1.3.6.1', mode: 'absolute' }] })).not.toThrow();
    expect(() => make({ snmpVersion: '2c' })).not.toThrow();
  });

  it("parses snmpget's agent address forms", () => {
    expect(parseAgent('host', '10.1.100.1')).toEqual({ transport: 'udp4', host: '10.1.100.1', port: undefined });
    expect(parseAgent('host', '127.0.0.1:16100')).toEqual({ transport: 'udp4', host: '127.0.0.1', port: 16100 });
    expect(parseAgent('host', 'udp6:[::1]:161')).toEqual({ transport: 'udp6', host: '::1', port: 161 });
    expect(parseAgent('host', 'udp6:switch.local')).toEqual({ transport: 'udp6', host: 'switch.local', port: undefined });
    expect(parseAgent('host', 'fe80::1')).toEqual({ transport: 'udp6', host: 'fe80::1', port: undefined });
    expect(parseAgent('host', '[fe80::1]:1161')).toEqual({ transport: 'udp6', host: 'fe80::1', port: 1161 });
    expect(parseAgent('host', 'tcp:agent:1161')).toEqual({ transport: 'tcp4', host: 'agent', port: 1161 });
    expect(parseAgent('host', 'tcp6:[::1]')).toEqual({ transport: 'tcp6', host: '::1', port: undefined });
    expect(parseAgent('host', 'udpipv6:[::1]:1')).toMatchObject({ transport: 'udp6' });
    expect(() => parseAgent('host', '[10.0.0.1]:1')).toThrow(/only an IPv6 address goes in brackets/);
    expect(() => parseAgent('host', 'a b')).toThrow(/not an agent address/);
  });

  it('cuts a TCP stream into BER messages by their length', () => {
    expect(messageSize(Buffer.from([0x30]))).toBeUndefined();
    expect(messageSize(Buffer.from([0x30, 0x05]))).toBe(7);
    expect(messageSize(Buffer.from([0x30, 0x82, 0x01]))).toBeUndefined();
    expect(messageSize(Buffer.from([0x30, 0x82, 0x01, 0x00]))).toBe(4 + 256);
    expect(messageSize(Buffer.from('HTTP/1.1 400'))).toBe(-1);
    expect(messageSize(Buffer.from([0x30, 0x85, 1, 1, 1, 1, 1]))).toBe(-1);
  });

  it('Counter64 values stay exact and wrap at 2^64', () => {
    const v = toSnmpValue(T.Counter64, Buffer.from('fffffffffffffff0', 'hex'));
    expect(v).toEqual({ kind: 'number', value: 2n ** 64n - 16n, type: T.Counter64 });
    const r = new RateTracker();
    expect(r.rate('k', 2n ** 64n - 16n, 0, { wrap: 2n ** 64n })).toBeUndefined();
    expect(r.rate('k', 16n, 2000, { wrap: 2n ** 64n })).toBe(16);
    expect(toSnmpValue(T.NoSuchInstance, null)).toEqual({ kind: 'missing', why: 'noSuchInstance' });
    expect(decodeOpaqueFloat(Buffer.from([0x9f, 0x78, 0x04, 0x3f, 0xc0, 0x00, 0x00]))).toBe(1.5);
  });
});
