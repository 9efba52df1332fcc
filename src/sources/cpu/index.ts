// Cpu: utilisation percent by mode (user, system, iowait, idle, steal, ...), overall and per core,
// from the jiffy counters of /proc/stat between two probes; for writers with Prometheus names, the
// CPU seconds themselves (`seconds_total`, a counter), which Prometheus rates at any interval.
import { Source, type JsonSchema, type ProbeContext, type Sample, type SourceParams } from '../../sdk/index.js';
import { CPU_MODES, cpuPercents, type CpuTimes } from '../../host/proc-parse.js';
import { backendSchema, hostReader } from '../../host/reader.js';

const schema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    perCpu: { type: 'boolean', default: true, description: 'Also report each core (label cpu = 0, 1, ...)' },
    backend: backendSchema,
  },
} as const satisfies JsonSchema;

export type CpuConfig = SourceParams<typeof schema>;

export class CpuSource extends Source<CpuConfig> {
  static override description = 'CPU utilisation percent by mode, overall and per core';
  static override schema = schema;

  private readonly host = hostReader(this.config.backend);
  private prev = new Map<string, CpuTimes['times']>();

  async probe(ctx: ProbeContext): Promise<Sample[]> {
    const { perCpu } = this.config;
    const seconds = ctx.wants('prometheus');
    const percents = ctx.wants('pollect');
    const list = (await this.host.cpuTimes()).filter((c) => perCpu || c.cpu === 'all');
    const out: Sample[] = [];
    const hz = this.host.cpuTimeHz;
    for (const { cpu, times } of list) {
      if (seconds) {
        for (const mode of CPU_MODES)
          out.push({ name: 'seconds_total', value: times[mode] / hz, labels: { cpu, mode }, type: 'counter', unit: 'seconds', naming: 'prometheus' });
      }
      if (!percents) continue;
      const before = this.prev.get(cpu);
      const pct = before && cpuPercents(before, times);
      if (!pct) continue;
      for (const mode of CPU_MODES) out.push({ value: pct[mode], labels: { cpu, mode }, unit: 'percent', naming: 'pollect' });
    }
    this.prev = new Map(list.map((c) => [c.cpu, c.times]));
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
