// IO: per block device, reads and writes per second, bytes read and written per second and the
// busy percentage (time with I/O in flight) from /proc/diskstats.
import { Source, SourceError, type JsonSchema, type ProbeContext, type Sample, type SourceParams } from '../../sdk/index.js';
import { namesParam } from '../../sdk/params.js';
import { acceptName, labelName, parseDiskstats, readError, readProcShared, type DiskCounters } from '../lib/procfs.js';
import { RateTracker, monotonicMs } from '../lib/rate.js';
import { SeriesCache } from '../lib/labels.js';
import { backendSchema, siDiskCounters, useProcfs } from '../lib/sysinfo.js';

const schema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    include: { ...namesParam, description: 'Device names to report, e.g. sda, nvme0n1, dm-0 (default: every device that has done I/O)' },
    exclude: { ...namesParam, description: 'Device names to leave out' },
    backend: backendSchema,
  },
} as const satisfies JsonSchema;

export type IOConfig = SourceParams<typeof schema>;

// No `unit` on the rates: the names already say it (a unit would be appended by the Prometheus writer).
const FIELDS = [
  ['reads', 'reads_sec'],
  ['writes', 'writes_sec'],
  ['readBytes', 'read_bytes_sec'],
  ['writeBytes', 'write_bytes_sec'],
] as const;

interface DeviceKeys {
  labels: { disk: string };
  /** RateTracker keys: one per FIELDS entry, then the busy time. */
  keys: string[];
}

export class IOSource extends Source<IOConfig> {
  static override description = 'Block device I/O: operations and bytes per second, busy percent';
  static override schema = schema;

  private readonly procfs = useProcfs(this.config.backend);
  private readonly rates = new RateTracker();
  /** Rate keys and labels of a device, made once: a tick then builds no strings for them. */
  private readonly devices = new SeriesCache<DeviceKeys>((name) => ({
    labels: { disk: labelName(name) },
    keys: [...FIELDS.map(([field]) => `${name}\0${field}`), `${name}\0ioMs`],
  }));

  // Synchronous on Linux: no promise per tick for a read that cannot block.
  probe(_ctx: ProbeContext): Sample[] | Promise<Sample[]> {
    if (!this.procfs) {
      return siDiskCounters().then(
        (list) => this.samples(list, monotonicMs()),
        (err: unknown) => {
          throw new SourceError(readError('disk counters', err));
        },
      );
    }
    let list: DiskCounters[];
    try {
      list = parseDiskstats(readProcShared('/proc/diskstats'));
    } catch (err) {
      throw new SourceError(readError('/proc/diskstats', err));
    }
    return this.samples(list, monotonicMs());
  }

  private samples(list: DiskCounters[], now: number): Sample[] {
    const { include, exclude } = this.config;
    const listed = include !== undefined && include.length > 0;
    const out: Sample[] = [];
    for (let i = 0; i < list.length; i++) {
      const d = list[i]!;
      if (!acceptName(d.name, include, exclude)) continue;
      // Unused loop, ram and zram devices would only add zero series; a listed device always counts.
      if (!listed && d.reads === 0 && d.writes === 0) continue;
      const dev = this.devices.get(d.name);
      for (let f = 0; f < FIELDS.length; f++) {
        // Indexing, not destructuring: destructuring runs the iterator protocol in unoptimised code.
        const spec = FIELDS[f]!;
        const name = spec[1];
        const v = d[spec[0]];
        const r = Number.isFinite(v) ? this.rates.rate(dev.keys[f]!, v, now) : undefined;
        if (r !== undefined) out.push({ name, value: r, labels: dev.labels });
      }
      if (d.ioMs !== undefined && Number.isFinite(d.ioMs)) {
        const msPerSec = this.rates.rate(dev.keys[FIELDS.length]!, d.ioMs, now);
        if (msPerSec !== undefined) out.push({ name: 'busy_percent', value: Math.min(100, msPerSec / 10), labels: dev.labels, unit: 'percent' });
      }
    }
    this.rates.sweep();
    return out;
  }
}
