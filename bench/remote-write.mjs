// Benchmark of the PrometheusRemoteWrite writer. 10,000 series (50 hosts x 200 values, labels
// `host` and `cpu`) over 100 ticks: 1,000,000 samples.
//  1. Encode only, on this thread: WriteRequests of 2,000 samples (protobuf, then snappy), with
//     each label set handed as the same object tick after tick (most sources), and as a new
//     object each tick (static labels merged in by the core).
//  2. Delivered: the same samples through the core's writer runtime and the writer to a local
//     VictoriaMetrics (Debian's victoria-metrics, started here on a free port), one batch per tick,
//     until the flush at stop; VictoriaMetrics' own counter of remote_write rows must reach
//     1,000,000. Reports samples/s and pollect's CPU seconds per million samples (this process:
//     encoding, compression, HTTP; VictoriaMetrics' CPU is not counted).
// Run: npm run bench:remote-write   (needs victoria-metrics on PATH)
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { compress } from 'snappyjs';
import { RemoteWriteWriter } from '../dist/writers/remote-write/index.js';
import { RemoteWriteEncoder } from '../dist/writers/remote-write/encode.js';
import { remoteTypes } from '../dist/writers/remote-write/proto.js';
import { createNamer } from '../dist/writers/prometheus/naming.js';
import { WriterRuntime } from '../dist/executors/writer-runtime.js';
import { createLogger } from '../dist/log.js';
import { freePort } from './net.mjs';

const HOSTS = 50;
const VALUES = 200;
const SERIES = HOSTS * VALUES;
const TICKS = 100;
const N = SERIES * TICKS;
const PER_SEND = 2000;
const T0 = Date.now() - 2 * 3600_000;

/** The points of every tick; `fresh`: a new labels object per point per tick. */
function ticks(fresh) {
  const names = [];
  const labels = [];
  for (let h = 0; h < HOSTS; h++) {
    for (let v = 0; v < VALUES; v++) {
      const id = `fleet.Host.host${h}.value_${v}`;
      names.push({ collection: 'fleet', source: 'Host', instance: `host${h}`, value: `value_${v}`, id });
      labels.push({ host: `host${h}.example.net`, cpu: String(v % 16) });
    }
  }
  const out = [];
  for (let t = 0; t < TICKS; t++) {
    const points = new Array(SERIES);
    for (let i = 0; i < SERIES; i++) {
      points[i] = {
        name: names[i],
        value: i * 0.37 + t,
        labels: fresh ? { ...labels[i] } : labels[i],
        type: 'gauge',
        timestamp: T0 + t * 10_000,
        source: 'fleet.Host',
      };
    }
    out.push(points);
  }
  return out;
}

