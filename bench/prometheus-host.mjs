// bench:host with the Prometheus writer, against node_exporter, in one run. Four processes run
// side by side, so the machine's load weighs on all of them alike:
//  - pollect with the sample config's host sources (the first executor of pollect.json) at
//    tickTime 1, serving them with the Prometheus writer;
//  - the same without Process, whose cost grows with the processes the machine starts (each new
//    one is read once): the sources node_exporter's collectors match;
//  - the same daemon with one Dummy source instead (the baseline: the process, not the sources);
//  - node_exporter with the same collectors (cpu, meminfo, loadavg, filesystem, netdev, diskstats).
// After BENCH_WARMUP seconds (default 5, scraped), blocks of 5 s in which nobody scrapes alternate
// with blocks in which each endpoint is scraped once a second, as Prometheus would (its Accept
// header, gzip, a kept-alive connection), for BENCH_SECONDS (default 60) in all; alternating keeps
// the machine's other load from favouring either kind. Printed: CPU and wake-ups per tick idle and
// scraped, per scrape for node_exporter, and peak RSS (VmHWM) at the end.
// Targets (issue 10): pollect scraped costs no more CPU than node_exporter scraped, at most 5
// wake-ups per tick when idle, peak RSS at most 50 MB.
// NODE_EXPORTER names the binary (default prometheus-node-exporter, Debian's name).
// With --node (npm run bench:prometheus-node): the `node` naming instead, with the sources that
// stand in for node_exporter's collectors (LoadAvg, MemoryUsage, DiskUsage, Cpu, Interface, IO,
// Host system), against node_exporter with those collectors (cpu, meminfo, loadavg, filesystem,
// netdev, diskstats, stat, time, uname) and upstream's default filters, so both serve the same
// series; no "without Process" run.
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
import { freePort } from './net.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const warmup = Number(process.env.BENCH_WARMUP ?? 5);
const seconds = Number(process.env.BENCH_SECONDS ?? 60);
const BLOCK = 5;
const exporterBin = process.env.NODE_EXPORTER ?? 'prometheus-node-exporter';
const nodeMode = process.argv.includes('--node');
const COLLECTORS = nodeMode
  ? ['cpu', 'meminfo', 'loadavg', 'filesystem', 'netdev', 'diskstats', 'stat', 'time', 'uname']
  : ['cpu', 'meminfo', 'loadavg', 'filesystem', 'netdev', 'diskstats'];
/** node_exporter's upstream default filters (Debian's build changes some), which the node naming follows. */
const UPSTREAM_FLAGS = [
  '--collector.filesystem.mount-points-exclude=^/(dev|proc|run/credentials/.+|sys|var/lib/docker/.+|var/lib/containers/storage/.+)($|/)',
  '--collector.filesystem.fs-types-exclude=^(autofs|binfmt_misc|bpf|cgroup2?|configfs|debugfs|devpts|devtmpfs|fusectl|hugetlbfs|iso9660|mqueue|nsfs|overlay|proc|procfs|pstore|rpc_pipefs|securityfs|selinuxfs|squashfs|erofs|sysfs|tracefs)$',
  '--collector.diskstats.device-exclude=^(z?ram|loop|fd|(h|s|v|xv)d[a-z]|nvme\\d+n\\d+p)\\d+$',
  '--collector.netdev.device-exclude=',
];
const NODE_SOURCES = [
  { type: 'LoadAvg' },
  { type: 'MemoryUsage' },
  { type: 'DiskUsage' },
  { type: 'Cpu' },
  { type: 'Interface' },
  { type: 'IO' },
  { type: 'Host', metrics: ['system'] },
];
// What Prometheus 2.x sends.
const SCRAPE_HEADERS = {
  Accept: 'application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1',
  'Accept-Encoding': 'gzip',
};

