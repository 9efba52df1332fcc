// MemoryUsage: total, available, used, cached and free memory in bytes from /proc/meminfo.
import { Source, SourceError, type JsonSchema, type ProbeContext, type Sample, type SourceParams } from '../../sdk/index.js';
import { readError, readMemSummary, readProcShared, type MemSummary } from '../lib/procfs.js';
import { backendSchema, siMemory, useProcfs } from '../lib/sysinfo.js';

const schema = { type: 'object', additionalProperties: false, properties: { backend: backendSchema } } as const satisfies JsonSchema;

export type MemoryUsageConfig = SourceParams<typeof schema>;

const TYPES = ['total', 'available', 'used', 'cached', 'free'] as const;
// One label object per type for the life of the process: nothing changes a sample's labels.
const LABELS = TYPES.map((type) => ({ type }));

export class MemoryUsageSource extends Source<MemoryUsageConfig> {
  static override description = 'System memory: total, available, used, cached and free bytes';
  static override schema = schema;

  private readonly procfs = useProcfs(this.config.backend);

  // Synchronous on Linux: no promise per tick for a read that cannot block.
  probe(_ctx: ProbeContext): Sample[] | Promise<Sample[]> {
    if (!this.procfs) {
      return siMemory().then(samples, (err: unknown) => {
        throw new SourceError(readError('memory figures', err));
      });
    }
    try {
      return samples(readMemSummary(readProcShared('/proc/meminfo')));
    } catch (err) {
      throw new SourceError(readError('/proc/meminfo', err));
    }
  }
}

function samples(m: MemSummary): Sample[] {
  const out: Sample[] = [];
  for (let i = 0; i < TYPES.length; i++) out.push({ value: m[TYPES[i]!], labels: LABELS[i], unit: 'bytes' });
  return out;
}
