// MemoryUsage: total, available, used, cached and free memory in bytes from /proc/meminfo.
import { Source, type JsonSchema, type ProbeContext, type Sample, type SourceParams } from '../../sdk/index.js';
import { backendSchema, hostReader } from '../../host/reader.js';

const schema = { type: 'object', additionalProperties: false, properties: { backend: backendSchema } } as const satisfies JsonSchema;

export type MemoryUsageConfig = SourceParams<typeof schema>;

const TYPES = ['total', 'available', 'used', 'cached', 'free'] as const;

export class MemoryUsageSource extends Source<MemoryUsageConfig> {
  static override description = 'System memory: total, available, used, cached and free bytes';
  static override schema = schema;

  private readonly host = hostReader(this.config.backend);

  async probe(_ctx: ProbeContext): Promise<Sample[]> {
    const m = await this.host.memory();
    return TYPES.map((type) => ({ value: m[type], labels: { type }, unit: 'bytes' }));
  }

  override shutdown(): void {
    this.host.close();
  }
}
