// MemoryUsage: total, available, used, cached and free memory in bytes from /proc/meminfo.
import { Source, type ProbeContext, type Sample, type SourceConfig } from '../../sdk/index.js';
import type { JsonSchema } from '../../sdk/index.js';
import { backendSchema, hostReader, type HostBackend } from '../../host/reader.js';

export interface MemoryUsageConfig extends SourceConfig {
  backend?: HostBackend;
}

const TYPES = ['total', 'available', 'used', 'cached', 'free'] as const;

export class MemoryUsageSource extends Source<MemoryUsageConfig> {
  static override description = 'System memory: total, available, used, cached and free bytes';
  static override schema: JsonSchema = { type: 'object', properties: { backend: backendSchema } };

  private readonly host = hostReader(this.config.backend);

  async probe(_ctx: ProbeContext): Promise<Sample[]> {
    const m = await this.host.memory();
    return TYPES.map((type) => ({ value: m[type], labels: { type }, unit: 'bytes' }));
  }

  override shutdown(): void {
    this.host.close();
  }
}
