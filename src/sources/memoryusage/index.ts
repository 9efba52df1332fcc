// MemoryUsage: total, available, used, cached and free memory in bytes from /proc/meminfo, with
// `used` as the Python pollect reports it (psutil: total - free - buffers - cached).
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
    // psutil's used (the Python pollect pins psutil 6): what neither the free list nor the caches hold.
    const used = m.total - m.free - m.buffers - m.cached;
    const values = { ...m, used: used < 0 ? m.total - m.free : used };
    return TYPES.map((type) => ({ value: values[type], labels: { type }, unit: 'bytes' }));
  }

  override shutdown(): void {
    this.host.close();
  }
}
