// MemoryUsage: total, available, used, cached and free memory in bytes from /proc/meminfo.
import { Source, SourceError, type ProbeContext, type Sample, type SourceConfig } from '../source.js';
import type { JsonSchema } from '../../config/schema-types.js';
import { readError, readMemSummary, readProc, type MemSummary } from '../lib/procfs.js';
import { backendSchema, siMemory, useProcfs, type HostBackend } from '../lib/sysinfo.js';

export interface MemoryUsageConfig extends SourceConfig {
  backend?: HostBackend;
}

const TYPES = ['total', 'available', 'used', 'cached', 'free'] as const;

export class MemoryUsageSource extends Source<MemoryUsageConfig> {
  static override description = 'System memory: total, available, used, cached and free bytes';
  static override schema: JsonSchema = { type: 'object', properties: { backend: backendSchema } };

  private readonly procfs = useProcfs(this.config.backend);

  async probe(_ctx: ProbeContext): Promise<Sample[]> {
    let m: MemSummary;
    try {
      m = this.procfs ? readMemSummary(readProc('/proc/meminfo')) : await siMemory();
    } catch (err) {
      throw new SourceError(readError(this.procfs ? '/proc/meminfo' : 'memory figures', err));
    }
    return TYPES.map((type) => ({ value: m[type], labels: { type }, unit: 'bytes' }));
  }
}
