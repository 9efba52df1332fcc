// Peak RSS (VmHWM) of the daemon, quickly and repeatably: the sample config's host sources (the
// first executor of pollect.json) and one Dummy source, each served by the Prometheus writer at a
// 1 s tick and scraped once a second for BENCH_SECONDS (default 10; the peak is reached within the
// first second and flat after), BENCH_RUNS times (default 3), the two daemons side by side.
// `node bench/rss.mjs [launcher ...]` compares launchers (default bin/pollect.js; another
// worktree's bin/pollect.js, or a variant), their runs alternating so that the machine's other
// load weighs on all alike. NODE_ARGS adds node flags (`NODE_ARGS=--lite-mode`).
// Run `npm run build` first: the launcher runs dist/.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readConfigFile } from '../dist/config/parse.js';
import { mb, sleep, statusBytes } from './procstat.mjs';
import { freePort, scrape } from './net.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const seconds = Number(process.env.BENCH_SECONDS ?? 10);
const runs = Number(process.env.BENCH_RUNS ?? 3);
const nodeArgs = process.env.NODE_ARGS ? process.env.NODE_ARGS.split(' ') : [];
const launchers = process.argv.length > 2 ? process.argv.slice(2).map((l) => resolve(l)) : [join(root, 'bin', 'pollect.js')];

/** Starts the daemon on `sources`, scrapes it once a second, returns its VmHWM in bytes. */
async function peak(launcher, sources, dir, label) {
  const port = await freePort();
  const file = join(dir, `${label}.json`);
  writeFileSync(
    file,
    JSON.stringify({ tickTime: 1, writers: [{ type: 'Prometheus', host: '127.0.0.1', port }], executors: [{ collection: 'pollect', sources }] }),
  );
  const child = spawn(process.execPath, [...nodeArgs, launcher, '-c', file, '--log-level', 'warn'], { stdio: ['ignore', 'ignore', 'inherit'] });
  const exited = new Promise((res) => child.on('exit', res));
  try {
    await sleep(1500);
    for (let i = 0; i < seconds; i++) {
      await scrape(port);
      await sleep(1000);
    }
    if (child.exitCode !== null) throw new Error(`${label}: the daemon exited (${child.exitCode})`);
    return statusBytes(child.pid, 'VmHWM');
  } finally {
    child.kill();
    await exited;
  }
}

const sample = await readConfigFile(join(root, 'pollect.json'));
const kinds = { 'one Dummy source': [{ type: 'Dummy' }], 'sample config': sample.executors[0].sources };
const dir = mkdtempSync(join(tmpdir(), 'pollect-rss-'));
const results = launchers.map(() => Object.fromEntries(Object.keys(kinds).map((k) => [k, []])));
try {
  for (let r = 0; r < runs; r++) {
    for (const [i, launcher] of launchers.entries()) {
      const names = Object.keys(kinds);
      const hwm = await Promise.all(names.map((k, j) => peak(launcher, kinds[k], dir, `${i}-${j}`)));
      names.forEach((k, j) => results[i][k].push(hwm[j]));
    }
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
console.log(`peak RSS (VmHWM), ${runs} runs of ${seconds} s, scraped once a second${nodeArgs.length ? `, node ${nodeArgs.join(' ')}` : ''}:`);
for (const [i, launcher] of launchers.entries()) {
  const cells = Object.entries(results[i]).map(([k, v]) => `${k} ${v.map(mb).join(' ')} (mean ${mb(v.reduce((a, b) => a + b) / v.length)}) MB`);
  console.log(`  ${launcher}: ${cells.join('; ')}`);
}
