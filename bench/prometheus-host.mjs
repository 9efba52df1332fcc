// bench:host with the Prometheus writer, against node_exporter, in one run. Three processes run
// side by side, so the machine's load weighs on all of them alike:
//  - pollect with the sample config's host sources (the first executor of pollect.json) at
//    tickTime 1, serving them with the Prometheus writer;
//  - the same daemon with one Dummy source instead (the baseline: the process, not the sources);
//  - node_exporter with the same collectors (cpu, meminfo, loadavg, filesystem, netdev, diskstats).
// After BENCH_WARMUP seconds (default 5, scraped), nobody scrapes for BENCH_IDLE seconds (default
// 20): CPU and wake-ups per tick when idle. Then each endpoint is scraped once a second, as
// Prometheus would (its Accept header, gzip, a kept-alive connection), for BENCH_SECONDS (default
// 30): CPU per tick or per scrape. Peak RSS (VmHWM) is read at the end.
// Targets (issue 10): pollect scraped costs no more CPU than node_exporter scraped, at most 5
// wake-ups per tick when idle, peak RSS at most 50 MB.
// NODE_EXPORTER names the binary (default prometheus-node-exporter, Debian's name).
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import { spawn } from 'node:child_process';
import { mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readConfigFile } from '../dist/config/parse.js';
import { mb, perUnit, sleep, statCpuMs, statusBytes, threads } from './procstat.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const warmup = Number(process.env.BENCH_WARMUP ?? 5);
const idleSeconds = Number(process.env.BENCH_IDLE ?? 20);
const scrapedSeconds = Number(process.env.BENCH_SECONDS ?? 30);
const exporterBin = process.env.NODE_EXPORTER ?? 'prometheus-node-exporter';
const COLLECTORS = ['cpu', 'meminfo', 'loadavg', 'filesystem', 'netdev', 'diskstats'];
// What Prometheus 2.x sends.
const SCRAPE_HEADERS = {
  Accept: 'application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1',
  'Accept-Encoding': 'gzip',
};

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

async function waitForPort(port, proc) {
  for (let i = 0; i < 200; i++) {
    if (proc.exited) throw new Error(`${proc.label} exited at start:\n${proc.output()}`);
    const ok = await new Promise((resolve) => {
      const s = net.connect(port, '127.0.0.1');
      s.once('connect', () => (s.destroy(), resolve(true)));
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    await sleep(100);
  }
  throw new Error(`${proc.label}: nothing listens on port ${port}`);
}

function start(label, file, args, cwd) {
  const devnull = openSync('/dev/null', 'w');
  const child = spawn(file, args, { cwd, stdio: ['ignore', devnull, 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr = (stderr + d).slice(-4000)));
  const proc = { label, child, pid: child.pid, exited: false, output: () => stderr };
  child.on('exit', () => (proc.exited = true));
  child.on('error', (err) => {
    proc.exited = true;
    stderr += String(err);
  });
  return proc;
}

async function startPollect(label, sources, dir) {
  const port = await freePort();
  const cfgFile = join(dir, `${label}.json`);
  const config = { tickTime: 1, writers: [{ type: 'Prometheus', host: '127.0.0.1', port }], executors: [{ collection: 'pollect', sources }] };
  writeFileSync(cfgFile, JSON.stringify(config, null, 2));
  const proc = start(label, process.execPath, [join(root, 'bin', 'pollect.js'), '-c', cfgFile, '--log-level', 'warn'], dir);
  await waitForPort(port, proc);
  return { ...proc, port };
}

async function startExporter() {
  const port = await freePort();
  const args = [`--web.listen-address=127.0.0.1:${port}`, '--collector.disable-defaults', ...COLLECTORS.map((c) => `--collector.${c}`), '--log.level=warn'];
  const proc = start('node_exporter', exporterBin, args, tmpdir());
  await waitForPort(port, proc);
  return { ...proc, port };
}

/** One scrape as Prometheus does it; resolves with the compressed size. */
function scrape(target) {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port: target.port, path: '/metrics', headers: SCRAPE_HEADERS, agent: target.agent }, (res) => {
      let bytes = 0;
      res.on('data', (c) => (bytes += c.length));
      res.on('end', () => (res.statusCode === 200 ? resolve(bytes) : reject(new Error(`${target.label}: HTTP ${res.statusCode}`))));
      res.on('error', reject);
    });
    req.setTimeout(5000, () => req.destroy(new Error(`${target.label}: scrape timed out`)));
    req.on('error', reject);
  });
}

/** Scrapes every target once a second for `seconds`; returns scrapes per target. */
async function scrapeLoop(targets, seconds) {
  const end = performance.now() + seconds * 1000;
  let next = performance.now();
  while (next < end) {
    for (const t of targets) {
      t.bytes = await scrape(t);
      t.scrapes++;
    }
    next += 1000;
    await sleep(Math.max(0, next - performance.now()));
  }
}

