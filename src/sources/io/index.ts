// IO: per block device, reads and writes per second, bytes read and written per second and the
// busy percentage (time with I/O in flight) from /proc/diskstats.
import { Source, SourceError, type ProbeContext, type Sample, type SourceConfig } from '../source.js';
import type { JsonSchema } from '../../config/schema-types.js';
import { acceptName, labelName, parseDiskstats, readError, readProc, type DiskCounters } from '../lib/procfs.js';
import { RateTracker, monotonicMs } from '../lib/rate.js';
import { backendSchema, siDiskCounters, useProcfs, type HostBackend } from '../lib/sysinfo.js';

export interface IOConfig extends SourceConfig {
  include?: string[];
  exclude?: string[];
  backend?: HostBackend;
}

const FIELDS = [
  ['reads', 'reads_sec', 'ops/s'],
  ['writes', 'writes_sec', 'ops/s'],
  ['readBytes', 'read_bytes_sec', 'bytes/s'],
  ['writeBytes', 'write_bytes_sec', 'bytes/s'],
] as const;

const names = { type: 'array', items: { type: 'string' } } as const;

export class IOSource extends Source<IOConfig> {
  static override description = 'Block device I/O: operations and bytes per second, busy percent';
  static override schema: JsonSchema = {
    type: 'object',
    properties: {
      include: { ...names, description: 'Device names to report, e.g. sda, nvme0n1p1, dm-0 (empty: every device that has done I/O)' },
      exclude: { ...names, description: 'Device names to leave out' },
      backend: backendSchema,
    },
  };

  private readonly procfs = useProcfs(this.config.backend);
  private readonly rates = new RateTracker();

  async probe(_ctx: ProbeContext): Promise<Sample[]> {
    let list: DiskCounters[];
    try {
      list = this.procfs ? parseDiskstats(readProc('/proc/diskstats')) : await siDiskCounters();
    } catch (err) {
      throw new SourceError(readError(this.procfs ? '/proc/diskstats' : 'disk counters', err));
    }
    const now = monotonicMs();
    const { include, exclude } = this.config;
    const listed = include !== undefined && include.length > 0;
    const out: Sample[] = [];
    const seen = new Set<string>();
    for (const d of list) {
      if (!acceptName(d.name, include, exclude)) continue;
      // Unused loop, ram and zram devices would only add zero series; a listed device always counts.
      if (!listed && d.reads === 0 && d.writes === 0) continue;
      const labels = { disk: labelName(d.name) };
      for (const [field, name, unit] of FIELDS) {
        const key = `${d.name}\0${field}`;
        seen.add(key);
        const r = Number.isFinite(d[field]) ? this.rates.rate(key, d[field], now) : undefined;
        if (r !== undefined) out.push({ name, value: r, labels, unit });
      }
      if (d.ioMs !== undefined && Number.isFinite(d.ioMs)) {
        const key = `${d.name}\0ioMs`;
        seen.add(key);
        const msPerSec = this.rates.rate(key, d.ioMs, now);
        if (msPerSec !== undefined) out.push({ name: 'busy_percent', value: Math.min(100, msPerSec / 10), labels, unit: 'percent' });
      }
    }
    this.rates.retain(seen);
    return out;
  }
}
