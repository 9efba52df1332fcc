// IO: per block device, reads and writes per second, bytes read and written per second and the
// busy percentage (time with I/O in flight) from /proc/diskstats. Writers with Prometheus names get
// the counters instead (operations, bytes, seconds: `_total`), of the devices node_exporter reports.
import { Source, type JsonSchema, type ProbeContext, type Sample, type SourceParams } from '../../sdk/index.js';
import { namesParam } from '../../sdk/params.js';
import { RateTracker, monotonicMs } from '../../sdk/rate.js';
import { acceptName, labelName } from '../../host/names.js';
import { backendSchema, hostReader } from '../../host/reader.js';

const schema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    include: { ...namesParam, description: 'Device names to report, e.g. sda, nvme0n1, dm-0 (default: every device, as the Python pollect)' },
    exclude: { ...namesParam, description: 'Device names to leave out' },
    backend: backendSchema,
  },
} as const satisfies JsonSchema;

export type IOConfig = SourceParams<typeof schema>;

// Counter field, rate name, the rate's unit.
const FIELDS = [
  ['reads', 'reads_sec', 'reads/s'],
  ['writes', 'writes_sec', 'writes/s'],
  ['readBytes', 'read_bytes_sec', 'bytes/s'],
  ['writeBytes', 'write_bytes_sec', 'bytes/s'],
] as const;

// The counters for writers with Prometheus names: field, name, unit, factor to that unit.
const COUNTERS = [
  ['reads', 'reads_completed_total', undefined, 1],
  ['writes', 'writes_completed_total', undefined, 1],
  ['readBytes', 'read_bytes_total', 'bytes', 1],
  ['writeBytes', 'written_bytes_total', 'bytes', 1],
  ['ioMs', 'io_time_seconds_total', 'seconds', 1e-3],
  ['readMs', 'read_time_seconds_total', 'seconds', 1e-3],
  ['writeMs', 'write_time_seconds_total', 'seconds', 1e-3],
  ['weightedIoMs', 'io_time_weighted_seconds_total', 'seconds', 1e-3],
] as const;

/** node_exporter's default device filter (collector/diskstats_linux.go): no partitions, RAM, loop or floppy devices. */
const NODE_EXPORTER_IGNORED = /^(z?ram|loop|fd|(h|s|v|xv)d[a-z]|nvme\d+n\d+p)\d+$/;

export class IOSource extends Source<IOConfig> {
  static override description = 'Block device I/O: operations and bytes per second, busy percent';
  static override schema = schema;

  private readonly host = hostReader(this.config.backend);
  private readonly rates = new RateTracker();

  async probe(ctx: ProbeContext): Promise<Sample[]> {
    const rates = ctx.wants('pollect');
    const counters = ctx.wants('prometheus');
    const list = await this.host.diskCounters();
    const now = monotonicMs();
    const { include, exclude } = this.config;
    const out: Sample[] = [];
    // Devices named in `include` are reported whatever node_exporter would filter out.
    const listed = include !== undefined && include.length > 0;
    for (const d of list) {
      if (!acceptName(d.name, include, exclude)) continue;
      if (counters && (listed || !NODE_EXPORTER_IGNORED.test(d.name))) {
        const raw = { disk: d.name };
        for (const [field, name, unit, factor] of COUNTERS) {
          const v = d[field];
          if (v !== undefined && Number.isFinite(v)) out.push({ name, value: v * factor, labels: raw, type: 'counter', unit, naming: 'prometheus' });
        }
        if (d.ioNow !== undefined && Number.isFinite(d.ioNow)) out.push({ name: 'io_now', value: d.ioNow, labels: raw, naming: 'prometheus' });
      }
      if (!rates) continue;
      // Unused loop, ram and zram devices too, with 0: the Python pollect (psutil) reports them.
      const labels = { disk: labelName(d.name) };
      for (const [field, name, unit] of FIELDS) {
        const r = this.rate(d.name, field, d[field], now);
        if (r !== undefined) out.push({ name, value: r, labels, unit, naming: 'pollect' });
      }
      // Milliseconds with I/O in flight per second: a tenth of that is the busy percentage.
      const busyMs = this.rate(d.name, 'ioMs', d.ioMs, now);
      if (busyMs !== undefined) out.push({ name: 'busy_percent', value: Math.min(100, busyMs / 10), labels, unit: 'percent', naming: 'pollect' });
    }
    this.rates.sweep();
    return out;
  }

  /** Its percentages and rates need a previous reading (see Source.reportsChanges). */
  override get reportsChanges(): boolean {
    return true;
  }

  override shutdown(): void {
    this.host.close();
  }

  private rate(device: string, field: string, value: number | undefined, now: number): number | undefined {
    return value !== undefined && Number.isFinite(value) ? this.rates.rate(`${device}\0${field}`, value, now) : undefined;
  }
}
