// Benchmark of the Docker source against a fake Engine API on a unix socket that answers every
// stats call after DELAY ms (a real daemon takes ~1 s for stream=false, as it samples twice):
// wall time of one probe for 10..500 containers (concurrent calls keep it near DELAY, serial calls
// would take N x DELAY), the longest event-loop block during the probe, and heap growth.
// Run: npm run build && node bench/docker.mjs
import { fixtureDir } from './fixtures.mjs';
import http from 'node:http';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { DockerSource } from '../dist/sources/docker/index.js';
import { buildSource } from '../dist/config/build.js';
import { createLogger } from '../dist/log.js';

const FIX = fixtureDir('docker');
const STATS = readFileSync(path.join(FIX, 'container-stats-cgroupv1.json'), 'utf8');
const ENTRY = JSON.parse(readFileSync(path.join(FIX, 'containers-list.json'), 'utf8'))[0];
const DELAY = Number(process.env.DELAY ?? 200);
const RUNS = Number(process.env.RUNS ?? 5);
const log = createLogger('bench', { level: 'error', write: () => {} });

let list = '[]';
const server = http.createServer((req, res) => {
  if (req.url.startsWith('/containers/json')) return void res.writeHead(200, { 'content-type': 'application/json' }).end(list);
  setTimeout(() => res.writeHead(200, { 'content-type': 'application/json' }).end(STATS), DELAY);
});
const dir = mkdtempSync(path.join(tmpdir(), 'pollect-bench-docker-'));
const socketPath = path.join(dir, 'docker.sock');
await new Promise((r) => server.listen(socketPath, r));

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
console.log(`Docker source, fake daemon answering each stats call after ${DELAY} ms, median of ${RUNS} probes`);
console.log('containers   probe wall   serial would be   max loop block   samples');
for (const n of [10, 50, 200, 500]) {
  list = JSON.stringify(Array.from({ length: n }, (_, i) => ({ ...ENTRY, Id: `c${i}`, Names: [`/bench-${i}`] })));
  const src = await buildSource(DockerSource, { type: 'Docker', socketPath });
  await src.init({ log, tickTime: 10, configDir: process.cwd() });
  const walls = [];
  const blocks = [];
  let samples = 0;
  for (let r = 0; r < RUNS; r++) {
    const h = monitorEventLoopDelay({ resolution: 1 });
    h.enable();
    const t0 = performance.now();
    const out = await src.probe({ signal: AbortSignal.timeout(30_000), timeoutMs: 30_000, tickTime: 10, log });
    walls.push(performance.now() - t0);
    h.disable();
    blocks.push(h.max / 1e6);
    samples = out.length;
  }
  console.log(
    `${String(n).padStart(10)}   ${median(walls).toFixed(0).padStart(7)} ms   ${String(n * DELAY).padStart(12)} ms   ${median(blocks).toFixed(1).padStart(11)} ms   ${String(samples).padStart(7)}`,
  );
}
server.close();
rmSync(dir, { recursive: true, force: true });
