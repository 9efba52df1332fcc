// The daemon over minutes, not seconds: RSS and CPU per tick, minute by minute, of the sample
// config's host sources (the first executor of pollect.json) served by the Prometheus writer at a
// 1 s tick and scraped once a second, for BENCH_MINUTES (default 10). The 60 s benchmarks see the
// start; V8's heap keeps growing for minutes after it (bench/README.md).
// `node bench/long-run.mjs [launcher ...]` runs the launchers side by side (default
// bin/pollect.js), so that the machine's load weighs on all alike. Run `npm run build` first.
import http from 'node:http';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readConfigFile } from '../dist/config/parse.js';
import { mb, sleep, statCpuMs, statusBytes } from './procstat.mjs';
import { freePort, scrape } from './net.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const minutes = Number(process.env.BENCH_MINUTES ?? 10);
const launchers = process.argv.length > 2 ? process.argv.slice(2).map((l) => resolve(l)) : [join(root, 'bin', 'pollect.js')];

const agent = new http.Agent({ keepAlive: true });
const sample = await readConfigFile(join(root, 'pollect.json'));
const dir = mkdtempSync(join(tmpdir(), 'pollect-long-run-'));
const daemons = [];
try {
  for (const [i, launcher] of launchers.entries()) {
    const port = await freePort();
    const file = join(dir, `${i}.json`);
    const config = {
      tickTime: 1,
      writers: [{ type: 'Prometheus', host: '127.0.0.1', port }],
      executors: [{ collection: 'pollect', sources: sample.executors[0].sources }],
    };
    writeFileSync(file, JSON.stringify(config));
    const child = spawn(process.execPath, [launcher, '-c', file, '--log-level', 'warn'], { stdio: ['ignore', 'ignore', 'inherit'] });
    daemons.push({ launcher, port, child });
  }
  await sleep(2000);
  console.log(
    `bench:long-run: the sample config's host sources, Prometheus writer, tickTime 1, scraped once a second, ${minutes} min, node ${process.version}`,
  );
  for (let m = 1; m <= minutes; m++) {
    const cpu0 = daemons.map((d) => statCpuMs(d.child.pid));
    const t0 = Date.now();
    while (Date.now() - t0 < 60_000) {
      await Promise.all(daemons.map((d) => scrape(d.port, agent)));
      await sleep(1000);
    }
    const ticks = (Date.now() - t0) / 1000;
    for (const d of daemons) if (d.child.exitCode !== null) throw new Error(`${d.launcher}: the daemon exited (${d.child.exitCode})`);
    const cells = daemons.map(
      (d, i) =>
        `${((statCpuMs(d.child.pid) - cpu0[i]) / ticks).toFixed(2)} ms/tick, RSS ${mb(statusBytes(d.child.pid, 'VmRSS'))} MB, peak ${mb(statusBytes(d.child.pid, 'VmHWM'))} MB`,
    );
    console.log(`  minute ${String(m).padStart(2)}: ${cells.join(' | ')}`);
  }
  console.log(`  (columns: ${launchers.join(' | ')})`);
} finally {
  for (const d of daemons) d.child.kill();
  rmSync(dir, { recursive: true, force: true });
}
