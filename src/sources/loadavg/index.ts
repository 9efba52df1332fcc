// LoadAvg: the 1, 5 and 15 minute load averages from /proc/loadavg.
import { Source, type ProbeContext, type Sample, type SourceConfig } from '../../sdk/index.js';
import type { JsonSchema } from '../../sdk/index.js';
import { backendSchema, hostReader, type HostBackend } from '../../host/reader.js';

export interface LoadAvgConfig extends SourceConfig {
  backend?: HostBackend;
}

export class LoadAvgSource extends Source<LoadAvgConfig> {
  static override description = 'System load average over 1, 5 and 15 minutes';
  static override schema: JsonSchema = { type: 'object', properties: { backend: backendSchema } };

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
