// Side by side with the Python pollect: both run the same config (only their ports differ) against
// the same local services, both are scraped, and every family and label set the Python pollect
// serves must be in this project's exposition with a value that agrees (live figures within a
// tolerance). Differences the migration guide documents are listed, not counted as failures.
//
//   npm run build
//   node bench/side-by-side.mjs --python-src DIR    # DIR: a checkout of davidgiga1993/pollect
//
// Needs: /usr/bin/python3 with the Debian packages python3-prometheus-client, python3-psutil,
// python3-yaml, python3-requests, python3-schedule, python3-gevent, python3-openssl; named, dig,
// snmpd, snmpget and openssl. The services: an HTTP and an HTTPS server and a TCP listener (here),
// snmpd on a loopback port, two named (a resolver forwarding to an authoritative one, with its
// statistics channel), and stand-ins for smartctl and sensors (the Python pollect's own test data,
// first on PATH). HttpIngress gets the same pushes on both. Exit 0: nothing missing or different
// beyond the documented differences.
import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import dgram from 'node:dgram';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from './net.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const opt = (name) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const pythonSrc = opt('--python-src') ?? process.env.POLLECT_PY_SRC;
if (!pythonSrc) {
  console.error('usage: node bench/side-by-side.mjs --python-src DIR (a checkout of github.com/davidgiga1993/pollect)');
  process.exit(2);
}
const PYTHON = '/usr/bin/python3';
const TICK = 2;
const FIXTURES = process.env.POLLECT_FIXTURES ?? path.resolve(root, '../shared/fixtures');
const pyTests = path.join(FIXTURES, 'pollect-tests');
const tmp = mkdtempSync(path.join(os.tmpdir(), 'pollect-sbs-'));
const children = [];
const servers = [];

// ---------------------------------------------------------------- helpers

function freeUdpPort() {
  return new Promise((resolve, reject) => {
    const s = dgram.createSocket('udp4');
    s.on('error', reject);
    s.bind(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

function start(name, file, argv, env = {}) {
  const child = spawn(file, argv, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  children.push(child);
  return { child, output: () => out, name };
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function waitFor(what, fn, ms = 20_000) {
  const until = Date.now() + ms;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch {
      // not yet
    }
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await sleep(200);
  }
}

function listen(server) {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server.address().port)));
}

async function get(url) {
  const res = await fetch(url);
  return res.text();
}

/** A Prometheus text exposition: family -> labels key -> value. */
export function parseExposition(text) {
  const out = new Map();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)/.exec(line);
    if (!m) continue;
    const labels = {};
    const re = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;
    for (let l; (l = re.exec(m[3] ?? '')); ) labels[l[1]] = l[2].replace(/\\n/g, '\n').replace(/\\"/g, '"').replace(/\\\\/g, '\\');
    const key = JSON.stringify(Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : 1)));
    if (!out.has(m[1])) out.set(m[1], new Map());
    out.get(m[1]).set(key, Number(m[4]));
  }
  return out;
}

// ---------------------------------------------------------------- services

