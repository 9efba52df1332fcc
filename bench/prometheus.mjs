// Benchmark of the Prometheus writer against prom-client, on the same 100,000 series across 100
// sources: median scrape time of the endpoint over HTTP, prom-client's registry.metrics() on the
// same series in the same run, and the longest event-loop block while serving.
// Run: npm run bench:prometheus   (node bench/prometheus.mjs after npm run build)
import http from 'node:http';
import os from 'node:os';
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { PrometheusWriter } from '../dist/writers/prometheus/index.js';
import { createLogger } from '../dist/log.js';
import client from 'prom-client';

const SOURCES = 100;
const TYPES = 10; // sources of one type share families: families group across sources
const METRICS = 10; // per source
const SERIES = 100; // per metric and source
const RUNS = Number(process.env.RUNS ?? 15);

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}
const ms = (x) => x.toFixed(1).padStart(7) + ' ms';

/** Series names as the core makes them: one object per series name, shared tick after tick. */
const seriesNames = new Map();
function metricNames(collection, t) {
  const key = `${collection}.Type${t}`;
  let names = seriesNames.get(key);
  if (!names) {
    names = [];
    for (let m = 0; m < METRICS; m++) names.push({ collection, source: `Type${t}`, value: `metric${m}`, id: `${key}.metric${m}` });
    seriesNames.set(key, names);
  }
  return names;
}

/** One batch per source type (an executor each), 10 sources of 1,000 series each. */
function batches(tick) {
  const out = [];
  const ts = Date.now();
  for (let t = 0; t < TYPES; t++) {
    const collection = 'bench';
    const sources = [];
    const points = [];
    for (let k = 0; k < SOURCES / TYPES; k++) {
      const id = `${collection}.Type${t}.src${k}`;
      const names = metricNames(collection, t);
      sources.push({
        id,
        collection,
        type: `Type${t}`,
        name: `src${k}`,
        state: 'probed',
        success: true,
        durationSeconds: 0.01,
        errorsTotal: 0,
        skippedTotal: 0,
        consecutiveFailures: 0,
      });
      for (let m = 0; m < METRICS; m++) {
        const type = m % 3 === 0 ? 'counter' : 'gauge';
        for (let d = 0; d < SERIES; d++) {
          points.push({
            name: names[m],
            value: type === 'counter' ? tick * 1000 + d : Math.sin(tick + d) * 100,
            labels: { instance: `src${k}`, device: `dev${d}` },
            type,
            timestamp: ts,
            source: id,
          });
        }
      }
    }
    out.push({ collection, timestamp: ts, points, sources });
  }
  return out;
}

function scrape(port, headers = {}) {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const req = http.get({ host: '127.0.0.1', port, path: '/metrics', headers, agent: false }, (res) => {
      let bytes = 0;
      res.on('data', (c) => (bytes += c.length));
      res.on('end', () => resolve({ ms: performance.now() - t0, bytes }));
      res.on('error', reject);
    });
    req.on('error', reject);
  });
}

