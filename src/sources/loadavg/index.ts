// LoadAvg: the 1, 5 and 15 minute load averages from /proc/loadavg.
import { Source, type JsonSchema, type ProbeContext, type Sample, type SourceParams } from '../../sdk/index.js';
import { backendSchema, hostReader } from '../../host/reader.js';

const schema = { type: 'object', additionalProperties: false, properties: { backend: backendSchema } } as const satisfies JsonSchema;

export type LoadAvgConfig = SourceParams<typeof schema>;

export class LoadAvgSource extends Source<LoadAvgConfig> {
  static override description = 'System load average over 1, 5 and 15 minutes';
  static override schema = schema;

  private readonly host = hostReader(this.config.backend);

  async probe(_ctx: ProbeContext): Promise<Sample[]> {
    const [short, mid, long] = await this.host.loadAvg();
    return [
      { value: short, labels: { time: 'short' } },
      { value: mid, labels: { time: 'mid' } },
      { value: long, labels: { time: 'long' } },
    ];
  }

  override shutdown(): void {
    this.host.close();
  }
}