async function waitForPort(port, proc) {
  for (let i = 0; i < 200; i++) {
    if (proc.exited) throw new Error(`${proc.label} exited at start:\n${proc.output()}`);
    const ok = await new Promise((resolve) => {
      const s = net.connect(port, '127.0.0.1');
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
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
  const writer = { type: 'Prometheus', host: '127.0.0.1', port, ...(nodeMode ? { naming: 'node' } : {}) };
  const config = { tickTime: 1, writers: [writer], executors: [{ collection: 'pollect', sources }] };
  writeFileSync(cfgFile, JSON.stringify(config, null, 2));
  const proc = start(label, process.execPath, [join(root, 'bin', 'pollect.js'), '-c', cfgFile, '--log-level', 'warn'], dir);
  await waitForPort(port, proc);
  return { ...proc, port };
}

async function startExporter() {
  const port = await freePort();
  const args = [
    `--web.listen-address=127.0.0.1:${port}`,
    '--collector.disable-defaults',
    ...COLLECTORS.map((c) => `--collector.${c}`),
    ...(nodeMode ? UPSTREAM_FLAGS : []),
    '--log.level=warn',
  ];
  const proc = start('node_exporter', exporterBin, args, tmpdir());
  await waitForPort(port, proc);
  return { ...proc, port };
}

/**
 * One scrape as Prometheus does it; resolves with the compressed size. A kept-alive socket the
 * server closed just as the request went out (its keep-alive timeout is the idle block's length)
 * is retried once on a new one, as Node's documentation advises.
 */
function scrape(target, retried = false) {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port: target.port, path: '/metrics', headers: SCRAPE_HEADERS, agent: target.agent }, (res) => {
      let bytes = 0;
      res.on('data', (c) => (bytes += c.length));
      res.on('end', () => (res.statusCode === 200 ? resolve(bytes) : reject(new Error(`${target.label}: HTTP ${res.statusCode}`))));
      res.on('error', reject);
    });
    req.setTimeout(5000, () => req.destroy(new Error(`${target.label}: scrape timed out`)));
    req.on('error', (err) => (req.reusedSocket && err.code === 'ECONNRESET' && !retried ? scrape(target, true).then(resolve, reject) : reject(err)));
  });
}

/** Scrapes every target once a second for `seconds`. */
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

/** Sums, per process, the threads() differences over the blocks of one kind. */
function tally(procs) {
  const zero = () => ({ main: { cpu: 0, wakeups: 0 }, others: { cpu: 0, wakeups: 0 } });
  const sums = procs.map(() => ({ seconds: 0, scrapes: 0, stat: 0, threads: zero() }));
  let start;
  const read = () => procs.map((p) => ({ t: performance.now(), threads: threads(p.pid), stat: statCpuMs(p.pid), scrapes: p.scrapes }));
  return {
    begin: () => (start = read()),
    end: () => {
      read().forEach((b, i) => {
        const a = start[i];
        const sum = sums[i];
        sum.seconds += (b.t - a.t) / 1000;
        sum.scrapes += b.scrapes - a.scrapes;
        sum.stat += b.stat - a.stat;
        for (const k of ['main', 'others']) for (const f of ['cpu', 'wakeups']) sum.threads[k][f] += b.threads[k][f] - a.threads[k][f];
      });
    },
    /** Per process: per second, and per scrape when there were scrapes. */
    result: () =>
      sums.map((sum) => {
        const per = (n) => ({ ...perUnit(zero(), sum.threads, n), stat: sum.stat / n });
        return { seconds: sum.seconds, scrapes: sum.scrapes, perSecond: per(sum.seconds), perScrape: sum.scrapes ? per(sum.scrapes) : undefined };
      }),
  };
}