const dir = mkdtempSync(join(tmpdir(), 'pollect-bench-prom-host-'));
const sample = await readConfigFile(join(root, 'pollect.json'));
const hostSources = sample.executors[0].sources;
const procs = [];
try {
  const host = await startPollect('pollect', hostSources, dir);
  procs.push(host);
  const base = await startPollect('dummy', [{ type: 'Dummy' }], dir);
  procs.push(base);
  const exporter = await startExporter();
  procs.push(exporter);
  for (const p of procs) {
    p.agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    p.scrapes = 0;
  }

  // Warm-up, scraped: start-up, the first ticks and the first scrapes are not counted.
  await scrapeLoop(procs, warmup);

  const read = () => procs.map((p) => ({ t: performance.now(), threads: threads(p.pid), stat: statCpuMs(p.pid), scrapes: p.scrapes }));
  const idle0 = read();
  await sleep(idleSeconds * 1000);
  const idle1 = read();
  await scrapeLoop(procs, scrapedSeconds);
  const busy1 = read();
  for (const p of procs) if (p.exited) throw new Error(`${p.label} exited:\n${p.output()}`);
  const hwm = procs.map((p) => statusBytes(p.pid, 'VmHWM'));

  const phase = (a, b, i) => {
    const seconds = (b[i].t - a[i].t) / 1000;
    const scrapes = b[i].scrapes - a[i].scrapes;
    const per = (n) => ({ ...perUnit(a[i].threads, b[i].threads, n), stat: (b[i].stat - a[i].stat) / n });
    return { seconds, scrapes, perSecond: per(seconds), perScrape: scrapes ? per(scrapes) : undefined };
  };
  const [h, d, e] = procs.map((p, i) => ({ p, idle: phase(idle0, idle1, i), busy: phase(idle1, busy1, i), hwm: hwm[i], bytes: p.bytes }));

  const f = (x) => x.toFixed(2).padStart(6);
  const line = (x) =>
    `${f(x.cpu)} ms CPU (main thread ${f(x.main.cpu)}, others ${f(x.others.cpu)}; utime+stime ${f(x.stat)}), ${f(x.wakeups)} wake-ups (main thread ${f(x.main.wakeups)}, others ${f(x.others.wakeups)})`;
  console.log(`bench:prometheus-host: ${hostSources.map((s) => s.type).join(', ')} (pollect.json) at tickTime 1, node ${process.version}`);
  console.log(`  ${Math.round(h.idle.seconds)} s idle, then ${Math.round(h.busy.seconds)} s scraped once a second (${h.busy.scrapes} scrapes each, gzip), after ${warmup} s of warm-up`);
  console.log(`  pollect, host sources, idle     per tick:   ${line(h.idle.perSecond)}`);
  console.log(`  pollect, host sources, scraped  per tick:   ${line(h.busy.perSecond)}`);
  console.log(`  pollect, one Dummy, idle        per tick:   ${line(d.idle.perSecond)}`);
  console.log(`  pollect, one Dummy, scraped     per tick:   ${line(d.busy.perSecond)}`);
  console.log(`  node_exporter, idle             per second: ${line(e.idle.perSecond)}`);
  console.log(`  node_exporter, scraped          per scrape: ${line(e.busy.perScrape)}`);
  console.log(`  node_exporter collectors: ${COLLECTORS.join(', ')}`);
  console.log(`  scrape size (gzip): pollect ${h.bytes} B, dummy ${d.bytes} B, node_exporter ${e.bytes} B`);
  console.log(`  peak RSS (VmHWM): pollect ${mb(h.hwm)} MB, dummy ${mb(d.hwm)} MB, node_exporter ${mb(e.hwm)} MB`);
  console.log(`  host sources' share, scraped: ${(h.busy.perSecond.cpu - d.busy.perSecond.cpu).toFixed(2)} ms per tick, ${mb(h.hwm - d.hwm)} MB peak RSS`);
  const pollectCpu = h.busy.perSecond.cpu;
  const exporterCpu = e.busy.perScrape.cpu;
  const idleWakeups = h.idle.perSecond.wakeups;
  const targets = [
    [`pollect scraped ${pollectCpu.toFixed(2)} ms per tick <= node_exporter ${exporterCpu.toFixed(2)} ms per scrape`, pollectCpu <= exporterCpu],
    [`${idleWakeups.toFixed(1)} wake-ups per tick when idle <= 5`, idleWakeups <= 5],
    [`peak RSS ${mb(h.hwm)} MB <= 50 MB`, h.hwm <= 50 * 1024 * 1024],
  ];
  for (const [what, ok] of targets) console.log(`  target: ${what}: ${ok ? 'met' : 'MISSED'}`);
  console.log(`  load average at the end: ${os.loadavg().map((x) => x.toFixed(2)).join(' ')} on ${os.cpus().length} CPUs`);
} finally {
  for (const p of procs) if (!p.exited) p.child.kill('SIGTERM');
  await sleep(500);
  for (const p of procs) if (!p.exited) p.child.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
}
process.exit(0);
