// Fleet simulation (issue 15): one pollect with 50 executors standing in for 50 hosts, each with
// its own `host` label (executor labels) and 10 sources, ticking every second for 2 minutes and
// pushing everything (its own metrics included) through one PrometheusRemoteWrite writer to a
// local VictoriaMetrics. Then every series is exported from VictoriaMetrics and checked: present,
// one sample per tick, no gap. Prints the figures, and pollect's CPU and memory from its own
// metrics as stored in VictoriaMetrics.
// Run: npm run bench:fleet   (or node bench/fleet.mjs [seconds=120] [hosts=50] after a build)
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from './net.mjs';

const SECONDS = Number(process.argv[2] ?? 120);
const HOSTS = Number(process.argv[3] ?? 50);
const SOURCES = 10;
const BIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../bin/pollect.js');

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const exited = (child) => new Promise((r) => (child.exitCode !== null ? r() : child.once('exit', r)));

const dir = mkdtempSync(path.join(tmpdir(), 'pollect-fleet-'));
const port = await freePort();
const vm = spawn('victoria-metrics', [`-storageDataPath=${dir}/vm`, `-httpListenAddr=127.0.0.1:${port}`, '-loggerLevel=ERROR', '-search.latencyOffset=0s'], {
  stdio: 'ignore',
});
let pollect;
try {
  for (
    let i = 0;
    !(await fetch(`http://127.0.0.1:${port}/health`).then(
      (r) => r.ok,
      () => false,
    ));
    i++
  ) {
    if (i > 100) throw new Error('victoria-metrics did not start');
    await sleep(100);
  }
  const config = {
    tickTime: 1,
    writer: { type: 'PrometheusRemoteWrite', url: `http://127.0.0.1:${port}/api/v1/write` },
    executors: Array.from({ length: HOSTS }, (_, h) => ({
      collection: 'fleet',
      labels: { host: `host${String(h).padStart(2, '0')}` },
      sources: Array.from({ length: SOURCES }, (_, s) => ({ type: 'Dummy', name: `s${s}`, value: s })),
    })),
  };
  const file = path.join(dir, 'pollect.json');
  writeFileSync(file, JSON.stringify(config));
  const started = Date.now();
  pollect = spawn(process.execPath, [BIN, '-c', file], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  pollect.stderr.on('data', (d) => (stderr += d));
  await sleep(SECONDS * 1000);
  pollect.kill('SIGTERM');
  await exited(pollect);
  const ended = Date.now();
  if (pollect.exitCode !== 0) throw new Error(`pollect exited ${pollect.exitCode}: ${stderr}`);

  // Every series with its raw samples; VictoriaMetrics makes fresh data searchable within seconds.
  const exportAll = async () => {
    const q = new URLSearchParams({ 'match[]': '{__name__=~".+"}', start: String(Math.floor(started / 1000) - 5), end: String(Math.ceil(ended / 1000) + 5) });
    const text = await (await fetch(`http://127.0.0.1:${port}/api/v1/export?${q}`)).text();
    return text
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l));
  };
  const ticks = (s) => s.timestamps.length;
  let series = [];
  for (let i = 0; i < 30; i++) {
    series = await exportAll();
    const fleet = series.filter((s) => s.metric.__name__.startsWith('fleet_'));
    if (fleet.length === HOSTS * SOURCES && Math.min(...fleet.map(ticks)) >= SECONDS - 3) break;
    await sleep(1000);
  }
  const fleet = series.filter((s) => s.metric.__name__.startsWith('fleet_'));
  const hosts = new Set(fleet.map((s) => s.metric.host));
  let gaps = 0;
  let samples = 0;
  const counts = [];
  for (const s of series) {
    const ts = [...s.timestamps].sort((a, b) => a - b);
    samples += ts.length;
    // The first tick runs at start, the later ones on whole seconds (the first whole second may be
    // skipped while the start-up tick still runs): a gap is a whole second missing after that.
    for (let i = 2; i < ts.length; i++) if (ts[i] - ts[i - 1] !== 1000) gaps++;
    if (s.metric.__name__.startsWith('fleet_')) counts.push(ts.length);
  }
  const last = (name, agg = Math.max) => {
    const s = series.find((x) => x.metric.__name__ === name);
    return s ? agg(...s.values) : undefined;
  };
  const cpu = last('process_cpu_seconds_total');
  const rss = last('process_resident_memory_bytes');
  const lag = last('nodejs_eventloop_lag_seconds');
  const dropped = series.filter((x) => x.metric.__name__ === 'pollect_writer_dropped_total').reduce((a, x) => a + Math.max(...x.values), 0);
  const written = series.filter((x) => x.metric.__name__ === 'pollect_writer_written_total').reduce((a, x) => a + Math.max(...x.values), 0);
  console.log(
    `fleet: ${HOSTS} hosts x ${SOURCES} sources at a 1 s tick for ${((ended - started) / 1000).toFixed(0)} s, one PrometheusRemoteWrite writer to VictoriaMetrics`,
  );
  console.log(
    `series: ${fleet.length} fleet series of ${HOSTS * SOURCES} expected, ${hosts.size} hosts; ${series.length} series in all (pollect's own included)`,
  );
  console.log(
    `samples: ${samples} stored; per fleet series ${Math.min(...counts)} to ${Math.max(...counts)} ticks; gaps (a second missing after the first two samples): ${gaps}`,
  );
  console.log(
    `pollect (its own metrics): written ${written}, dropped ${dropped}, CPU ${cpu?.toFixed(1)} s (${((cpu / ((ended - started) / 1000)) * 100).toFixed(1)}% of a core), RSS ${(rss / 2 ** 20).toFixed(0)} MiB, largest event-loop lag ${(lag * 1000).toFixed(0)} ms`,
  );
  // Every series present with (nearly) every tick: one that stopped early has no gap but too few samples.
  const short = fleet.filter((s) => ticks(s) < SECONDS - 3).length;
  if (short > 0) console.log(`short: ${short} fleet series with fewer than ${SECONDS - 3} ticks`);
  if (fleet.length !== HOSTS * SOURCES || gaps > 0 || dropped > 0 || short > 0) process.exitCode = 1;
} finally {
  if (pollect && pollect.exitCode === null) {
    pollect.kill('SIGKILL');
    await exited(pollect);
  }
  vm.kill('SIGTERM');
  await exited(vm);
  rmSync(dir, { recursive: true, force: true });
}
