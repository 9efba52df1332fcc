// Benchmark of the host sources: runs pollect with LoadAvg, MemoryUsage, DiskUsage, Process,
// Interface, IO, Host and Cpu in one executor at tickTime 1 with a DryRun writer (stdout to
// /dev/null) for BENCH_SECONDS (default 30) and prints CPU time per tick (after the first ticks,
// so start-up is not counted), peak RSS and the number of child processes started.
// Targets (issue 3): at most 2 ms CPU per tick, peak RSS under 55 MB, 0 child processes.
import { spawn } from 'node:child_process';
import { mkdtempSync, openSync, readFileSync, readdirSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const seconds = Number(process.env.BENCH_SECONDS ?? 30);
const warmupTicks = Number(process.env.BENCH_WARMUP ?? 3);
if (!(seconds > warmupTicks + 1)) throw new Error(`BENCH_SECONDS must be more than ${warmupTicks + 1}`);
const CLK_TCK = 100;

const config = {
  tickTime: 1,
  writers: [{ type: 'DryRun' }],
  executors: [
    {
      collection: 'host',
      sources: [
        { type: 'LoadAvg' },
        { type: 'MemoryUsage' },
        { type: 'DiskUsage' },
        { type: 'Process', procRegex: 'pollect' },
        { type: 'Interface', includeTotal: true },
        { type: 'IO' },
        { type: 'Host', metrics: ['cpu', 'fs', 'la', 'ram', 'network'] },
        { type: 'Cpu' },
      ],
    },
  ],
};

const dir = mkdtempSync(join(tmpdir(), 'pollect-bench-host-'));
const cfgFile = join(dir, 'pollect.json');
const spawnFile = join(dir, 'spawns.txt');
writeFileSync(cfgFile, JSON.stringify(config, null, 2));
writeFileSync(spawnFile, '');

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** utime + stime of the whole process (all threads, live and dead) in ms, from /proc/<pid>/stat. */
function statCpuMs(pid) {
  const s = readFileSync(`/proc/${pid}/stat`, 'latin1');
  const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
  return ((Number(f[11]) + Number(f[12])) * 1000) / CLK_TCK;
}
/** Nanosecond CPU time of the live threads, from /proc/<pid>/task/<tid>/schedstat. */
function schedCpuMs(pid) {
  let ns = 0;
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      ns += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'latin1').split(' ')[0]);
    } catch {
      // thread gone meanwhile
    }
  }
  return ns / 1e6;
}
function status(pid, key) {
  const m = readFileSync(`/proc/${pid}/status`, 'latin1').match(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm'));
  return m ? Number(m[1]) * 1024 : NaN;
}

const devnull = openSync('/dev/null', 'w');
const child = spawn(
  process.execPath,
  ['--import', join(root, 'bench', 'count-children.mjs'), join(root, 'bin', 'pollect.js'), '-c', cfgFile, '--log-level', 'warn'],
  { cwd: dir, stdio: ['ignore', devnull, 'pipe'], env: { ...process.env, BENCH_SPAWN_FILE: spawnFile } },
);
let stderr = '';
child.stderr.on('data', (d) => {
  stderr += d;
});
let exited = false;
child.on('exit', () => {
  exited = true;
});

try {
  // Start-up and the first ticks (module loading, JIT, priming) are not counted.
  await sleep(warmupTicks * 1000 + 500);
  if (exited) throw new Error(`pollect exited early:\n${stderr}`);
  const t0 = performance.now();
  const cpu0 = statCpuMs(child.pid);
  const sched0 = schedCpuMs(child.pid);
  await sleep((seconds - warmupTicks) * 1000 - 500);
  if (exited) throw new Error(`pollect exited early:\n${stderr}`);
  const wallS = (performance.now() - t0) / 1000;
  const cpu1 = statCpuMs(child.pid);
  const sched1 = schedCpuMs(child.pid);
  const hwm = status(child.pid, 'VmHWM');
  const rss = status(child.pid, 'VmRSS');
  child.kill('SIGTERM');
  for (let i = 0; i < 100 && !exited; i++) await sleep(50);
  if (!exited) child.kill('SIGKILL');
  const spawns = readFileSync(spawnFile, 'utf8').split('\n').filter(Boolean);

  const ticks = wallS; // tickTime 1
  const perTick = (cpu1 - cpu0) / ticks;
  const perTickSched = (sched1 - sched0) / ticks;
  const mb = (b) => (b / 1024 / 1024).toFixed(1);
  console.log(`pollect host sources, tickTime 1 s, ${Math.round(ticks)} ticks measured after ${warmupTicks} warm-up ticks`);
  console.log(`CPU per tick:     ${perTick.toFixed(2)} ms (utime+stime, 10 ms resolution)   ${perTickSched.toFixed(3)} ms (schedstat, ns resolution)`);
  console.log(`peak RSS (VmHWM): ${mb(hwm)} MB   (RSS at end ${mb(rss)} MB)`);
  console.log(`child processes:  ${spawns.length}${spawns.length ? '  ' + spawns.slice(0, 5).join(', ') : ''}`);
  const ok = Math.max(perTick, perTickSched) <= 2 && hwm < 55 * 1024 * 1024 && spawns.length === 0;
  console.log(`targets (<= 2 ms/tick, < 55 MB, 0 children): ${ok ? 'met' : 'MISSED'}`);
  const warnings = stderr.split('\n').filter((l) => /WARN|ERROR/.test(l));
  if (warnings.length) console.log(`daemon warnings (${warnings.length}):\n  ${warnings.slice(0, 5).join('\n  ')}`);
} finally {
  if (!exited) child.kill('SIGKILL');
  if (existsSync(dir)) rmSync(dir, { recursive: true, force: true });
}
