// The figures `docker stats` shows, computed from one Engine API stats document the way the docker
// CLI computes them (cli/command/container/stats_helpers.go). Pure functions, tested on captures.
import type { Sample } from '../../sdk/index.js';
import { isRecord, numberAt } from '../../sdk/json.js';

/** The two CPU counters a percentage is computed from. */
export interface CpuReading {
  total: number;
  system: number;
}

/** The container's and the host's CPU counters from a cpu_stats/precpu_stats object, if both are there. */
export function cpuReading(cpuStats: unknown): CpuReading | undefined {
  const total = numberAt(isRecord(cpuStats) ? cpuStats.cpu_usage : undefined, 'total_usage');
  const system = numberAt(cpuStats, 'system_cpu_usage');
  // A zero system counter means "no reading" (one-shot stats, or the first sample of a stream).
  if (total === undefined || system === undefined || system <= 0) return undefined;
  return { total, system };
}

/** Online CPUs as the CLI counts them: online_cpus, else the length of percpu_usage (cgroup v1). */
export function onlineCpus(cpuStats: unknown): number {
  const online = numberAt(cpuStats, 'online_cpus');
  if (online) return online;
  const percpu = isRecord(cpuStats) && isRecord(cpuStats.cpu_usage) ? cpuStats.cpu_usage.percpu_usage : undefined;
  return Array.isArray(percpu) ? percpu.length : 0;
}

/** The CLI's formula: container delta over host delta, times online CPUs, times 100; 0 when either delta is not positive. */
export function cpuPercent(prev: CpuReading, cur: CpuReading, cpus: number): number {
  const cpuDelta = cur.total - prev.total;
  const systemDelta = cur.system - prev.system;
  return systemDelta > 0 && cpuDelta > 0 ? (cpuDelta / systemDelta) * cpus * 100 : 0;
}

/**
 * Memory usage without page cache, as the CLI shows it: usage minus total_inactive_file on
 * cgroup v1 (the key exists only there), minus inactive_file on cgroup v2; plain usage when the
 * subtraction would not be positive.
 */
export function memoryUsageNoCache(memoryStats: unknown): number | undefined {
  const usage = numberAt(memoryStats, 'usage');
  if (usage === undefined) return undefined;
  const stats = isRecord(memoryStats) && isRecord(memoryStats.stats) ? memoryStats.stats : {};
  const v1 = numberAt(stats, 'total_inactive_file');
  if (v1 !== undefined && v1 < usage) return usage - v1;
  const v2 = numberAt(stats, 'inactive_file') ?? 0;
  return v2 < usage ? usage - v2 : usage;
}

/** rx/tx bytes summed over the container's interfaces; undefined without networks (host or none mode). */
export function networkBytes(networks: unknown): { rx: number; tx: number } | undefined {
  if (!isRecord(networks)) return undefined;
  let rx = 0;
  let tx = 0;
  for (const ifc of Object.values(networks)) {
    rx += numberAt(ifc, 'rx_bytes') ?? 0;
    tx += numberAt(ifc, 'tx_bytes') ?? 0;
  }
  return { rx, tx };
}

/**
 * Block I/O bytes from io_service_bytes_recursive, by the first letter of `op` as the CLI does
 * (cgroup v1 says "Read"/"Write" per device, v2 "read"/"write"). Undefined when the list is null.
 */
export function blockIoBytes(blkioStats: unknown): { read: number; write: number } | undefined {
  const list = isRecord(blkioStats) ? blkioStats.io_service_bytes_recursive : undefined;
  if (!Array.isArray(list)) return undefined;
  let read = 0;
  let write = 0;
  for (const e of list) {
    const op = isRecord(e) && typeof e.op === 'string' ? e.op : '';
    const value = numberAt(e, 'value') ?? 0;
    if (op[0] === 'r' || op[0] === 'R') read += value;
    else if (op[0] === 'w' || op[0] === 'W') write += value;
  }
  return { read, write };
}

/**
 * Samples of one container's stats document. `previous` is this source's own last reading of the
 * container, used for the CPU percentage only when the document's precpu_stats is empty.
 */
export function statsToSamples(stats: unknown, labels: Record<string, string>, previous?: CpuReading): Sample[] {
  if (!isRecord(stats)) return [];
  const out: Sample[] = [];
  const cur = cpuReading(stats.cpu_stats);
  const prev = cpuReading(stats.precpu_stats) ?? previous;
  if (cur && prev) {
    out.push({ name: 'cpu.percent', value: cpuPercent(prev, cur, onlineCpus(stats.cpu_stats)), labels, unit: 'percent' });
  }
  const mem = memoryUsageNoCache(stats.memory_stats);
  if (mem !== undefined) out.push({ name: 'memory.usage', value: mem, labels, unit: 'bytes' });
  const limit = numberAt(stats.memory_stats, 'limit');
  if (limit !== undefined) out.push({ name: 'memory.limit', value: limit, labels, unit: 'bytes' });
  const net = networkBytes(stats.networks);
  if (net) {
    out.push({ name: 'network.rx_bytes', value: net.rx, labels, unit: 'bytes', type: 'counter' });
    out.push({ name: 'network.tx_bytes', value: net.tx, labels, unit: 'bytes', type: 'counter' });
  }
  const io = blockIoBytes(stats.blkio_stats);
  if (io) {
    out.push({ name: 'blkio.read_bytes', value: io.read, labels, unit: 'bytes', type: 'counter' });
    out.push({ name: 'blkio.write_bytes', value: io.write, labels, unit: 'bytes', type: 'counter' });
  }
  return out;
}

/** A container's name as `docker ps` shows it (the API prefixes a slash). */
export function containerName(entry: { Names?: unknown; Id: string }): string {
  const first = Array.isArray(entry.Names) ? entry.Names.find((n): n is string => typeof n === 'string') : undefined;
  return first ? first.replace(/^\//, '') : entry.Id.slice(0, 12);
}

/** Glob match with `*` and `?`, whole name. */
export function globMatch(pattern: string, name: string): boolean {
  const re = new RegExp(
    '^' +
      pattern
        .replace(/[.+^${}()|[\]\\]/g, '\\$&')
        .replace(/\*/g, '.*')
        .replace(/\?/g, '.') +
      '$',
  );
  return re.test(name);
}
