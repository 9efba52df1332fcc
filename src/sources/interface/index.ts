// Interface: per network interface, send/receive rates (bytes and packets per second) from
// /proc/net/dev, and optionally the raw counters. Rates divide by the real elapsed time. Writers
// with Prometheus names get the counters instead (bytes, packets, errors, drops: `_total`).
import { Source, type JsonSchema, type ProbeContext, type Sample, type SourceParams } from '../../sdk/index.js';
import { namesParam } from '../../sdk/params.js';
import { RateTracker, monotonicMs } from '../../sdk/rate.js';
import { acceptName, labelName } from '../../host/names.js';
import { backendSchema, hostReader } from '../../host/reader.js';

const schema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    include: { ...namesParam, description: 'Interfaces to report (default: all)' },
    exclude: { ...namesParam, description: 'Interface names to leave out' },
    includeTotal: {
      type: 'boolean',
      default: false,
      description: "Also emit the raw counters total_bytes_sent, ... under pollect's names (Prometheus' names always get counters)",
    },
    backend: backendSchema,
  },
} as const satisfies JsonSchema;

export type InterfaceConfig = SourceParams<typeof schema>;

// pollect's order and names: counter field, total name, rate name, the rate's unit. The totals'
// names end in a direction, not a unit, so they declare none (it would be appended after it).
const FIELDS = [
  ['txBytes', 'total_bytes_sent', 'sent_bytes_sec', 'bytes/s'],
  ['txPackets', 'total_packets_sent', 'sent_packets_sec', 'packets/s'],
  ['rxBytes', 'total_bytes_recv', 'recv_bytes_sec', 'bytes/s'],
  ['rxPackets', 'total_packets_recv', 'recv_packets_sec', 'packets/s'],
] as const;

// The counters for writers with Prometheus names: field, name, unit.
const COUNTERS = [
  ['rxBytes', 'receive_bytes_total', 'bytes'],
  ['rxPackets', 'receive_packets_total', undefined],
  ['rxErrs', 'receive_errs_total', undefined],
  ['rxDrop', 'receive_drop_total', undefined],
  ['txBytes', 'transmit_bytes_total', 'bytes'],
  ['txPackets', 'transmit_packets_total', undefined],
  ['txErrs', 'transmit_errs_total', undefined],
  ['txDrop', 'transmit_drop_total', undefined],
] as const;

export class InterfaceSource extends Source<InterfaceConfig> {
  static override description = 'Network interface traffic: bytes and packets per second sent and received';
  static override schema = schema;

  private readonly host = hostReader(this.config.backend);
  private readonly rates = new RateTracker();

  async probe(ctx: ProbeContext): Promise<Sample[]> {
    const rates = ctx.wants('pollect');
    const counters = ctx.wants('prometheus');
    const list = await this.host.netCounters();
    const now = monotonicMs();
    const { include, exclude, includeTotal } = this.config;
    const out: Sample[] = [];
    for (const nic of list) {
      if (!acceptName(nic.name, include, exclude)) continue;
      const labels = { interface: labelName(nic.name) };
      for (const [field, total, rate, unit] of rates ? FIELDS : []) {
        const v = nic[field];
        if (!Number.isFinite(v)) continue;
        if (includeTotal) out.push({ name: total, value: v, labels, type: 'counter', naming: 'pollect' });
        const r = this.rates.rate(`${nic.name}\0${field}`, v, now);
        if (r !== undefined) out.push({ name: rate, value: r, labels, unit, naming: 'pollect' });
      }
      // The kernel's name as it is: Prometheus labels need no Graphite-safe dots.
      const raw = { interface: nic.name };
      for (const [field, name, unit] of counters ? COUNTERS : []) {
        const v = nic[field];
        if (Number.isFinite(v)) out.push({ name, value: v, labels: raw, type: 'counter', unit, naming: 'prometheus' });
      }
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
}