const dir = mkdtempSync(join(tmpdir(), 'pollect-bench-prom-host-'));
const sample = await readConfigFile(join(root, 'pollect.json'));
const hostSources = nodeMode ? NODE_SOURCES : sample.executors[0].sources;
const procs = [];
try {
  procs.push(await startPollect(nodeMode ? 'pollect (node naming)' : 'pollect', hostSources, dir));
  if (!nodeMode) {
    procs.push(
      await startPollect(
        'pollect without Process',
        hostSources.filter((s) => s.type !== 'Process'),
        dir,
      ),
    );
  }
  procs.push(await startPollect('dummy', [{ type: 'Dummy' }], dir));
  procs.push(await startExporter());
  for (const p of procs) {
    p.agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    p.scrapes = 0;
  }

  // Warm-up, scraped: start-up, the first ticks and the first scrapes are not counted.
  await scrapeLoop(procs, warmup);
  const idle = tally(procs);
  const scraped = tally(procs);
  for (let t = 0; t < seconds; t += 2 * BLOCK) {
    idle.begin();
    await sleep(BLOCK * 1000);
    idle.end();
    scraped.begin();
    await scrapeLoop(procs, BLOCK);
    scraped.end();
  }
  for (const p of procs) if (p.exited) throw new Error(`${p.label} exited:\n${p.output()}`);
  const hwm = procs.map((p) => statusBytes(p.pid, 'VmHWM'));
  const idleR = idle.result();
  const scrapedR = scraped.result();
  const all = procs.map((p, i) => ({ label: p.label, idle: idleR[i], busy: scrapedR[i], hwm: hwm[i], bytes: p.bytes }));
  const [h, n, d, e] = nodeMode ? [all[0], undefined, all[1], all[2]] : all;

  const f = (x) => x.toFixed(2).padStart(6);
  const line = (x) =>
    `${f(x.cpu)} ms CPU (main thread ${f(x.main.cpu)}, others ${f(x.others.cpu)}; utime+stime ${f(x.stat)}), ${f(x.wakeups)} wake-ups (main thread ${f(x.main.wakeups)}, others ${f(x.others.wakeups)})`;
  const what = nodeMode ? 'naming node' : 'pollect.json';
  console.log(`bench:prometheus-host: ${hostSources.map((s) => s.type).join(', ')} (${what}) at tickTime 1, node ${process.version}`);
  console.log(
    `  ${Math.round(h.idle.seconds)} s idle and ${Math.round(h.busy.seconds)} s scraped once a second (${h.busy.scrapes} scrapes each, gzip accepted), in alternating ${BLOCK} s blocks after ${warmup} s of warm-up`,
  );
  for (const x of [h, n, d].filter(Boolean)) {
    console.log(`  ${x.label}, idle`.padEnd(40) + `per tick:   ${line(x.idle.perSecond)}`);
    console.log(`  ${x.label}, scraped`.padEnd(40) + `per tick:   ${line(x.busy.perSecond)}`);
  }
  console.log(`  node_exporter, idle`.padEnd(40) + `per second: ${line(e.idle.perSecond)}`);
  console.log(`  node_exporter, scraped`.padEnd(40) + `per scrape: ${line(e.busy.perScrape)}`);
  console.log(`  node_exporter collectors: ${COLLECTORS.join(', ')}`);
  const noProc = (f) => (n ? `, without Process ${f(n)}` : '');
  console.log(`  scrape size on the wire: pollect ${h.bytes} B${noProc((x) => `${x.bytes} B`)}, dummy ${d.bytes} B, node_exporter ${e.bytes} B (gzip)`);
  console.log(`  peak RSS (VmHWM): pollect ${mb(h.hwm)} MB${noProc((x) => `${mb(x.hwm)} MB`)}, dummy ${mb(d.hwm)} MB, node_exporter ${mb(e.hwm)} MB`);
  const share = (x) => (x.busy.perSecond.cpu - d.busy.perSecond.cpu).toFixed(2);
  console.log(`  host sources' share, scraped: ${share(h)} ms per tick${n ? ` (without Process ${share(n)} ms)` : ''}, ${mb(h.hwm - d.hwm)} MB peak RSS`);
  const exporterCpu = e.busy.perScrape.cpu;
  const targets = [
    [
      `pollect scraped ${h.busy.perSecond.cpu.toFixed(2)} ms per tick <= node_exporter ${exporterCpu.toFixed(2)} ms per scrape`,
      h.busy.perSecond.cpu <= exporterCpu,
    ],
    [`${h.idle.perSecond.wakeups.toFixed(1)} wake-ups per tick when idle <= 5`, h.idle.perSecond.wakeups <= 5],
    [`peak RSS ${mb(h.hwm)} MB <= 50 MB`, h.hwm <= 50 * 1024 * 1024],
  ];
  for (const [what, ok] of targets) console.log(`  target: ${what}: ${ok ? 'met' : 'MISSED'}`);
  if (n) {
    console.log(
      `  (without Process: ${n.busy.perSecond.cpu.toFixed(2)} ms per tick scraped, ${n.idle.perSecond.wakeups.toFixed(1)} wake-ups per tick idle, ${mb(n.hwm)} MB)`,
    );
  }
  console.log(
    `  load average at the end: ${os
      .loadavg()
      .map((x) => x.toFixed(2))
      .join(' ')} on ${os.cpus().length} CPUs`,
  );
} finally {
  for (const p of procs) if (!p.exited) p.child.kill('SIGTERM');
  await sleep(500);
  for (const p of procs) if (!p.exited) p.child.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
}
process.exit(0);
