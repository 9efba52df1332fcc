// The `node` naming: the host sources' samples under node_exporter's names, labels, types and
// units (collector/*_linux.go), so node_exporter's dashboards and alerts work on pollect's
// endpoint unchanged. The writer gets the samples for Prometheus' names (Sample.naming): the host
// sources report their raw readings there (CPU seconds, counters, every /proc/meminfo field, the
// mounts node_exporter reports). A host source's sample node_exporter has no metric for is left
// out; every other source's samples keep the `prometheus` naming.
import type { Batch, Labels, MetricType, PartOf, Point, SeriesName } from '../../sdk/index.js';
import type { MetricName, Namer } from './naming.js';

/** What a host sample becomes: node_exporter's family, and the labels it keeps or renames. */
interface Target {
  name: SeriesName;
  help: string;
  /** Labels of the sample to drop (the one that picked the family) and to rename. */
  drop?: string;
  rename?: readonly [string, string];
}

/** The sources whose samples are named here; others keep the `prometheus` naming. */
const HOST_SOURCES = new Set(['LoadAvg', 'MemoryUsage', 'DiskUsage', 'Cpu', 'Interface', 'IO', 'Host']);

const LOAD = { short: 'node_load1', mid: 'node_load5', long: 'node_load15', '1m': 'node_load1', '5m': 'node_load5', '15m': 'node_load15' } as Record<
  string,
  string
>;

const DISK = new Set([
  'reads_completed_total',
  'writes_completed_total',
  'read_bytes_total',
  'written_bytes_total',
  'io_time_seconds_total',
  'read_time_seconds_total',
  'write_time_seconds_total',
  'io_time_weighted_seconds_total',
  'io_now',
]);

// node_exporter's help texts for the families its dashboards use most.
const HELP: Record<string, string> = {
  node_load1: '1m load average.',
  node_load5: '5m load average.',
  node_load15: '15m load average.',
  node_cpu_seconds_total: 'Seconds the CPUs spent in each mode.',
  node_boot_time_seconds: 'Node boot time, in unixtime.',
  node_time_seconds: 'System time in seconds since epoch (1970).',
  node_uname_info: 'Labeled system information as provided by the uname system call.',
  node_filesystem_size_bytes: 'Filesystem size in bytes.',
  node_filesystem_free_bytes: 'Filesystem free space in bytes.',
  node_filesystem_avail_bytes: 'Filesystem space available to non-root users in bytes.',
  node_filesystem_files: 'Filesystem total file nodes.',
  node_filesystem_files_free: 'Filesystem total free file nodes.',
  node_filesystem_readonly: 'Filesystem read-only status.',
  node_filesystem_device_error: 'Whether an error occurred while getting statistics for the given device.',
  node_disk_reads_completed_total: 'The total number of reads completed successfully.',
  node_disk_writes_completed_total: 'The total number of writes completed successfully.',
  node_disk_read_bytes_total: 'The total number of bytes read successfully.',
  node_disk_written_bytes_total: 'The total number of bytes written successfully.',
  node_disk_io_time_seconds_total: 'Total seconds spent doing I/Os.',
  node_disk_read_time_seconds_total: 'The total number of seconds spent by all reads.',
  node_disk_write_time_seconds_total: 'This is the total number of seconds spent by all writes.',
  node_disk_io_time_weighted_seconds_total: 'The weighted # of seconds spent doing I/Os.',
  node_disk_io_now: 'The number of I/Os currently in progress.',
};

/** `/proc/meminfo`'s `Active(anon)` -> node_exporter's `node_memory_Active_anon_bytes`. */
export function meminfoFamily(field: string, bytes: boolean): string {
  return `node_memory_${field.replace(/\(/g, '_').replace(/\)/g, '')}${bytes ? '_bytes' : ''}`;
}

/**
 * The node_exporter family of a host source's sample, and which label chose it; undefined for a
 * sample node_exporter has no metric for.
 */