async function services() {
  // HTTP: /ok and /fail; HTTPS with a self-signed certificate of 30 days.
  const web = http.createServer((req, res) => res.writeHead(req.url === '/fail' ? 500 : 200).end('ok'));
  servers.push(web);
  const webPort = await listen(web);
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-keyout',
      'k.pem',
      '-out',
      'c.pem',
      '-days',
      '30',
      '-subj',
      '/CN=localhost',
    ],
    {
      cwd: tmp,
      stdio: 'pipe',
    },
  );
  const tls = https.createServer({ key: readFileSync(path.join(tmp, 'k.pem')), cert: readFileSync(path.join(tmp, 'c.pem')) }, (_q, res) => res.end('ok'));
  servers.push(tls);
  const tlsPort = await listen(tls);
  const tcp = net.createServer((s) => s.destroy());
  servers.push(tcp);
  const tcpPort = await listen(tcp);

  // snmpd: fixed values, a range and string labels.
  const snmpDir = path.join(tmp, 'snmp');
  mkdirSync(path.join(snmpDir, 'nomibs'), { recursive: true });
  const B = '1.3.6.1.4.1.99999';
  writeFileSync(
    path.join(snmpDir, 'snmpd.conf'),
    [
      'rocommunity public 127.0.0.1',
      `override .${B}.1.1.0 integer 42`,
      `override .${B}.1.2.0 counter 4000000000`,
      `override .${B}.2.1 unsigned 10`,
      `override .${B}.2.2 unsigned 20`,
      `override .${B}.3.1 octet_str "port-1"`,
      `override .${B}.3.2 octet_str "port-2"`,
      '',
    ].join('\n'),
  );
  const snmpPort = await freeUdpPort();
  const snmpEnv = { MIBS: '', MIBDIRS: path.join(snmpDir, 'nomibs'), SNMP_PERSISTENT_DIR: path.join(snmpDir, 'persist'), SNMPCONFPATH: snmpDir };
  const snmpd = start('snmpd', 'snmpd', ['-f', '-Lo', '-C', '-c', path.join(snmpDir, 'snmpd.conf'), `udp:127.0.0.1:${snmpPort}`], snmpEnv);
  await waitFor('snmpd', () =>
    execFileSync('snmpget', ['-v1', '-c', 'public', '-r', '0', '-t', '1', `127.0.0.1:${snmpPort}`, `${B}.1.1.0`], {
      env: { ...process.env, ...snmpEnv },
      stdio: 'pipe',
    }),
  );

  // Two named: an authoritative one, and a resolver (view _default) forwarding to it.
  const dnsPort = await freePort();
  const authPort = await freePort();
  const statsPort = await freePort();
  const zone = (o, rr) => `$TTL 3600\n@ IN SOA ns.${o}. admin.${o}. 1 3600 600 86400 300\n@ IN NS ns.${o}.\nns IN A 127.0.0.1\n${rr}\n`;
  const conf = (dir, body) => {
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, 'named.conf'), body);
    return path.join(dir, 'named.conf');
  };
  const authDir = path.join(tmp, 'auth');
  const mainDir = path.join(tmp, 'main');
  const hosts = Array.from({ length: 8 }, (_, i) => `h${i} IN A 192.0.2.${i + 1}\nt${i} IN TXT "t${i}"`).join('\n');
  const authConf = conf(
    authDir,
    `options { directory "${authDir}"; pid-file "${authDir}/named.pid"; session-keyfile "${authDir}/s.key";
  listen-on port ${authPort} { 127.0.0.1; }; listen-on-v6 { none; }; recursion no; dnssec-validation no; };
controls { };
zone "fwd.test" { type primary; file "${authDir}/fwd.zone"; };
`,
  );
  writeFileSync(path.join(authDir, 'fwd.zone'), zone('fwd.test', hosts));
  const mainConf = conf(
    mainDir,
    `options { directory "${mainDir}"; pid-file "${mainDir}/named.pid"; session-keyfile "${mainDir}/s.key";
  listen-on port ${dnsPort} { 127.0.0.1; }; listen-on-v6 { none; }; dnssec-validation no;
  allow-query { 127.0.0.1; }; allow-recursion { 127.0.0.1; }; recursion yes; };
controls { };
statistics-channels { inet 127.0.0.1 port ${statsPort} allow { 127.0.0.1; }; };
zone "fwd.test" { type forward; forward only; forwarders { 127.0.0.1 port ${authPort}; }; };
`,
  );
  start('named (auth)', 'named', ['-g', '-c', authConf]);
  start('named', 'named', ['-g', '-c', mainConf]);
  await waitFor('named statistics', () => get(`http://127.0.0.1:${statsPort}/`));
  for (let i = 0; i < 8; i++) {
    for (const t of ['A', 'TXT'])
      execFileSync('dig', ['+short', '+tries=1', '+time=2', '-p', String(dnsPort), '@127.0.0.1', `${t === 'A' ? 'h' : 't'}${i}.fwd.test`, t], {
        stdio: 'pipe',
      });
  }
  execFileSync('dig', ['+short', '+tries=1', '+time=2', '-p', String(dnsPort), '@127.0.0.1', 'nothere.fwd.test', 'A'], { stdio: 'pipe' });

  // smartctl and sensors stand-ins: the Python pollect's own test data.
  const bin = path.join(tmp, 'bin');
  mkdirSync(bin);
  const script = (name, body) => {
    writeFileSync(path.join(bin, name), `#!/bin/sh\n${body}\n`);
    chmodSync(path.join(bin, name), 0o755);
  };
  script(
    'smartctl',
    `if [ "$1" = "--scan" ]; then echo '{"devices":[{"name":"/dev/null","type":"nvme"}]}'; exit 0; fi\ncat '${path.join(pyTests, 'nvme.json')}'`,
  );
  const out = /OUT = '''([\s\S]*?)'''/.exec(readFileSync(path.join(pyTests, 'tests', 'test_SensorsSource.py'), 'utf8'))[1];
  writeFileSync(path.join(tmp, 'sensors.txt'), out);
  // An lm-sensors without -j, as the one the Python test captured.
  script('sensors', `if [ "$1" = "-j" ]; then echo "sensors: invalid option -- 'j'" >&2; exit 1; fi\ncat '${path.join(tmp, 'sensors.txt')}'`);

  return { webPort, tlsPort, tcpPort, snmpPort, snmpEnv, statsPort, bin, snmpd: snmpd.child.pid };
}

