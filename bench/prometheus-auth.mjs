// What basic auth costs a scrape: the Prometheus writer's CPU per scrape of a small exposition
// without auth, with basic auth whose successful check is remembered (CACHE_MS), and one bcrypt
// check at cost 10 (what every scrape would cost without that cache: htpasswd -B's default), and
// the memory of the child process bcrypt runs in. Run it under the launcher's V8 flags to see the
// daemon's figures: node --max-opt=1 bench/prometheus-auth.mjs
// Run: node bench/prometheus-auth.mjs   (after npm run build)
import http from 'node:http';
import { readFileSync } from 'node:fs';
import bcrypt from 'bcryptjs';
import { PrometheusWriter } from '../dist/writers/prometheus/index.js';
import { BasicAuth } from '../dist/writers/prometheus/auth.js';
import { createLogger } from '../dist/log.js';

const SCRAPES = Number(process.env.SCRAPES ?? 1000);
const COST = 10;
const log = createLogger('bench', { level: 'error', write: () => {} });
const context = { configDir: process.cwd(), tickTime: 10, log };
const hash = bcrypt.hashSync('scrape-pw', COST);
const authorization = `Basic ${Buffer.from('prometheus:scrape-pw').toString('base64')}`;

const points = Array.from({ length: 100 }, (_, i) => ({
  name: { collection: 'c', source: 'Dummy', value: `v${i}`, id: `c.Dummy.v${i}` },
  value: i,
  labels: {},
  type: 'gauge',
  timestamp: Date.now(),
  source: 'c.Dummy',
}));
const status = { id: 'c.Dummy', collection: 'c', type: 'Dummy', state: 'probed', success: true, durationSeconds: 0 };
const batch = { collection: 'c', timestamp: Date.now(), points, sources: [status] };

function scrape(port, headers) {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path: '/metrics', headers }, (res) => {
        res.resume();
        res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`status ${res.statusCode}`))));
      })
      .on('error', reject);
  });
}

/** CPU (user + system, this process: server and client) per scrape, in ms. */
async function perScrape(params, headers) {
  const w = new PrometheusWriter({ type: 'Prometheus', host: '127.0.0.1', port: 0, path: '/metrics', naming: 'pollect', staleAfter: 3, ...params }, context);
  await w.start();
  w.write(batch);
  await scrape(w.port, headers); // warm-up (and the one bcrypt check the cache then saves)
  const before = process.cpuUsage();
  for (let i = 0; i < SCRAPES; i++) await scrape(w.port, headers);
  const d = process.cpuUsage(before);
  await w.stop();
  return (d.user + d.system) / 1000 / SCRAPES;
}

// Each measured three times, interleaved, the best kept: which runs first pays for warming up.
let plain = Infinity;
let cached = Infinity;
for (let round = 0; round < 3; round++) {
  plain = Math.min(plain, await perScrape({}, {}));
  cached = Math.min(cached, await perScrape({ basicAuthUsers: { prometheus: hash } }, { Authorization: authorization }));
}
// Wrong passwords are never remembered: every check runs bcrypt, in the checker's child process
// (its CPU time read from /proc). The first check starts it.
const checker = new BasicAuth({ prometheus: hash });
await checker.check(`Basic ${Buffer.from('prometheus:warm-up').toString('base64')}`);
const [childPid] = readFileSync(`/proc/${process.pid}/task/${process.pid}/children`, 'utf8').trim().split(/\s+/);
const childCpuMs = () => {
  const f = readFileSync(`/proc/${childPid}/stat`, 'utf8').split(') ')[1].split(' ');
  return ((Number(f[11]) + Number(f[12])) * 1000) / 100; // utime + stime, in 10 ms ticks
};
const checks = 10;
const before = childCpuMs();
for (let i = 0; i < checks; i++) await checker.check(`Basic ${Buffer.from(`prometheus:wrong${i}`).toString('base64')}`);
const bcryptMs = (childCpuMs() - before) / checks;
const childRss = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${childPid}/status`, 'utf8'))[1]) * 1024;
checker.close();

// A remembered check alone: an HMAC of the header's credentials and a map lookup.
const remembered = new BasicAuth({ prometheus: hash });
await remembered.check(authorization);
remembered.close();
const hits = 100_000;
const t0 = process.cpuUsage();
for (let i = 0; i < hits; i++) if (remembered.check(authorization) !== 'ok') throw new Error('not remembered');
const h = process.cpuUsage(t0);
const hitUs = (h.user + h.system) / hits;

console.log(`CPU per scrape of 100 series, ${SCRAPES} scrapes (server and client in this process):`);
console.log(`  no auth                          ${plain.toFixed(2)} ms`);
console.log(`  basic auth, check remembered     ${cached.toFixed(2)} ms`);
console.log(`  a remembered check alone         ${(hitUs / 1000).toFixed(4)} ms`);
console.log(`  one bcrypt check at cost ${COST}      ${bcryptMs.toFixed(1)} ms   (every scrape, were it not remembered)`);
console.log(`RSS of the bcrypt child process while it runs: ${(childRss / 1024 / 1024).toFixed(1)} MB`);
