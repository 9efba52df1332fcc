// Host: chouette-iot's HostStats collector. CPU busy percent, filesystem used/free per device,
// load average, memory used/available and (on request) bytes sent/received per interface.
import { Source, SourceError, type ProbeContext, type Sample, type SourceConfig } from '../source.js';
import type { JsonSchema } from '../../config/schema-types.js';
import {
  readLocalMounts,
  readMemSummary,
  parseLoadavg,
  parseNetDev,
  parseStatCpu,
  readError,
  readProc,
  type CpuTimes,
  type MemSummary,
  type NetCounters,
} from '../lib/procfs.js';
import { fsUsage } from '../lib/fsusage.js';
import { waitBudget } from '../lib/guard.js';
import {
  backendSchema,
  osCpuTimes,
  osLoadavg,
  siFsUsage,
  siMemory,
  siNetCounters,
  useProcfs,
  type HostBackend,
} from '../lib/sysinfo.js';

export type HostMetric = 'cpu' | 'fs' | 'la' | 'ram' | 'network';

export interface HostConfig extends SourceConfig {
  metrics?: HostMetric[];
  backend?: HostBackend;
}

const PERIODS = ['1m', '5m', '15m'] as const;

export class HostSource extends Source<HostConfig> {
  static override description = "Host stats as chouette-iot's HostStats: cpu percent, fs used/free, load, memory, network bytes";
  static override schema: JsonSchema = {
    type: 'object',
    properties: {
      metrics: {
        type: 'array',
        items: { type: 'string', enum: ['cpu', 'fs', 'la', 'ram', 'network'] },
        uniqueItems: true,
        description: 'What to collect (default ["cpu", "fs", "la", "ram"])',
      },
      backend: backendSchema,
    },
  };

  private readonly procfs = useProcfs(this.config.backend);
  private readonly metrics = new Set<HostMetric>(this.config.metrics ?? ['cpu', 'fs', 'la', 'ram']);
  private prevCpu: CpuTimes['times'] | undefined;
  private lastFsErrors = '';
  private lastErrors = '';

  async probe(ctx: ProbeContext): Promise<Sample[]> {
    const out: Sample[] = [];
    // Independent parts: one failing does not hide the others unless all fail.
    const errors: string[] = [];
    const part = async (what: string, fn: () => void | Promise<void>): Promise<void> => {
      try {
        await fn();
      } catch (err) {
        errors.push(err instanceof SourceError ? err.message : readError(what, err));
      }
    };
    const m = this.metrics;
    if (m.has('cpu')) await part('/proc/stat', () => this.cpu(out));
    if (m.has('fs')) await part('/proc/self/mountinfo', () => this.fs(out, ctx));
    if (m.has('la')) await part('/proc/loadavg', () => this.la(out));
    if (m.has('ram')) await part('/proc/meminfo', () => this.ram(out));
    if (m.has('network')) await part('/proc/net/dev', () => this.network(out));
    const msg = errors.join('; ');
    if (errors.length > 0 && out.length === 0 && errors.length === m.size) throw new SourceError(msg);
    // Warn when what fails changes, not on every tick.
    if (msg && msg !== this.lastErrors) ctx.log.warn(msg);
    this.lastErrors = msg;
    return out;
  }

  private cpu(out: Sample[]): void {
    const all = (this.procfs ? parseStatCpu(readProc('/proc/stat')) : osCpuTimes()).find((c) => c.cpu === 'all');
    if (!all) throw new SourceError('no aggregate cpu line in /proc/stat');
    const prev = this.prevCpu;
    this.prevCpu = all.times;
    if (!prev) return;
    // psutil's cpu_percent: busy is everything but idle and iowait.
    let total = 0;
    for (const k of Object.keys(all.times) as (keyof CpuTimes['times'])[]) {
      const d = all.times[k] - prev[k];
      if (d < 0) return;
      total += d;
    }
    if (total <= 0) return;
    const idle = all.times.idle - prev.idle + (all.times.iowait - prev.iowait);
    out.push({ name: 'cpu.percentage', value: ((total - idle) / total) * 100 });
  }

  private async fs(out: Sample[], ctx: ProbeContext): Promise<void> {
    if (!this.procfs) {
      const seen = new Set<string>();
      for (const u of await siFsUsage()) {
        if (seen.has(u.device)) continue;
        seen.add(u.device);
        out.push({ name: 'fs.used', value: u.used, labels: { device: u.device }, unit: 'bytes' });
        out.push({ name: 'fs.free', value: u.free, labels: { device: u.device }, unit: 'bytes' });
      }
      return;
    }
    // localMounts keeps one mount per device (the same device mounted twice counts once).
    const mounts = readLocalMounts();
    const res = await fsUsage(
      mounts.map((mt) => mt.mountPoint),
      waitBudget(ctx.timeoutMs),
    );
    const byPath = new Map(res.usage.map((u) => [u.path, u]));
    for (const mt of mounts) {
      const u = byPath.get(mt.mountPoint);
      if (!u) continue;
      out.push({ name: 'fs.used', value: u.used, labels: { device: mt.source }, unit: 'bytes' });
      out.push({ name: 'fs.free', value: u.free, labels: { device: mt.source }, unit: 'bytes' });
    }
    const errs = res.errors.map((e) => e.message).join('; ');
    if (errs && errs !== this.lastFsErrors) ctx.log.warn(errs);
    this.lastFsErrors = errs;
  }

  private la(out: Sample[]): void {
    const la = this.procfs ? parseLoadavg(readProc('/proc/loadavg')) : osLoadavg();
    PERIODS.forEach((period, i) => out.push({ name: 'la', value: la[i]!, labels: { period } }));
  }

  private async ram(out: Sample[]): Promise<void> {
    const mem: MemSummary = this.procfs ? readMemSummary(readProc('/proc/meminfo')) : await siMemory();
    out.push({ name: 'memory.used', value: mem.used, unit: 'bytes' });
    out.push({ name: 'memory.available', value: mem.available, unit: 'bytes' });
  }

  private async network(out: Sample[]): Promise<void> {
    const list: NetCounters[] = this.procfs ? parseNetDev(readProc('/proc/net/dev')) : await siNetCounters();
    for (const nic of list) {
      if (nic.name === 'lo') continue;
      const labels = { iface: nic.name };
      out.push({ name: 'network.bytes.sent', value: nic.txBytes, labels, type: 'counter' });
      out.push({ name: 'network.bytes.recv', value: nic.rxBytes, labels, type: 'counter' });
    }
  }
}
