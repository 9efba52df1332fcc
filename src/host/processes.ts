// The processes whose command line matches a pattern, from /proc. Command lines are cached per
// process (pid + start time + comm), so a read costs the stat file of the matching processes plus
// the command line of new ones; a command line read in the first seconds of a process is read once
// more when it has settled (it may exec or retitle itself right after starting), and every cached
// process is checked again once per RECHECK_EVERY reads.
import { uptime } from 'node:os';
import { SourceError } from '../sdk/index.js';
import { deadlineAfter, poolGuard } from './guard.js';
import { readError } from './names.js';
import { readPageSize } from './page-size.js';
import type { ProcFiles } from './proc-files.js';
import { CLOCK_TICKS, parseCmdline, parseLastPid, parsePidStat, type PidStat } from './proc-parse.js';
import type { ProcessReading, ProcessWatch } from './types.js';
import { monotonicMs } from '../sdk/rate.js';

interface Entry {
  start: number;
  comm: string;
  matches: boolean;
  /** Read the command line on the next read. */
  reread: boolean;
  /** Uptime (s) after which the command line is read once more; set when it was read young. */
  settleAt?: number;
  /** CPU ticks and monotonic ms at the last read that saw this process match. */
  lastTicks?: number;
  lastAt?: number;
}

/** A command line read before the process is this old may still change. */
const SETTLE_SECONDS = 5;
/** Every cached process is checked again (stat) once per this many reads. */
const RECHECK_EVERY = 30;

export class ProcfsProcessWatch implements ProcessWatch {
  private readonly cache = new Map<number, Entry>();
  private reads = 0;
  /** The pids of the last listing of /proc, and the kernel's last pid then. */
  private pids: number[] = [];
  private lastPid: number | undefined;
  private readonly pageBytes = readPageSize();

  constructor(
    private readonly files: ProcFiles,
    private readonly pattern: RegExp,
  ) {}

  async read(deadlineMs: number): Promise<ProcessReading[]> {
    const readNo = this.reads++;
    const pids = this.listPids(readNo);
    const stats = new Map<number, PidStat>();
    const toRead: number[] = [];
    const up = uptime();
    for (const pid of pids) {
      let e = this.cache.get(pid);
      if (e?.settleAt !== undefined && up >= e.settleAt) {
        e.settleAt = undefined;
        e.reread = true;
      }
      if (e && !e.matches && !e.reread && (pid + readNo) % RECHECK_EVERY !== 0) continue;
      let st: PidStat;
      try {
        st = parsePidStat(this.files.read(`/proc/${pid}/stat`));
      } catch {
        // Gone between readdir and open, or unreadable: not a match this time.
        this.cache.delete(pid);
        continue;
      }
      stats.set(pid, st);
      if (!e || e.start !== st.startTicks || e.comm !== st.comm) {
        e = { start: st.startTicks, comm: st.comm, matches: false, reread: true };
        this.cache.set(pid, e);
      }
      if (e.reread) toRead.push(pid);
    }
    this.pids = pids.filter((pid) => this.cache.has(pid));
    if (toRead.length > 0) await this.readCmdlines(toRead, stats, up, deadlineMs);
    return this.readings(stats);
  }

  /**
   * Listing /proc costs the kernel a walk of every task: when no pid has been handed out since the
   * last read, no process can have started, so the last list (minus exits) still holds.
   */
  private listPids(readNo: number): number[] {
    let last: number | undefined;
    try {
      last = parseLastPid(this.files.readKept('/proc/loadavg'));
    } catch {
      last = undefined;
    }
    if (last !== undefined && last === this.lastPid && readNo % RECHECK_EVERY !== 0) return this.pids;
    let pids: number[];
    try {
      pids = this.files.listPids().sort((a, b) => a - b);
    } catch (err) {
      throw new SourceError(readError('/proc', err));
    }
    this.lastPid = last;
    const alive = new Set(pids);
    for (const pid of this.cache.keys()) if (!alive.has(pid)) this.cache.delete(pid);
    return pids;
  }

  private readings(stats: ReadonlyMap<number, PidStat>): ProcessReading[] {
    const now = monotonicMs();
    const out: ProcessReading[] = [];
    // Only the processes read this time can match; stats holds them in ascending pid order.
    for (const [pid, st] of stats) {
      const e = this.cache.get(pid);
      if (!e?.matches) continue;
      let cpuPercent: number | undefined;
      if (e.lastTicks !== undefined && e.lastAt !== undefined && now > e.lastAt && st.cpuTicks >= e.lastTicks) {
        cpuPercent = ((st.cpuTicks - e.lastTicks) / CLOCK_TICKS / ((now - e.lastAt) / 1000)) * 100;
      }
      e.lastTicks = st.cpuTicks;
      e.lastAt = now;
      out.push({ pid, cpuPercent, cpuSeconds: st.cpuTicks / CLOCK_TICKS, vsizeBytes: st.vsizeBytes, rssBytes: st.rssPages * this.pageBytes });
    }
    return out;
  }

  /** Reads command lines off the event loop: a process whose memory map is locked can block the read. */
  private async readCmdlines(pids: number[], stats: Map<number, PidStat>, up: number, deadlineMs: number): Promise<void> {
    const { deadline, clear } = deadlineAfter(deadlineMs);
    try {
      const texts = await Promise.allSettled(pids.map((pid) => poolGuard.run(`cmdline(${pid})`, () => this.files.readAsync(`/proc/${pid}/cmdline`), deadline)));
      pids.forEach((pid, i) => {
        const r = texts[i]!;
        const e = this.cache.get(pid);
        if (!e) return;
        if (r.status === 'rejected') {
          const code = (r.reason as NodeJS.ErrnoException)?.code;
          if (code === 'ENOENT' || code === 'ESRCH') {
            this.cache.delete(pid);
            stats.delete(pid);
          }
          return; // hung or busy: tried again next time
        }
        const matched = e.matches;
        e.matches = this.pattern.test(parseCmdline(r.value));
        if (e.matches !== matched) e.lastTicks = e.lastAt = undefined;
        e.reread = false;
        const started = stats.get(pid)!.startTicks / CLOCK_TICKS;
        if (up - started < SETTLE_SECONDS) e.settleAt = started + SETTLE_SECONDS;
      });
    } finally {
      clear();
    }
  }
}