// ---------------------------------------------------------------- the config

function config(s, promPort, ingressPort) {
  const B = 'iso.3.6.1.4.1.99999';
  return {
    tickTime: TICK,
    writer: { type: 'Prometheus', port: promPort },
    executors: [
      {
        collection: 'pollect',
        sources: [
          { type: 'LoadAvg' },
          { type: 'MemoryUsage' },
          { type: 'DiskUsage', disks: ['/'] },
          { type: 'Process', name: 'snmpd', procRegex: `snmpd -f -Lo -C -c ${tmp}` },
          { type: 'Interface', include: ['lo'], exclude: [] },
          { type: 'IO', include: [], exclude: [] },
          { type: 'Http', name: 'web', url: [`http://127.0.0.1:${s.webPort}/ok`, `http://127.0.0.1:${s.webPort}/fail`] },
          { type: 'TcpTime', name: 'tcp', host: '127.0.0.1', port: s.tcpPort },
          { type: 'Certificate', name: 'cert', url: `https://127.0.0.1:${s.tlsPort}` },
          {
            type: 'SnmpGet',
            name: 'agent',
            host: `127.0.0.1:${s.snmpPort}`,
            communityString: 'public',
            metrics: [
              { name: 'integer', oid: `${B}.1.1.0` },
              { name: 'counter_rate', oid: `${B}.1.2.0`, mode: 'rate' },
              { name: 'port_value', oid: `${B}.2.\${if}`, range: { from: 1, to: 2, label: 'if' }, oidLabels: { port: `${B}.3.\${if}` } },
            ],
          },
          { type: 'Bind', url: `http://127.0.0.1:${s.statsPort}/`, views: ['_default'] },
          { type: 'SmartCtl', attributes: [], devices: ['null$'] },
          { type: 'Sensors', include: [], exclude: [] },
          { type: 'HttpIngress', name: 'Ingress', port: ingressPort, metrics: { sample_metric: { type: 'counter', labels: ['host'] } } },
          { type: 'Dummy', value: 3 },
        ],
      },
    ],
  };
}

// ---------------------------------------------------------------- comparison

/** How far a value of this project may be from the Python pollect's, by family. */
function tolerance(family, labels) {
  if (/_LoadAvg$/.test(family)) return { abs: 2 };
  if (/_MemoryUsage$/.test(family)) return { abs: 64 * 2 ** 20 };
  if (/_DiskUsage$/.test(family)) return { abs: 256 * 2 ** 20 };
  if (/_(Interface|IO)_/.test(family)) return { abs: 5e6, rel: 1 };
  if (/_Process_.*_load_percent$/.test(family)) return { abs: 100 };
  if (/_Process_.*_memory$/.test(family)) return { rel: 0.05 };
  if (/_(Http|TcpTime)_/.test(family) && !/status|success/.test(family)) return { abs: 1000, failureExact: true };
  if (/_Certificate_/.test(family)) return { abs: 1 };
  if (/_Bind_.*_per_sec$/.test(family)) return { abs: 5 };
  if (/_Bind_/.test(family) && labels.includes('"a"')) return { abs: 10 };
  return { rel: 1e-9, abs: 1e-9 };
}

function agrees(family, labels, py, ours) {
  const t = tolerance(family, labels);
  if (t.failureExact && (py >= 5000 || ours >= 5000)) return py === ours;
  const diff = Math.abs(py - ours);
  return diff <= (t.abs ?? 0) || diff <= Math.abs(py) * (t.rel ?? 0);
}

/** Differences docs/migrating-from-python-pollect.md explains: family pattern -> why. */
const DOCUMENTED = [[/^pollect_HttpIngress_Ingress$/, 'HttpIngress: one family per metric here (pollect_HttpIngress_Ingress_sample_metric)']];