export function nodeFamily(
  source: string,
  value: string | undefined,
  labels: Labels,
  unit?: string,
): { family: string; drop?: string; rename?: readonly [string, string] } | undefined {
  switch (source) {
    case 'LoadAvg': {
      const f = LOAD[labels.time ?? ''];
      return f ? { family: f, drop: discriminator(source, value) } : undefined;
    }
    case 'MemoryUsage':
      return value === 'meminfo' && labels.field ? { family: meminfoFamily(labels.field, unit === 'bytes'), drop: discriminator(source, value) } : undefined;
    case 'DiskUsage':
      return value && /^(size_bytes|free_bytes|avail_bytes|files|files_free|readonly|device_error)$/.test(value)
        ? { family: `node_filesystem_${value}` }
        : undefined;
    case 'Cpu':
      return value === 'seconds_total' && labels.cpu !== 'all' ? { family: 'node_cpu_seconds_total' } : undefined;
    case 'Interface':
      return value && /^(receive|transmit)_(bytes|packets|errs|drop)_total$/.test(value)
        ? { family: `node_network_${value}`, rename: ['interface', 'device'] }
        : undefined;
    case 'IO':
      return value && DISK.has(value) ? { family: `node_disk_${value}`, rename: ['disk', 'device'] } : undefined;
    case 'Host':
      switch (value) {
        case 'la': {
          const f = LOAD[labels.period ?? ''];
          return f ? { family: f, drop: discriminator(source, value) } : undefined;
        }
        case 'memory.available':
          return { family: 'node_memory_MemAvailable_bytes' };
        case 'network.bytes.sent':
          return { family: 'node_network_transmit_bytes_total', rename: ['iface', 'device'] };
        case 'network.bytes.recv':
          return { family: 'node_network_receive_bytes_total', rename: ['iface', 'device'] };
        case 'boot_time_seconds':
        case 'time_seconds':
        case 'uname_info':
          return { family: `node_${value}` };
      }
  }
  return undefined;
}

/**
 * The label whose value picks the family among a series' samples (LoadAvg's `time`, meminfo's
 * `field`): it goes, since the family name says it.
 */
function discriminator(source: string, value: string | undefined): string | undefined {
  if (source === 'LoadAvg') return 'time';
  if (source === 'MemoryUsage' && value === 'meminfo') return 'field';
  if (source === 'Host' && value === 'la') return 'period';
  return undefined;
}

/** A family's unit for OpenMetrics' `# UNIT`: the base unit its name ends in. */
function unitOf(family: string): string | undefined {
  return /_(bytes|seconds)(_total)?$/.exec(family)?.[1];
}

export class NodeNaming {
  /** Targets by the source's series name and the discriminating label's value ('' when none); null: left out. */
  private readonly targets = new WeakMap<SeriesName, Map<string, Target | null>>();
  /** The names this naming made, with their family. */
  private readonly made = new WeakMap<SeriesName, MetricName>();
  readonly namer: Namer;

  constructor(fallback: Namer) {
    this.namer = {
      metric: (name: SeriesName, type: MetricType, unit?: string, partOf?: PartOf) => this.made.get(name) ?? fallback.metric(name, type, unit, partOf),
      labels: (labels: Labels) => fallback.labels(labels),
    };
  }

  /** The batch with the host sources' points renamed, or left out where node_exporter has no such metric. */
  batch(batch: Batch): Batch {
    const points: Point[] = [];
    for (const p of batch.points) {
      if (!HOST_SOURCES.has(p.name.source)) {
        points.push(p);
        continue;
      }
      const t = this.target(p);
      if (!t) continue;
      let labels = p.labels;
      if (t.drop || t.rename) {
        labels = {};
        for (const k in p.labels) {
          if (k === t.drop) continue;
          labels[t.rename && k === t.rename[0] ? t.rename[1] : k] = p.labels[k]!;
        }
      }
      points.push({ ...p, name: t.name, labels, help: t.help });
    }
    return { ...batch, points };
  }

  private target(p: Point): Target | null {
    // node_exporter has no machine-wide CPU line (`sum by (mode)` of the cores is one).
    if (p.name.source === 'Cpu' && p.labels.cpu === 'all') return null;
    let bySource = this.targets.get(p.name);
    if (!bySource) this.targets.set(p.name, (bySource = new Map()));
    const label = discriminator(p.name.source, p.name.value);
    const key = label ? (p.labels[label] ?? '') : '';
    let t = bySource.get(key);
    if (t !== undefined) return t;
    const found = nodeFamily(p.name.source, p.name.value, p.labels, p.unit);
    t = null;
    if (found) {
      const name: SeriesName = { collection: '', source: found.family, id: found.family };
      this.made.set(name, { family: found.family, sample: found.family, type: p.type, unit: unitOf(found.family), mul: 1, add: 0 });
      t = { name, help: HELP[found.family] ?? `node_exporter's ${found.family}.`, drop: found.drop, rename: found.rename };
    }
    // A source that invents values of the discriminating label forever must not grow this without bound.
    if (bySource.size < 4096) bySource.set(key, t);
    return t;
  }
}