function cpuSeconds() {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

async function encodeOnly(fresh) {
  const [types, pb] = await Promise.all([remoteTypes(), import('protobufjs')]);
  const data = ticks(fresh);
  const enc = new RemoteWriteEncoder(createNamer('pollect'), types.Label, pb.default);
  const run = (withSnappy) => {
    let bytes = 0;
    let raw = 0;
    const cpu0 = cpuSeconds();
    const t = process.hrtime.bigint();
    for (const points of data) {
      for (let i = 0; i < points.length; i += PER_SEND) {
        const body = enc.encode(points, i, Math.min(points.length, i + PER_SEND));
        raw += body.length;
        bytes += withSnappy ? compress(body).length : body.length;
      }
    }
    return { s: Number(process.hrtime.bigint() - t) / 1e9, cpu: cpuSeconds() - cpu0, raw, bytes };
  };
  run(true); // warm-up (fills the label caches)
  // The median of 5 rounds; on a shared machine the CPU time is the fairer clock.
  const median = (rs) => rs.sort((a, b) => a.cpu - b.cpu)[2];
  const pbOnly = median([0, 1, 2, 3, 4].map(() => run(false)));
  const both = median([0, 1, 2, 3, 4].map(() => run(true)));
  return { pbOnly, both };
}

async function rowsInserted(port) {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  return Number(/^vm_rows_inserted_total\{type="promremotewrite"\} (\d+)/m.exec(text)?.[1] ?? 0);
}

async function delivered() {
  const dir = mkdtempSync(path.join(tmpdir(), 'pollect-bench-vm-'));
  const port = await freePort();
  const vm = spawn('victoria-metrics', [`-storageDataPath=${dir}`, `-httpListenAddr=127.0.0.1:${port}`, '-loggerLevel=ERROR'], { stdio: 'ignore' });
  try {
    for (let i = 0; ; i++) {
      if (
        await fetch(`http://127.0.0.1:${port}/health`).then(
          (r) => r.ok,
          () => false,
        )
      )
        break;
      if (i > 100) throw new Error('victoria-metrics did not start');
      await new Promise((r) => setTimeout(r, 100));
    }
    const data = ticks(false);
    const log = createLogger('', { level: 'warn' });
    const ctx = { configDir: '.', tickTime: 10, log, reportDropped: () => {} };
    const w = new RemoteWriteWriter(
      {
        type: 'PrometheusRemoteWrite',
        url: `http://127.0.0.1:${port}/api/v1/write`,
        naming: 'pollect',
        maxSamplesPerSend: PER_SEND,
        batchWait: 1,
        timeout: 30,
      },
      ctx,
    );
    w.id = 'PrometheusRemoteWrite#bench';
    await w.start(ctx);
    // Batching as the daemon sets it up from the config (batchWait, batchSize).
    const rt = new WriterRuntime(w, { bufferSize: N, log, batchWaitMs: 1000, batchSize: PER_SEND });
    const cpu0 = cpuSeconds();
    const t = process.hrtime.bigint();
    for (const points of data) rt.add({ collection: 'fleet', timestamp: points[0].timestamp, points, sources: [] });
    await rt.stop(Date.now() + 120_000);
    const s = Number(process.hrtime.bigint() - t) / 1e9;
    const cpu = cpuSeconds() - cpu0;
    const stats = rt.stats();
    let rows = 0;
    for (let i = 0; i < 50 && rows < N; i++) {
      rows = await rowsInserted(port);
      if (rows < N) await new Promise((r) => setTimeout(r, 100));
    }
    return { s, cpu, stats, rows };
  } finally {
    vm.kill('SIGTERM');
    await new Promise((r) => vm.once('exit', r));
    rmSync(dir, { recursive: true, force: true });
  }
}

const fmt = (n) => Math.round(n).toLocaleString('en-US');
console.log(`remote_write: ${fmt(N)} samples (${fmt(SERIES)} series x ${TICKS} ticks), ${PER_SEND} samples per request`);
const rate = (r) => `${fmt(N / r.cpu)} samples per CPU second (${fmt(N / r.s)}/s wall)`;
for (const fresh of [false, true]) {
  const { pbOnly, both } = await encodeOnly(fresh);
  console.log(`encode only, labels ${fresh ? 'a new object each tick' : 'the same object each tick'}:`);
  console.log(`  protobuf:          ${rate(pbOnly)}, ${(pbOnly.raw / N).toFixed(1)} B/sample`);
  console.log(`  protobuf + snappy: ${rate(both)}, ${(both.bytes / N).toFixed(1)} B/sample on the wire`);
}
const d = await delivered();
console.log(
  `delivered to VictoriaMetrics: ${fmt(N / d.s)} samples/s wall (${d.s.toFixed(2)} s), ${fmt(N / d.cpu)} per CPU second of pollect, ` +
    `${(d.cpu / (N / 1e6)).toFixed(2)} CPU s per million samples; written ${fmt(d.stats.written)}, dropped ${fmt(d.stats.dropped)}, ` +
    `VictoriaMetrics counted ${fmt(d.rows)}`,
);
if (d.rows !== N || d.stats.dropped !== 0) {
  console.error('not every sample was delivered');
  process.exit(1);
}
