// What the host benchmarks read about a running process from /proc: CPU time, context switches
// (wake-ups) and memory. Linux only.
import { readFileSync, readdirSync } from 'node:fs';

const CLK_TCK = 100;

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** utime + stime of the whole process (all threads, live and dead) in ms, from /proc/<pid>/stat. */
export function statCpuMs(pid) {
  const s = readFileSync(`/proc/${pid}/stat`, 'latin1');
  const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
  return ((Number(f[11]) + Number(f[12])) * 1000) / CLK_TCK;
}

/**
 * Per-thread figures of the live threads, main thread apart: CPU time in ms (nanosecond run time
 * from schedstat) and voluntary context switches (each one is a sleep, so each is a wake-up).
 */
export function threads(pid) {
  const out = { main: { cpu: 0, wakeups: 0 }, others: { cpu: 0, wakeups: 0 } };
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const cpu = Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'latin1').split(' ')[0]) / 1e6;
      const m = readFileSync(`/proc/${pid}/task/${tid}/status`, 'latin1').match(/^voluntary_ctxt_switches:\s+(\d+)/m);
      const t = Number(tid) === pid ? out.main : out.others;
      t.cpu += cpu;
      t.wakeups += m ? Number(m[1]) : 0;
    } catch {
      // thread gone meanwhile
    }
  }
  return out;
}

/** The difference of two threads() readings, divided by n (ticks or scrapes). */
export function perUnit(before, after, n) {
  const d = (k, f) => (after[k][f] - before[k][f]) / n;
  const r = {
    main: { cpu: d('main', 'cpu'), wakeups: d('main', 'wakeups') },
    others: { cpu: d('others', 'cpu'), wakeups: d('others', 'wakeups') },
  };
  r.cpu = r.main.cpu + r.others.cpu;
  r.wakeups = r.main.wakeups + r.others.wakeups;
  return r;
}

/** A `kB` field of /proc/<pid>/status, in bytes (VmHWM is the peak RSS). */
export function statusBytes(pid, key) {
  const m = readFileSync(`/proc/${pid}/status`, 'latin1').match(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm'));
  return m ? Number(m[1]) * 1024 : NaN;
}

export const mb = (b) => (b / 1024 / 1024).toFixed(1);
