// Benchmark of the OpenStack source against Keystone and Nova stand-ins: all-tenants usage of
// 1,000 to 20,000 servers served in pages of 1,000 (Nova's default max_limit), built from the real
// os-metrics dump's servers: median probe time (login reused), the longest event-loop block during
// a probe, pages fetched and samples.
// Run: npm run build && node bench/openstack.mjs
import { fixtureDir } from './fixtures.mjs';
import http from 'node:http';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { OpenStackSource } from '../dist/sources/openstack/index.js';
import { buildSource } from '../dist/config/build.js';
import { createLogger } from '../dist/log.js';

const FIX = fixtureDir('openstack');
const TOKEN = JSON.parse(readFileSync(path.join(FIX, 'keystone-v3-token-response.json'), 'utf8'));
const DUMP = JSON.parse(readFileSync(path.join(FIX, 'os-metrics/os_metrics_20220301.json'), 'utf8'));
const RUNS = Number(process.env.RUNS ?? 5);
const PER_PAGE = 1000;
const log = createLogger('bench', { level: 'error', write: () => {} });

let pages = new Map();
let novaBase = '';
let fetched = 0;
const nova = http.createServer((req, res) => {
  fetched++;
  const marker = new URL(req.url, 'http://x').searchParams.get('marker') ?? '';
  res.writeHead(200, { 'content-type': 'application/json' }).end(pages.get(marker));
});
const keystone = http.createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    const doc = structuredClone(TOKEN);
    doc.token.expires_at = new Date(Date.now() + 3600_000).toISOString();
    for (const s of doc.token.catalog) for (const e of s.endpoints) e.url = e.url.replace('http://23.253.248.171:8774', novaBase);
    res.writeHead(201, { 'content-type': 'application/json', 'x-subject-token': 'bench-token' }).end(JSON.stringify(doc));
  });
});
const listen = (s) => new Promise((r) => s.listen(0, '127.0.0.1', () => r(s.address().port)));
novaBase = `http://127.0.0.1:${await listen(nova)}`;
const authUrl = `http://127.0.0.1:${await listen(keystone)}/v3`;

function build(n) {
  const servers = Array.from({ length: n }, (_, i) => ({
    ...DUMP.server_usages[i % DUMP.server_usages.length],
    instance_id: `srv-${i}`,
    tenant_id: `tenant${i % 50}`,
  }));
  const out = new Map();
  for (let i = 0, marker = ''; i < n; i += PER_PAGE) {
    const chunk = servers.slice(i, i + PER_PAGE);
    const byTenant = new Map();
    for (const s of chunk) byTenant.set(s.tenant_id, [...(byTenant.get(s.tenant_id) ?? []), s]);
    const usages = [...byTenant].map(([tenant_id, ss]) => ({
      tenant_id,
      start: DUMP.start,
      stop: DUMP.stop,
      server_usages: ss,
      total_hours: ss.reduce((a, s) => a + s.hours, 0),
      total_vcpus_usage: ss.reduce((a, s) => a + s.hours * s.vcpus, 0),
      total_memory_mb_usage: ss.reduce((a, s) => a + s.hours * s.memory_mb, 0),
      total_local_gb_usage: ss.reduce((a, s) => a + s.hours * s.local_gb, 0),
    }));
    const last = chunk[chunk.length - 1].instance_id;
    const links = chunk.length === PER_PAGE ? [{ rel: 'next', href: `${novaBase}/v2.1/os-simple-tenant-usage?marker=${last}` }] : undefined;
    out.set(marker, JSON.stringify({ tenant_usages: usages, ...(links ? { tenant_usages_links: links } : {}) }));
    marker = last;
    if (!links) return out;
  }
  // n is a multiple of PER_PAGE: Nova's last page is empty
  out.set(servers[n - 1].instance_id, '{"tenant_usages": []}');
  return out;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
console.log(`OpenStack source, all tenants, pages of ${PER_PAGE} servers, median of ${RUNS} probes`);
console.log('servers   pages    probe   max loop block   samples');
for (const n of [1000, 5000, 20000]) {
  pages = build(n);
  const src = await buildSource(OpenStackSource, { type: 'OpenStack', authUrl, username: 'u', password: 'bench-password', projectName: 'p', allTenants: true });
  const times = [];
  const blocks = [];
  let samples = 0;
  for (let r = 0; r < RUNS; r++) {
    fetched = 0;
    const h = monitorEventLoopDelay({ resolution: 1 });
    h.enable();
    const t0 = performance.now();
    samples = (await src.probe({ signal: AbortSignal.timeout(60_000), timeoutMs: 60_000, tickTime: 300, log })).length;
    times.push(performance.now() - t0);
    h.disable();
    blocks.push(h.max / 1e6);
  }
  console.log(
    `${String(n).padStart(7)} ${String(fetched).padStart(7)} ${median(times).toFixed(0).padStart(6)} ms ${median(blocks).toFixed(1).padStart(12)} ms ${String(samples).padStart(9)}`,
  );
}
nova.close();
keystone.close();