function compare(pyText, ourText) {
  const py = parseExposition(pyText);
  const ours = parseExposition(ourText);
  const missing = [];
  const differing = [];
  const documented = [];
  let checked = 0;
  for (const [family, series] of py) {
    if (/^(python|process)_/.test(family)) continue; // prometheus_client's own collectors
    const why = DOCUMENTED.find(([re]) => re.test(family))?.[1];
    for (const [labels, value] of series) {
      checked++;
      const mine = ours.get(family)?.get(labels);
      const where = `${family}${labels === '[]' ? '' : labels}`;
      if (mine === undefined) (why ? documented : missing).push(why ? `${where}: ${why}` : where);
      else if (!agrees(family, labels, value, mine)) (why ? documented : differing).push(`${where}: python ${value}, here ${mine}${why ? `: ${why}` : ''}`);
    }
  }
  return { checked, missing, differing, documented };
}

// ---------------------------------------------------------------- run

async function main() {
  const s = await services();
  const [pyProm, ourProm, pyIngress, ourIngress] = await Promise.all([freePort(), freePort(), freePort(), freePort()]);
  writeFileSync(path.join(tmp, 'python.json'), JSON.stringify(config(s, pyProm, pyIngress), null, 2));
  writeFileSync(path.join(tmp, 'pollect.json'), JSON.stringify(config(s, ourProm, ourIngress), null, 2));
  const env = { PATH: `${s.bin}:${process.env.PATH}`, ...s.snmpEnv };
  const py = start('python pollect', PYTHON, [path.join(pythonSrc, 'pollect.py'), '-c', path.join(tmp, 'python.json')], env);
  const ours = start('pollect', process.execPath, [path.join(root, 'bin/pollect.js'), '-c', path.join(tmp, 'pollect.json'), '--log-level', 'warning'], env);
  await waitFor('the Python pollect', () => get(`http://127.0.0.1:${pyProm}/`), 30_000).catch((e) => {
    throw new Error(`${e.message}\n${py.output().slice(-3000)}`);
  });
  await waitFor('pollect', () => get(`http://127.0.0.1:${ourProm}/metrics`), 30_000).catch((e) => {
    throw new Error(`${e.message}\n${ours.output().slice(-3000)}`);
  });
  // The same pushes to both receivers.
  for (const [host, value] of [
    ['a', 1],
    ['a', 2],
    ['b', 5],
  ]) {
    for (const [port, who] of [
      [pyIngress, py],
      [ourIngress, ours],
    ]) {
      const push = () =>
        fetch(`http://127.0.0.1:${port}/`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ metrics: { sample_metric: { value, labels: { host } } } }),
        }).then((res) => res.ok);
      await waitFor(`a push to the HttpIngress of ${who.name}`, push).catch((e) => {
        throw new Error(`${e.message}\n${who.output().slice(-3000)}`);
      });
    }
  }
  // Rates need two probes; leave both a few ticks.
  await sleep(TICK * 3 * 1000 + 500);
  const [pyText, ourText] = await Promise.all([get(`http://127.0.0.1:${pyProm}/`), get(`http://127.0.0.1:${ourProm}/metrics`)]);
  writeFileSync(path.join(tmp, 'python.prom'), pyText);
  writeFileSync(path.join(tmp, 'pollect.prom'), ourText);
  const r = compare(pyText, ourText);
  console.log(`side by side: ${r.checked} series of the Python pollect checked${args.includes('--keep') ? ` (configs and expositions in ${tmp})` : ''}`);
  const bySource = (list) => list.map((l) => `  ${l}`).join('\n');
  if (r.missing.length) console.log(`missing here (${r.missing.length}):\n${bySource(r.missing)}`);
  if (r.differing.length) console.log(`values that differ (${r.differing.length}):\n${bySource(r.differing)}`);
  if (r.documented.length) console.log(`documented differences (${r.documented.length}):\n${bySource(r.documented)}`);
  const sources = [...new Set([...parseExposition(pyText).keys()].filter((f) => f.startsWith('pollect_')).map((f) => f.split('_')[1]))];
  console.log(`Python sources served: ${sources.sort().join(', ')}`);
  return r.missing.length === 0 && r.differing.length === 0 ? 0 : 1;
}

let code = 1;
try {
  code = await main();
} catch (err) {
  console.error(err instanceof Error ? err.message : err);
} finally {
  for (const c of children) c.kill('SIGTERM');
  for (const s of servers) {
    s.closeAllConnections?.();
    s.close();
  }
  await sleep(500);
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  if (!args.includes('--keep')) rmSync(tmp, { recursive: true, force: true });
}
process.exit(code);
