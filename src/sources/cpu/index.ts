// Cpu: utilisation percent by mode (user, system, iowait, idle, steal, ...), overall and per core,
// from the jiffy counters of /proc/stat between two probes.
import { Source, SourceError, type JsonSchema, type ProbeContext, type Sample, type SourceParams } from '../../sdk/index.js';
import { CPU_MODES, parseStatCpu, readError, readProcShared, type CpuTimes } from '../lib/procfs.js';
import { backendSchema, osCpuTimes, useProcfs } from '../lib/sysinfo.js';
import { SeriesCache } from '../lib/labels.js';

const schema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    perCpu: { type: 'boolean', default: true, description: 'Also report each core (label cpu = 0, 1, ...)' },
    backend: backendSchema,
  },
} as const satisfies JsonSchema;

export type CpuConfig = SourceParams<typeof schema>;

/** Percent of time per mode between two readings of one cpu; undefined on a counter reset. */
export function cpuPercents(prev: CpuTimes['times'], cur: CpuTimes['times']): Record<string, number> | undefined {
  let total = 0;
  for (let i = 0; i < CPU_MODES.length; i++) {
    const m = CPU_MODES[i]!;
    const d = cur[m] - prev[m];
    if (d < 0) return undefined;
    total += d;
  }
  if (total <= 0) return undefined;
  const out: Record<string, number> = {};
  for (let i = 0; i < CPU_MODES.length; i++) {
    const m = CPU_MODES[i]!;
    out[m] = ((cur[m] - prev[m]) / total) * 100;
  }
  return out;
}

export class CpuSource extends Source<CpuConfig> {
  static override description = 'CPU utilisation percent by mode, overall and per core';
  static override schema = schema;

  private readonly procfs = useProcfs(this.config.backend);
  private prev = new Map<string, CpuTimes['times']>();
  /** The label sets of one cpu, one per mode, made once. */
  private readonly labels = new SeriesCache((cpu) => CPU_MODES.map((mode) => ({ cpu, mode })));

  probe(_ctx: ProbeContext): Sample[] {
    let list: CpuTimes[];
    try {
      list = this.procfs ? parseStatCpu(readProcShared('/proc/stat')) : osCpuTimes();
    } catch (err) {
      throw new SourceError(readError('/proc/stat', err));
    }
    const { perCpu } = this.config;
    const out: Sample[] = [];
    const next = new Map<string, CpuTimes['times']>();
    for (let i = 0; i < list.length; i++) {
      const c = list[i]!;
      if (!perCpu && c.cpu !== 'all') continue;
      next.set(c.cpu, c.times);
      const before = this.prev.get(c.cpu);
      const pct = before && cpuPercents(before, c.times);
      if (!pct) continue;
      const labels = this.labels.get(c.cpu);
      for (let m = 0; m < CPU_MODES.length; m++) out.push({ value: pct[CPU_MODES[m]!]!, labels: labels[m], unit: 'percent' });
    }
    this.prev = next;
    return out;
  }
}
