// MemoryUsage: total, available, used, cached and free memory in bytes from /proc/meminfo; for
// writers with Prometheus names also every field of /proc/meminfo as it is (`meminfo{field}`).
import { Source, type JsonSchema, type ProbeContext, type Sample, type SourceParams } from '../../sdk/index.js';
import { memSummary } from '../../host/proc-parse.js';
import { backendSchema, hostReader } from '../../host/reader.js';

const schema = { type: 'object', additionalProperties: false, properties: { backend: backendSchema } } as const satisfies JsonSchema;

export type MemoryUsageConfig = SourceParams<typeof schema>;

const TYPES = ['total', 'available', 'used', 'cached', 'free'] as const;

/** Fields /proc/meminfo gives as a count, not in kB (so not in bytes). */
const COUNTS = /^HugePages_/;

export class MemoryUsageSource extends Source<MemoryUsageConfig> {
  static override description = 'System memory: total, available, used, cached and free bytes';
  static override schema = schema;

  private readonly host = hostReader(this.config.backend);

  async probe(_ctx: ProbeContext): Promise<Sample[]> {
    // One read of /proc/meminfo gives both the summary and the fields.
    const fields = await this.host.meminfo();
    const m = fields ? memSummary(fields) : await this.host.memory();
    const out: Sample[] = TYPES.map((type) => ({ value: m[type], labels: { type }, unit: 'bytes' }));
    if (fields) {
      for (const [field, value] of fields) {
        out.push({ name: 'meminfo', value, labels: { field }, unit: COUNTS.test(field) ? undefined : 'bytes', naming: 'prometheus' });
      }
    }
    return out;
  }

  override shutdown(): void {
    this.host.close();
  }
}