/** The scraper runs in a child process, as Prometheus would: the served process only serves. */
function startScraper() {
  const child = fork(fileURLToPath(import.meta.url), ['--scraper'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  let pending;
  child.on('message', (m) => pending?.(m));
  return {
    run(port, runs, headers = {}) {
      return new Promise((resolve) => {
        pending = resolve;
        child.send({ port, runs, headers });
      });
    },
    stop: () => child.kill(),
  };
}

async function scraperChild() {
  process.on('message', async ({ port, runs, headers }) => {
    const times = [];
    let bytes = 0;
    for (let i = 0; i < runs; i++) {
      const r = await scrape(port, headers);
      times.push(r.ms);
      bytes = r.bytes;
    }
    process.send({ times, bytes });
  });
}

async function main() {
  const log = createLogger('bench', { level: 'warn' });
  const writer = new PrometheusWriter(
    { type: 'Prometheus', port: 0, host: '127.0.0.1', path: '/metrics', naming: 'pollect', staleAfter: 3 },
    { log, configDir: process.cwd(), tickTime: 1 },
  );
  writer.id = 'Prometheus#0';
  await writer.start();

  // write(): a whole tick of all 100 sources, several times (values change every tick).
  // The first ticks create every series and warm the JIT; the figures are of the ticks after.
  const TICKS = 8;
  const WARM = 2;
  const writeTimes = [];
  const batchTimes = [];
  let coldTick = 0;
  for (let tick = 0; tick < TICKS; tick++) {
    const bs = batches(tick);
    const t0 = performance.now();
    for (const b of bs) {
      const b0 = performance.now();
      writer.write(b);
      if (tick >= WARM) batchTimes.push(performance.now() - b0);
    }
    if (tick === 0) coldTick = performance.now() - t0;
    if (tick >= WARM) writeTimes.push(performance.now() - t0);
  }
  const series = SOURCES * METRICS * SERIES;

  // Scrapes from another process, with this process's event loop watched by perf_hooks and by a
  // 1 ms interval probe.
  const scraper = startScraper();
  await scraper.run(writer.port, 3);
  const h = monitorEventLoopDelay({ resolution: 1 });
  let lagMax = 0;
  let last = performance.now();
  const probe = setInterval(() => {
    const now = performance.now();
    lagMax = Math.max(lagMax, now - last - 1);
    last = now;
  }, 1);
  h.enable();
  const { times: text, bytes } = await scraper.run(writer.port, RUNS);
  const { times: om } = await scraper.run(writer.port, Math.ceil(RUNS / 3), { Accept: 'application/openmetrics-text; version=1.0.0' });
  const { times: gz } = await scraper.run(writer.port, Math.ceil(RUNS / 3), { 'Accept-Encoding': 'gzip' });
  h.disable();
  clearInterval(probe);
  scraper.stop();
  const loopMax = h.max / 1e6;
  const loopP99 = h.percentile(99) / 1e6;
  const loopMean = h.mean / 1e6;
  await writer.stop();

  // prom-client: the same series in a registry of its own, rendered by registry.metrics().
  const registry = new client.Registry();
  const metrics = new Map();
  const pcUpdate = [];
  for (let tick = 0; tick < 4; tick++) {
    const bs = batches(tick);
    const t0 = performance.now();
    for (const b of bs) {
      for (const p of b.points) {
        const name = p.name.id.replace(/[^a-zA-Z0-9_:]/g, '_');
        let m = metrics.get(name);
        if (!m) {
          const Kind = p.type === 'counter' ? client.Counter : client.Gauge;
          m = new Kind({ name, help: p.name.id, labelNames: ['instance', 'device'], registers: [registry] });
          metrics.set(name, m);
        }
        // prom-client counters only go up: the first tick sets the value, the next ones add a tick's worth.
        if (p.type === 'counter') m.inc(p.labels, tick === 0 ? p.value : 1000);
        else m.set(p.labels, p.value);
      }
    }
    if (tick >= 1) pcUpdate.push(performance.now() - t0);
  }
  const pc = [];
  let pcBytes = 0;
  for (let i = 0; i < 2; i++) await registry.metrics();
  for (let i = 0; i < RUNS; i++) {
    const t0 = performance.now();
    const s = await registry.metrics();
    pc.push(performance.now() - t0);
    pcBytes = Buffer.byteLength(s);
  }

  const speedup = median(pc) / median(text);
  console.log(`Prometheus writer benchmark: ${series} series across ${SOURCES} sources (${TYPES * METRICS} families), ${RUNS} runs, node ${process.version}`);
  console.log(`  write(), a whole tick of ${SOURCES} sources   median ${ms(median(writeTimes))}   first tick (creates every series) ${ms(coldTick)}`);
  console.log(`  write() of one batch (10 sources, 10k)   median ${ms(median(batchTimes))}   max ${ms(Math.max(...batchTimes))}`);
  console.log(`  prom-client: set() of the same tick      median ${ms(median(pcUpdate))}   (for scale: updating its registry is not free either)`);
  console.log(`  scrape over HTTP from another process:`);
  console.log(
    `  scrape over HTTP, text 0.0.4            median ${ms(median(text))}   min ${ms(Math.min(...text))}   max ${ms(Math.max(...text))}   (${(bytes / 1e6).toFixed(1)} MB)`,
  );
  console.log(`  scrape over HTTP, OpenMetrics           median ${ms(median(om))}`);
  console.log(`  scrape over HTTP, text + gzip           median ${ms(median(gz))}`);
  console.log(
    `  prom-client registry.metrics()          median ${ms(median(pc))}   min ${ms(Math.min(...pc))}   (${(pcBytes / 1e6).toFixed(1)} MB, blocks the loop throughout)`,
  );
  console.log(`  speedup over prom-client                ${speedup.toFixed(1)}x   (target >= 5x: ${speedup >= 5 ? 'met' : 'MISSED'})`);
  console.log(
    `  max event-loop block while serving      ${ms(loopMax)} (monitorEventLoopDelay)   ${ms(lagMax)} (1 ms interval probe)   (target <= 20 ms: ${Math.max(loopMax, lagMax) <= 20 ? 'met' : 'MISSED'})`,
  );
  console.log(`  event-loop delay while serving, p99     ${ms(loopP99)}   mean ${ms(loopMean)}`);
  console.log(
    `  load average at the end: ${os
      .loadavg()
      .map((x) => x.toFixed(2))
      .join(' ')} on ${os.cpus().length} CPUs (other processes inflate the figures)`,
  );
  process.exit(0);
}

if (process.argv.includes('--scraper')) {
  scraperChild();
} else {
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
