// Benchmark of the SnmpGet source (run `npm run build` first): starts its own snmpd on a free
// loopback UDP port (temp config, BENCH_OIDS integer/counter OIDs, default 1000), then times
// BENCH_PROBES probes (default 50) of one source reading all of them: wall and CPU time per probe
// and GET requests per probe; for comparison, the Python pollect's way (one snmpget process per
// 128 OIDs) for the same OIDs.
import { execFileSync, spawn } from 'node:child_process';
import dgram from 'node:dgram';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { SnmpGetSource } = await import(join(root, 'dist/sources/snmpget/index.js'));
const { buildSource } = await import(join(root, 'dist/config/build.js'));
const n = Number(process.env.BENCH_OIDS ?? 1000);
const probes = Number(process.env.BENCH_PROBES ?? 50);
const BASE = '1.3.6.1.4.1.99999.7';

const port = await new Promise((resolve) => {
  const s = dgram.createSocket('udp4');
  s.bind(0, '127.0.0.1', () => {
    const p = s.address().port;
    s.close(() => resolve(p));
  });
});
const dir = mkdtempSync(join(tmpdir(), 'pollect-bench-snmp-'));
mkdirSync(join(dir, 'nomibs'));
const env = { ...process.env, MIBS: '', MIBDIRS: join(dir, 'nomibs'), SNMP_PERSISTENT_DIR: join(dir, 'persist') };
const lines = ['rocommunity benchcomm 127.0.0.1'];
for (let i = 1; i <= n; i++) lines.push(`override .${BASE}.${i}.0 ${i % 2 ? 'integer' : 'counter'} ${i * 7}`);
writeFileSync(join(dir, 'snmpd.conf'), lines.join('\n') + '\n');
const snmpd = spawn('snmpd', ['-f', '-Lo', '-C', '-c', join(dir, 'snmpd.conf'), `udp:127.0.0.1:${port}`], { env, stdio: 'ignore' });
try {
  for (let i = 0; ; i++) {
    try {
      execFileSync('snmpget', ['-v2c', '-c', 'benchcomm', '-r0', '-t1', `127.0.0.1:${port}`, `${BASE}.1.0`], { env, stdio: 'ignore' });
      break;
    } catch {
      if (i > 50) throw new Error('snmpd did not start');
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  let requests = 0;
  const log = {
    error() {},
    warn() {},
    info() {},
    child() {
      return log;
    },
    debug(m) {
      const r = /in (\d+) GET/.exec(m);
      if (r) requests = Number(r[1]);
    },
  };
  const src = await buildSource(SnmpGetSource, {
    type: 'SnmpGet',
    host: '127.0.0.1',
    port,
    snmpVersion: '2c',
    communityString: 'benchcomm',
    metrics: [{ name: 'v', oid: `${BASE}.$\{i}.0`, range: { from: 1, to: n, label: 'i' } }],
  });
  const ctx = () => ({ signal: AbortSignal.timeout(10_000), timeoutMs: 10_000, tickTime: 10, log });
  const first = await src.probe(ctx());
  if (first.length !== n) throw new Error(`expected ${n} samples, got ${first.length}`);
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < probes; i++) await src.probe(ctx());
  const wallMs = Number(process.hrtime.bigint() - t0) / 1e6;
  const cpu = process.cpuUsage(cpu0);
  src.shutdown();
  console.log(
    `SnmpGet, ${n} OIDs (v2c, maxVarbinds 50): ${(wallMs / probes).toFixed(1)} ms per probe, ` +
      `${((cpu.user + cpu.system) / 1000 / probes).toFixed(1)} ms CPU per probe in pollect's process, ${requests} GET requests per probe`,
  );

  // The Python pollect ran `snmpget` once per 128 OIDs and parsed its text.
  const oids = Array.from({ length: n }, (_, i) => `${BASE}.${i + 1}.0`);
  const rounds = Math.max(1, Math.floor(probes / 5));
  const t1 = process.hrtime.bigint();
  for (let r = 0; r < rounds; r++) {
    for (let i = 0; i < oids.length; i += 128) {
      execFileSync('snmpget', ['-v2c', '-c', 'benchcomm', `127.0.0.1:${port}`, ...oids.slice(i, i + 128)], { env, stdio: ['ignore', 'pipe', 'ignore'] });
    }
  }
  const cliMs = Number(process.hrtime.bigint() - t1) / 1e6 / rounds;
  console.log(`snmpget processes, ${Math.ceil(n / 128)} per probe as the Python pollect: ${cliMs.toFixed(1)} ms per probe`);
} finally {
  snmpd.kill('SIGTERM');
  rmSync(dir, { recursive: true, force: true });
}
