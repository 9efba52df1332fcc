// Host: chouette-iot's HostStats collector. CPU busy percent, filesystem used/free per device,
// load average, memory used/available and (on request) bytes sent/received per interface.
import { Source, SourceError, type JsonSchema, type ProbeContext, type Sample, type SourceParams } from '../../sdk/index.js';
import {
  readDirectStatfsPaths,
  readLocalMounts,
  readMemSummary,
  parseLoadavg,
  parseNetDev,
  parseStatCpu,
  CPU_MODES,
  readError,
  readProcShared,
  type CpuTimes,
  type MemSummary,
  type MountInfo,
  type NetCounters,
} from '../lib/procfs.js';
import { statPaths, type FsUsageResult } from '../lib/fsusage.js';
import { waitBudget } from '../lib/guard.js';
import { LabelCache } from '../lib/labels.js';
import {
  backendSchema,
  osCpuTimes,
  osLoadavg,
  siFsUsage,
  siMemory,
  siNetCounters,
  useProcfs,
} from '../lib/sysinfo.js';

const schema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    metrics: {
      type: 'array',
      items: { type: 'string', enum: ['cpu', 'fs', 'la', 'ram', 'network'] },
      uniqueItems: true,
      default: ['cpu', 'fs', 'la', 'ram'],
      description: 'Parts to collect',
    },
    backend: backendSchema,
  },
} as const satisfies JsonSchema;

export type HostConfig = SourceParams<typeof schema>;
export type HostMetric = HostConfig['metrics'][number];

const PERIODS = ['1m', '5m', '15m'] as const;
const PERIOD_LABELS = PERIODS.map((period) => ({ period }));

export class HostSource extends Source<HostConfig> {
  static override description = "Host stats as chouette-iot's HostStats: cpu percent, fs used/free, load, memory, network bytes";
  static override schema = schema;

  private readonly procfs = useProcfs(this.config.backend);
  private readonly metrics = new Set<HostMetric>(this.config.metrics);
  private prevCpu: CpuTimes['times'] | undefined;
  private lastFsErrors = '';
  private readonly deviceLabels = new LabelCache('device');
  private readonly ifaceLabels = new LabelCache('iface');
  private lastErrors = '';

  // Synchronous on Linux unless a filesystem needs the guarded pool (see statPaths).
  probe(ctx: ProbeContext): Sample[] | Promise<Sample[]> {
    // Independent parts: one failing does not hide the others unless all fail. Each part fills
    // its own list so the output keeps the order cpu, fs, la, ram, network.
    const parts: Sample[][] = [];
    const errors: string[] = [];
    const pending: Promise<void>[] = [];
    const fail = (what: string, err: unknown): void => {
      errors.push(err instanceof SourceError ? err.message : readError(what, err));
    };
    const part = (what: string, fn: (out: Sample[]) => void | Promise<void>): void => {
      const out: Sample[] = [];
      parts.push(out);
      try {
        const r = fn(out);
        if (r) pending.push(r.catch((err: unknown) => fail(what, err)));
      } catch (err) {
        fail(what, err);
      }
    };
    const m = this.metrics;
    if (m.has('cpu')) part('/proc/stat', (out) => this.cpu(out));
    if (m.has('fs')) part('/proc/self/mountinfo', (out) => this.fs(out, ctx));
    if (m.has('la')) part('/proc/loadavg', (out) => this.la(out));
    if (m.has('ram')) part('/proc/meminfo', (out) => this.ram(out));
    if (m.has('network')) part('/proc/net/dev', (out) => this.network(out));
    if (pending.length === 0) return this.finish(parts, errors, ctx);
    return Promise.all(pending).then(() => this.finish(parts, errors, ctx));
  }

  private finish(parts: Sample[][], errors: string[], ctx: ProbeContext): Sample[] {
    const out = parts.length === 1 ? parts[0]! : parts.flat();
    const msg = errors.join('; ');
    if (errors.length > 0 && out.length === 0 && errors.length === this.metrics.size) throw new SourceError(msg);
    // Warn when what fails changes, not on every tick.
    if (msg && msg !== this.lastErrors) ctx.log.warn(msg);
    this.lastErrors = msg;
    return out;
  }

