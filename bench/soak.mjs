// Soak: runs the built daemon as users run it (the sample config's host sources, the Prometheus
// and File writers, tickTime 1), scrapes it every second, and reports every 10 s: RSS, ticks
// missed or misaligned (read back from the File writer's timestamps), scrape failures; every
// minute promtool checks the exposition. Usage: npm run bench:soak [-- MINUTES] (default 10).
// Prints RSS growth after the first 10 minutes (or after the first half, in a shorter run).
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, statSync, openSync, readSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from './net.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const minutes = Number(process.argv[2] ?? process.env.SOAK_MINUTES ?? 10);
if (!(minutes > 0)) throw new Error('usage: node bench/soak.mjs MINUTES');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function rss(pid) {
  const m = readFileSync(`/proc/${pid}/status`, 'latin1').match(/^VmRSS:\s+(\d+) kB/m);
  return m ? Number(m[1]) / 1024 : NaN;
}

const dir = mkdtempSync(join(tmpdir(), 'pollect-soak-'));
const port = await freePort();
const out = join(dir, 'points.jsonl');
const config = {
  tickTime: 1,
  writers: [
    { type: 'Prometheus', host: '127.0.0.1', port },
    { type: 'File', path: out },
  ],
  executors: [
    {
      collection: 'pollect',
      sources: [
        { type: 'LoadAvg' },
        { type: 'MemoryUsage' },
        { type: 'DiskUsage', disks: ['/'] },
        { type: 'Cpu' },
        { type: 'Interface', exclude: ['lo'] },
        { type: 'IO' },
        { type: 'Process', name: 'node', procRegex: 'node' },
      ],
    },
  ],
};
writeFileSync(join(dir, 'soak.json'), JSON.stringify(config));
// SOAK_NODE_ARGS: extra node flags for the daemon (e.g. --trace-gc, whose lines go to SOAK_STDOUT).
const nodeArgs = (process.env.SOAK_NODE_ARGS ?? '').split(' ').filter(Boolean);
const stdout = process.env.SOAK_STDOUT ? openSync(process.env.SOAK_STDOUT, 'w') : 'ignore';
const child = spawn(process.execPath, [...nodeArgs, join(root, 'bin/pollect.js'), '-c', join(dir, 'soak.json')], { stdio: ['ignore', stdout, 'pipe'] });
let stderr = '';
child.stderr.on('data', (d) => (stderr += d));

// Ticks as the File writer saw them: every tick's timestamp, to find missed and misaligned ones.
let readOffset = 0;
let partial = '';
const tickStamps = new Set();
function readTicks() {
  let size;
  try {
    size = statSync(out).size;
  } catch {
    return;
  }
  if (size <= readOffset) return;
  const fd = openSync(out, 'r');
  const buf = Buffer.alloc(size - readOffset);
  readSync(fd, buf, 0, buf.length, readOffset);
  closeSync(fd);
  readOffset = size;
  const lines = (partial + buf.toString('utf8')).split('\n');
  partial = lines.pop();
  for (const l of lines) {
    const m = /"timestamp":(\d+)/.exec(l);
    if (m && l.includes('"name":"pollect.LoadAvg')) tickStamps.add(Number(m[1]));
  }
}

async function scrape() {
  try {
    const res = await fetch(`http://127.0.0.1:${port}/metrics`, { signal: AbortSignal.timeout(5000) });
    const text = await res.text();
    return res.ok ? text : undefined;
  } catch {
    return undefined;
  }
}

const start = Date.now();
const end = start + minutes * 60_000;
const rows = [];
let scrapes = 0;
let scrapeFailures = 0;
let promtoolProblems = 0;
let lastText = '';
await sleep(2000);
console.log(`soak: ${minutes} min, pid ${child.pid}, Prometheus on 127.0.0.1:${port}, File ${out}`);
console.log('t(s)  rss(MB)  ticks  missed  misaligned  scrapes  failed');
let nextReport = start + 10_000;
let nextPromtool = start + 60_000;
while (Date.now() < end && child.exitCode === null) {
  const text = await scrape();
  scrapes++;
  if (text === undefined) scrapeFailures++;
  else lastText = text;
  const now = Date.now();
  if (now >= nextPromtool && lastText) {
    nextPromtool += 60_000;
    const r = spawnSync('promtool', ['check', 'metrics'], { input: lastText, encoding: 'utf8' });
    if (r.error) promtoolProblems = NaN;
    else if (r.status !== 0 && /error|invalid/i.test(r.stderr + r.stdout)) promtoolProblems++;
  }
  if (now >= nextReport) {
    nextReport += 10_000;
    readTicks();
    const stamps = [...tickStamps].sort((a, b) => a - b);
    const misaligned = stamps.filter((t, i) => i > 0 && t % 1000 !== 0).length;
    let missed = 0;
    for (let i = 2; i < stamps.length; i++) missed += Math.max(0, Math.round((stamps[i] - stamps[i - 1]) / 1000) - 1);
    const row = { t: Math.round((now - start) / 1000), rss: rss(child.pid), ticks: stamps.length, missed, misaligned };
    rows.push(row);
    console.log(
      `${String(row.t).padStart(4)}  ${row.rss.toFixed(1).padStart(7)}  ${String(row.ticks).padStart(5)}  ${String(missed).padStart(6)}  ${String(misaligned).padStart(10)}  ${String(scrapes).padStart(7)}  ${String(scrapeFailures).padStart(6)}`,
    );
  }
  await sleep(Math.max(0, 1000 - (Date.now() - now)));
}
child.kill('SIGTERM');
await new Promise((r) => child.once('exit', r));
const settleAfter = minutes >= 20 ? 600 : (minutes * 60) / 2;
const after = rows.filter((r) => r.t >= settleAfter);
const last = rows.at(-1);
console.log('');
if (after.length >= 2) {
  const growth = last.rss - after[0].rss;
  console.log(
    `RSS ${after[0].rss.toFixed(1)} MB at ${after[0].t} s -> ${last.rss.toFixed(1)} MB at ${last.t} s: ${growth >= 0 ? '+' : ''}${growth.toFixed(2)} MB after the first ${settleAfter} s`,
  );
}
console.log(
  `peak RSS ${Math.max(...rows.map((r) => r.rss)).toFixed(1)} MB; ticks ${last?.ticks}, missed ${last?.missed}, misaligned ${last?.misaligned}; scrapes ${scrapes}, failed ${scrapeFailures}; promtool runs with errors: ${promtoolProblems}`,
);
if (/ERROR/.test(stderr))
  console.log(
    `daemon errors:\n${stderr
      .split('\n')
      .filter((l) => l.includes('ERROR'))
      .slice(0, 10)
      .join('\n')}`,
  );
rmSync(dir, { recursive: true, force: true });
