// Process: CPU load and memory of the processes whose command line matches a regex, and how many
// match. Command lines are cached per process (pid + start time + comm), so a tick reads only the
// stat file of the matching processes plus the command line of new ones; a command line read in
// the first seconds of a process is read once more when it has settled (it may exec or retitle
// itself right after starting), and every cached process is re-checked once per 30 ticks.
import { close, open, read } from 'node:fs';
import { uptime } from 'node:os';
import { Source, SourceError, type JsonSchema, type PluginContext, type ProbeContext, type Sample, type SourceParams } from '../../sdk/index.js';
import { compileRegex } from '../../sdk/params.js';
import { CLOCK_TICKS, lastPid, listPids, pageSize, parseCmdline, parsePidStat, procPath, readError, readProc, type PidStat } from '../lib/procfs.js';
import { deadlineAfter, guarded, waitBudget } from '../lib/guard.js';
import { LabelCache } from '../lib/labels.js';
import { monotonicMs } from '../lib/rate.js';
import { backendSchema, siProcesses, useProcfs } from '../lib/sysinfo.js';

const schema = {
  type: 'object',
  additionalProperties: false,
  required: ['procRegex'],
  properties: {
    procRegex: { type: 'string', description: 'Regex (JavaScript syntax) searched in the command line (arguments joined by spaces)' },
    memory: { type: 'boolean', default: true, description: 'Emit virtual_memory and resident_memory' },
    load: { type: 'boolean', default: true, description: 'Emit load_percent' },
    backend: backendSchema,
  },
} as const satisfies JsonSchema;

export type ProcessConfig = SourceParams<typeof schema>;

interface Entry {
  start: number;
  comm: string;
  cmdline?: string;
  matches: boolean;
  /** Read the command line on the next probe. */
  reread: boolean;
  /** Uptime (s) after which the command line is read once more; set when it was read young. */
  settleAt?: number;
  /** CPU ticks and monotonic ms at the last probe that saw this process match. */
  lastTicks?: number;
  lastAt?: number;
}

const ALL = { pidx: 'all' };

/** A command line read before the process is this old may still change. */
const SETTLE_SECONDS = 5;
/** Every cached process is re-checked (stat) once per this many probes. */
const RECHECK_EVERY = 30;

export class ProcessSource extends Source<ProcessConfig> {
  static override description = 'CPU load and memory of processes whose command line matches a regex';
  static override schema = schema;

  private readonly procfs = useProcfs(this.config.backend);
  private readonly regex: RegExp;
  private readonly cache = new Map<number, Entry>();
  private readonly pidxLabels = new LabelCache('pidx');
  private probes = 0;
  /** The pid list of the last listing of /proc, and the kernel's last pid then. */
  private pids: number[] = [];
  private lastPid: number | undefined;

  constructor(config: ProcessConfig, context?: PluginContext) {
    super(config, context);
    this.regex = compileRegex('procRegex', config.procRegex);
  }

  // Synchronous unless a new process's command line has to be read (off the event loop).
  probe(ctx: ProbeContext): Sample[] | Promise<Sample[]> {
    const re = this.regex;
    if (!this.procfs) return this.fallback(re);
    const probeNo = this.probes++;
    // Listing /proc costs the kernel a walk of every task; when no pid has been handed out since
    // the last probe, no process can have started, so the last list (minus exits) still holds.
    const last = lastPid();
    const relist = last === undefined || last !== this.lastPid || probeNo % RECHECK_EVERY === 0;
    let pids = this.pids;
    if (relist) {
      try {
        pids = listPids();
      } catch (err) {
        throw new SourceError(readError('/proc', err));
      }
      // /proc lists pids in ascending order; sort only if it ever does not.
      for (let i = 1; i < pids.length; i++) {
        if (pids[i]! < pids[i - 1]!) {
          pids.sort((a, b) => a - b);
          break;
        }
      }
      this.pids = pids;
      this.lastPid = last;
    }
    // os.uptime() is a call into C++: made only when a process is young or new.
    let upNow: number | undefined;
    const up = (): number => (upNow ??= uptime());
    const stats = new Map<number, PidStat>();
    const toRead: number[] = [];
    let gone = false;
    for (let i = 0; i < pids.length; i++) {
      const pid = pids[i]!;
      let e = this.cache.get(pid);
      if (e && e.settleAt !== undefined && up() >= e.settleAt) {
        e.settleAt = undefined;
        e.reread = true;
      }
      const check = !e || e.matches || e.reread || (pid + probeNo) % RECHECK_EVERY === 0;
      if (!check) continue;
      let st: PidStat;
      try {
        st = parsePidStat(readProc(`/proc/${pid}/stat`));
      } catch {
        // Gone between readdir and open, or unreadable: not a match this time.
        this.cache.delete(pid);
        gone = true;
        continue;
      }
      stats.set(pid, st);
      if (!e || e.start !== st.startTicks || e.comm !== st.comm) {
        e = { start: st.startTicks, comm: st.comm, matches: false, reread: true };
        this.cache.set(pid, e);
      }
      if (e.reread) toRead.push(pid);
    }
    if (gone) this.pids = pids = pids.filter((pid) => this.cache.has(pid));
    if (relist && this.cache.size > pids.length) {
      const alive = new Set(pids);
      for (const pid of this.cache.keys()) if (!alive.has(pid)) this.cache.delete(pid);
    }

    if (toRead.length > 0) return this.readCmdlines(toRead, stats, re, up(), ctx).then(() => this.samples(stats));
    return this.samples(stats);
  }