  private cpu(out: Sample[]): void {
    const all = (this.procfs ? parseStatCpu(readProcShared('/proc/stat')) : osCpuTimes()).find((c) => c.cpu === 'all');
    if (!all) throw new SourceError('no aggregate cpu line in /proc/stat');
    const prev = this.prevCpu;
    this.prevCpu = all.times;
    if (!prev) return;
    // psutil's cpu_percent: busy is everything but idle and iowait.
    let total = 0;
    for (let i = 0; i < CPU_MODES.length; i++) {
      const k = CPU_MODES[i]!;
      const d = all.times[k] - prev[k];
      if (d < 0) return;
      total += d;
    }
    if (total <= 0) return;
    const idle = all.times.idle - prev.idle + (all.times.iowait - prev.iowait);
    out.push({ name: 'cpu.percentage', value: ((total - idle) / total) * 100 });
  }

  private fs(out: Sample[], ctx: ProbeContext): void | Promise<void> {
    if (!this.procfs) {
      return siFsUsage().then((list) => {
        const seen = new Set<string>();
        for (const u of list) {
          if (seen.has(u.device)) continue;
          seen.add(u.device);
          out.push({ name: 'fs.used', value: u.used, labels: { device: u.device }, unit: 'bytes' });
          out.push({ name: 'fs.free', value: u.free, labels: { device: u.device }, unit: 'bytes' });
        }
      });
    }
    // localMounts keeps one mount per device (the same device mounted twice counts once).
    const mounts = readLocalMounts();
    const res = statPaths(
      mounts.map((mt) => mt.mountPoint),
      readDirectStatfsPaths(),
      waitBudget(ctx.timeoutMs),
    );
    if (res instanceof Promise) return res.then((r) => this.fsSamples(mounts, r, out, ctx));
    this.fsSamples(mounts, res, out, ctx);
  }

  private fsSamples(mounts: readonly MountInfo[], res: FsUsageResult, out: Sample[], ctx: ProbeContext): void {
    const byPath = new Map(res.usage.map((u) => [u.path, u]));
    for (let i = 0; i < mounts.length; i++) {
      const mt = mounts[i]!;
      const u = byPath.get(mt.mountPoint);
      if (!u) continue;
      const labels = this.deviceLabels.get(mt.source);
      out.push({ name: 'fs.used', value: u.used, labels, unit: 'bytes' });
      out.push({ name: 'fs.free', value: u.free, labels, unit: 'bytes' });
    }
    const errs = res.errors.map((e) => e.message).join('; ');
    if (errs && errs !== this.lastFsErrors) ctx.log.warn(errs);
    this.lastFsErrors = errs;
  }

  private la(out: Sample[]): void {
    const la = this.procfs ? parseLoadavg(readProcShared('/proc/loadavg')) : osLoadavg();
    for (let i = 0; i < 3; i++) out.push({ name: 'la', value: la[i]!, labels: PERIOD_LABELS[i] });
  }

  private ram(out: Sample[]): void | Promise<void> {
    const push = (mem: MemSummary): void => {
      out.push({ name: 'memory.used', value: mem.used, unit: 'bytes' });
      out.push({ name: 'memory.available', value: mem.available, unit: 'bytes' });
    };
    if (!this.procfs) return siMemory().then(push);
    push(readMemSummary(readProcShared('/proc/meminfo')));
  }

  private network(out: Sample[]): void | Promise<void> {
    const push = (list: NetCounters[]): void => {
      for (let i = 0; i < list.length; i++) {
        const nic = list[i]!;
        if (nic.name === 'lo') continue;
        const labels = this.ifaceLabels.get(nic.name);
        out.push({ name: 'network.bytes.sent', value: nic.txBytes, labels, type: 'counter' });
        out.push({ name: 'network.bytes.recv', value: nic.rxBytes, labels, type: 'counter' });
      }
    };
    if (!this.procfs) return siNetCounters().then(push);
    push(parseNetDev(readProcShared('/proc/net/dev')));
  }
}
