// Benchmark of the K8s source against an HTTPS kubelet stand-in (self-signed certificate made
// with the openssl CLI) serving summaries of 110 pods (the kubelet's default maxPods) up to 1000,
// built from the captured bare-metal summary's pods: median probe time, the longest event-loop
// block during a probe, body size and samples, with all pod and node metrics selected.
// Run: npm run build && node bench/k8s.mjs
import { fixtureDir } from './fixtures.mjs';
import https from 'node:https';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { K8sSource } from '../dist/sources/k8s/index.js';
import { buildSource } from '../dist/config/build.js';
import { createLogger } from '../dist/log.js';

const FIX = fixtureDir('k8s');
const BASE = JSON.parse(readFileSync(path.join(FIX, 'stats-summary-honeycomb-baremetal-2020.json'), 'utf8'));
const RUNS = Number(process.env.RUNS ?? 9);
const log = createLogger('bench', { level: 'error', write: () => {} });

const dir = mkdtempSync(path.join(tmpdir(), 'pollect-bench-k8s-'));
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
    '1',
    '-subj',
    '/CN=127.0.0.1',
    '-addext',
    'subjectAltName=IP:127.0.0.1',
  ],
  { cwd: dir, stdio: 'ignore' },
);

let body = Buffer.alloc(0);
const server = https.createServer({ key: readFileSync(path.join(dir, 'k.pem')), cert: readFileSync(path.join(dir, 'c.pem')) }, (req, res) => {
  res.writeHead(200, { 'content-type': 'application/json' }).end(body);
});
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const port = server.address().port;

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
console.log(`K8s source over HTTPS, all metrics selected, median of ${RUNS} probes`);
console.log('  pods     body    probe   max loop block   samples');
for (const n of [110, 250, 1000]) {
  const pods = Array.from({ length: n }, (_, i) => {
    const p = structuredClone(BASE.pods[i % BASE.pods.length]);
    p.podRef.name = `${p.podRef.name}-${i}`;
    return p;
  });
  body = Buffer.from(JSON.stringify({ ...BASE, pods }));
  const src = await buildSource(K8sSource, {
    type: 'K8s',
    host: '127.0.0.1',
    port,
    ca: path.join(dir, 'c.pem'),
    metrics: { pods: ['cpu', 'memory', 'network'], node: ['cpu', 'memory', 'filesystem', 'inodes'] },
  });
  await src.init({ log, tickTime: 10, configDir: dir });
  const times = [];
  const blocks = [];
  let samples = 0;
  for (let r = 0; r < RUNS; r++) {
    const h = monitorEventLoopDelay({ resolution: 1 });
    h.enable();
    const t0 = performance.now();
    samples = (await src.probe({ signal: AbortSignal.timeout(10_000), timeoutMs: 10_000, tickTime: 10, log })).length;
    times.push(performance.now() - t0);
    h.disable();
    blocks.push(h.max / 1e6);
  }
  console.log(
    `${String(n).padStart(6)} ${(body.length / 1e6).toFixed(2).padStart(6)} MB ${median(times).toFixed(1).padStart(6)} ms ${median(blocks).toFixed(1).padStart(12)} ms ${String(samples).padStart(9)}`,
  );
}
server.close();
rmSync(dir, { recursive: true, force: true });
