// IO: per block device, reads and writes per second, bytes read and written per second and the
// busy percentage (time with I/O in flight) from /proc/diskstats.
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

// No `unit` on the rates: the names already say it (a unit would be appended by the Prometheus writer).
const FIELDS = [
  ['reads', 'reads_sec'],
  ['writes', 'writes_sec'],
  ['readBytes', 'read_bytes_sec'],
  ['writeBytes', 'write_bytes_sec'],
] as const;

export class IOSource extends Source<IOConfig> {
  static override description = 'Block device I/O: operations and bytes per second, busy percent';
  static override schema = schema;

  private readonly host = hostReader(this.config.backend);
  private readonly rates = new RateTracker();

  async probe(_ctx: ProbeContext): Promise<Sample[]> {
    const list = await this.host.diskCounters();
    const now = monotonicMs();
    const { include, exclude } = this.config;
    const out: Sample[] = [];
    for (const d of list) {
      if (!acceptName(d.name, include, exclude)) continue;
      // Unused loop, ram and zram devices too, with 0: the Python pollect (psutil) reports them.
      const labels = { disk: labelName(d.name) };
      for (const [field, name] of FIELDS) {
        const r = this.rate(d.name, field, d[field], now);
        if (r !== undefined) out.push({ name, value: r, labels });
      }
      // Milliseconds with I/O in flight per second: a tenth of that is the busy percentage.
      const busyMs = this.rate(d.name, 'ioMs', d.ioMs, now);
      if (busyMs !== undefined) out.push({ name: 'busy_percent', value: Math.min(100, busyMs / 10), labels, unit: 'percent' });
    }
    this.rates.sweep();
    return out;
  }

  override shutdown(): void {
    this.host.close();
  }

  private rate(device: string, field: string, value: number | undefined, now: number): number | undefined {
    return value !== undefined && Number.isFinite(value) ? this.rates.rate(`${device}\0${field}`, value, now) : undefined;
  }
}
