// MemoryUsage: total, available, used, cached and free memory in bytes from /proc/meminfo, with
// `used` as the Python pollect reports it (psutil: total - free - buffers - cached); for writers
// with Prometheus names also every field of /proc/meminfo as it is (`meminfo{field}`).
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

  async probe(ctx: ProbeContext): Promise<Sample[]> {
    // Every field only for a writer with Prometheus names (one read gives the summary too);
    // otherwise just the summary's few.
    const fields = ctx.wants('prometheus') ? await this.host.meminfo() : undefined;
    const m = fields ? memSummary(fields) : await this.host.memory();
    // psutil's used (the Python pollect pins psutil 6): what neither the free list nor the caches hold.
    const used = m.total - m.free - m.buffers - m.cached;
    const values = { ...m, used: used < 0 ? m.total - m.free : used };
    const out: Sample[] = TYPES.map((type) => ({ value: values[type], labels: { type }, unit: 'bytes' }));
    if (fields && ctx.wants('prometheus')) {
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
