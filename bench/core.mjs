// The core's part of a tick, in-process: the daemon built from dist/ with the launcher's V8 flags,
// its executor ticked back to back (BENCH_GAP_MS apart, default 0) with a writer that only counts.
// Usage: node bench/core.mjs [dummy10|host] [TICKS]
//   dummy10: 8 Dummy sources of 10 samples each, so what is measured is the runner, the sample
//            checks and the points, not a probe;
//   host:    the 7 host sources of pollect.json's first executor without Process (whose cost
//            follows the machine's process churn); BENCH_GAP_MS=15 lets the rate sources report.
// Prints CPU per tick (process.cpuUsage). On a busy machine count instructions instead, which do not
// move with the load: run it under `valgrind --tool=callgrind --smc-check=all-non-file` with 0 and
// with N ticks and divide the difference of the two totals by N (bench/README.md).
// The launcher's flags (bin/pollect.js), set before anything is compiled.
import './launcher-flags.mjs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const [kind = 'dummy10', ticksArg = '500'] = process.argv.slice(2);
const ticks = Number(ticksArg);
const gapMs = Number(process.env.BENCH_GAP_MS ?? 0);
const { buildConfig } = await import(join(root, 'dist/config/load.js'));
const { Daemon } = await import(join(root, 'dist/executors/daemon.js'));
const { createLogger } = await import(join(root, 'dist/log.js'));

const tenValues = Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`v${i}`, i]));
const sources =
  kind === 'host'
    ? [
        { type: 'LoadAvg' },
        { type: 'MemoryUsage' },
        { type: 'DiskUsage' },
        { type: 'Interface' },
        { type: 'IO' },
        { type: 'Host', metrics: ['cpu', 'fs', 'la', 'ram', 'network'] },
        { type: 'Cpu' },
      ]
    : Array.from({ length: 8 }, (_, i) => ({ type: 'Dummy', name: `d${i}`, value: tenValues }));
const config = await buildConfig(
  { tickTime: 1, selfMetrics: false, writers: [{ type: 'DryRun' }], executors: [{ collection: 'bench', sources }] },
  join(root, 'bench', 'pollect.json'),
);
let points = 0;
const counter = { id: 'Count', config: { type: 'Count' }, naming: 'pollect', takesSamples: true, start() {}, write() {}, flush() {}, stop() {} };
const daemon = new Daemon(config, { dryRun: true, dryRunWriter: counter, log: createLogger('', { level: 'error' }) });
await daemon.startAll();
const executor = daemon.executors[0];
const run = async (n) => {
  for (let i = 0; i < n; i++) {
    points += (await executor.runTick(Date.now())).points.length;
    if (gapMs) await new Promise((r) => setTimeout(r, gapMs));
  }
};
await run(50); // compiled and primed
points = 0;
const cpu0 = process.cpuUsage();
await run(ticks);
const cpu = process.cpuUsage(cpu0);
console.log(
  `${kind}: ${ticks} ticks, ${((cpu.user + cpu.system) / ticks).toFixed(1)} µs CPU per tick, ${(points / Math.max(1, ticks)).toFixed(1)} points per tick`,
);
await daemon.stop();