  private samples(stats: ReadonlyMap<number, PidStat>): Sample[] {
    const now = monotonicMs();
    const { memory, load } = this.config;
    const page = pageSize();
    const out: Sample[] = [];
    let matches = 0;
    // Only the processes read this probe can match; stats holds them in ascending pid order.
    for (const [pid, st] of stats) {
      const e = this.cache.get(pid);
      if (!e || !e.matches) continue;
      const labels = this.pidxLabels.get(String(matches++));
      if (load) {
        if (e.lastTicks !== undefined && e.lastAt !== undefined && now > e.lastAt && st.cpuTicks >= e.lastTicks) {
          const cpuSeconds = (st.cpuTicks - e.lastTicks) / CLOCK_TICKS;
          out.push({ name: 'load_percent', value: (cpuSeconds / ((now - e.lastAt) / 1000)) * 100, labels, unit: 'percent' });
        }
        e.lastTicks = st.cpuTicks;
        e.lastAt = now;
      }
      if (memory) {
        out.push({ name: 'virtual_memory', value: st.vsizeBytes, labels, unit: 'bytes' });
        out.push({ name: 'resident_memory', value: st.rssPages * page, labels, unit: 'bytes' });
      }
    }
    out.push({ name: 'process_count', value: matches, labels: ALL });
    return out;
  }

  /** Reads command lines off the event loop: a process whose memory map is locked can block the read. */
  private async readCmdlines(pids: number[], stats: Map<number, PidStat>, re: RegExp, up: number, ctx: ProbeContext): Promise<void> {
    const { deadline, clear } = deadlineAfter(waitBudget(ctx.timeoutMs));
    try {
      const texts = await Promise.allSettled(
        pids.map((pid) => guarded(`cmdline(${pid})`, () => readSmall(procPath(`/proc/${pid}/cmdline`)), deadline)),
      );
      pids.forEach((pid, i) => {
        const r = texts[i]!;
        const e = this.cache.get(pid);
        if (!e) return;
        if (r.status === 'rejected') {
          if ((r.reason as NodeJS.ErrnoException)?.code === 'ENOENT' || (r.reason as NodeJS.ErrnoException)?.code === 'ESRCH') {
            this.cache.delete(pid);
            stats.delete(pid);
          }
          return; // hung or busy: tried again next probe
        }
        const prevMatch = e.matches;
        e.cmdline = parseCmdline(r.value);
        e.matches = re.test(e.cmdline);
        if (e.matches !== prevMatch) e.lastTicks = e.lastAt = undefined;
        e.reread = false;
        const started = stats.get(pid)!.startTicks / CLOCK_TICKS;
        if (up - started < SETTLE_SECONDS) e.settleAt = started + SETTLE_SECONDS;
      });
    } finally {
      clear();
    }
  }

  private async fallback(re: RegExp): Promise<Sample[]> {
    let list;
    try {
      list = await siProcesses();
    } catch (err) {
      throw new SourceError(readError('the process list', err));
    }
    const { memory, load } = this.config;
    const out: Sample[] = [];
    let matches = 0;
    for (const p of list.sort((a, b) => a.pid - b.pid)) {
      if (!re.test(p.cmdline)) continue;
      const labels = { pidx: String(matches++) };
      if (load && Number.isFinite(p.cpuPercent)) out.push({ name: 'load_percent', value: p.cpuPercent, labels, unit: 'percent' });
      if (memory) {
        out.push({ name: 'virtual_memory', value: p.vsizeBytes, labels, unit: 'bytes' });
        out.push({ name: 'resident_memory', value: p.rssBytes, labels, unit: 'bytes' });
      }
    }
    out.push({ name: 'process_count', value: matches, labels: { pidx: 'all' } });
    return out;
  }
}

/** Reads a whole small file with the plain callback API (cheaper than fs/promises' FileHandle). */
function readSmall(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    open(path, 'r', (err, fd) => {
      if (err) return reject(err);
      const chunks: Buffer[] = [];
      const next = (): void => {
        const buf = Buffer.allocUnsafe(4096);
        read(fd, buf, 0, buf.length, null, (rerr, n) => {
          if (rerr || n === 0) {
            close(fd, () => {});
            if (rerr) reject(rerr);
            else resolve(Buffer.concat(chunks).toString('latin1'));
            return;
          }
          chunks.push(n === buf.length ? buf : buf.subarray(0, n));
          // procfs fills the buffer while it has data: a short read is the end (saves a call).
          if (n === buf.length) return next();
          close(fd, () => {});
          resolve(Buffer.concat(chunks).toString('latin1'));
        });
      };
      next();
    });
  });
}
