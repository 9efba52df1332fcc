// Interface: per network interface, send/receive rates (bytes and packets per second) from
// /proc/net/dev, and optionally the raw counters. Rates divide by the real elapsed time.
import { Source, SourceError, type JsonSchema, type ProbeContext, type Sample, type SourceParams } from '../../sdk/index.js';
import { namesParam } from '../../sdk/params.js';
import { acceptName, labelName, parseNetDev, readError, readProcShared, type NetCounters } from '../lib/procfs.js';
import { RateTracker, monotonicMs } from '../lib/rate.js';
import { SeriesCache } from '../lib/labels.js';
import { backendSchema, siNetCounters, useProcfs } from '../lib/sysinfo.js';

const schema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    include: { ...namesParam, description: 'Interfaces to report (default: all)' },
    exclude: { ...namesParam, description: 'Interface names to leave out' },
    includeTotal: { type: 'boolean', default: false, description: 'Also emit the raw counters total_bytes_sent, ...' },
    backend: backendSchema,
  },
} as const satisfies JsonSchema;

export type InterfaceConfig = SourceParams<typeof schema>;

// pollect's order and names: counter field, total name, rate name. No `unit` on these samples:
// the names already say it, and a unit would be appended to them by the Prometheus writer.
const FIELDS = [
  ['txBytes', 'total_bytes_sent', 'sent_bytes_sec'],
  ['txPackets', 'total_packets_sent', 'sent_packets_sec'],
  ['rxBytes', 'total_bytes_recv', 'recv_bytes_sec'],
  ['rxPackets', 'total_packets_recv', 'recv_packets_sec'],
] as const;

interface DeviceKeys {
  labels: { interface: string };
  /** RateTracker keys, one per FIELDS entry. */
  keys: string[];
}

export class InterfaceSource extends Source<InterfaceConfig> {
  static override description = 'Network interface traffic: bytes and packets per second sent and received';
  static override schema = schema;

  private readonly procfs = useProcfs(this.config.backend);
  private readonly rates = new RateTracker();
  /** Rate keys and labels of an interface, made once: a tick then builds no strings for them. */
  private readonly devices = new SeriesCache<DeviceKeys>((name) => ({
    labels: { interface: labelName(name) },
    keys: FIELDS.map(([field]) => `${name}\0${field}`),
  }));

  // Synchronous on Linux: no promise per tick for a read that cannot block.
  probe(_ctx: ProbeContext): Sample[] | Promise<Sample[]> {
    if (!this.procfs) {
      return siNetCounters().then(
        (list) => this.samples(list, monotonicMs()),
        (err: unknown) => {
          throw new SourceError(readError('network counters', err));
        },
      );
    }
    let list: NetCounters[];
    try {
      list = parseNetDev(readProcShared('/proc/net/dev'));
    } catch (err) {
      throw new SourceError(readError('/proc/net/dev', err));
    }
    return this.samples(list, monotonicMs());
  }

  private samples(list: NetCounters[], now: number): Sample[] {
    const { include, exclude, includeTotal } = this.config;
    const out: Sample[] = [];
    for (let i = 0; i < list.length; i++) {
      const nic = list[i]!;
      if (!acceptName(nic.name, include, exclude)) continue;
      const dev = this.devices.get(nic.name);
      for (let f = 0; f < FIELDS.length; f++) {
        // Indexing, not destructuring: destructuring runs the iterator protocol in unoptimised code.
        const spec = FIELDS[f]!;
        const total = spec[1];
        const rate = spec[2];
        const v = nic[spec[0]];
        if (!Number.isFinite(v)) continue;
        if (includeTotal) out.push({ name: total, value: v, labels: dev.labels, type: 'counter' });
        const r = this.rates.rate(dev.keys[f]!, v, now);
        if (r !== undefined) out.push({ name: rate, value: r, labels: dev.labels });
      }
    }
    this.rates.sweep();
    return out;
  }
}
