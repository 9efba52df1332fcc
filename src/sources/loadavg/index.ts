// LoadAvg: the 1, 5 and 15 minute load averages from /proc/loadavg.
import { Source, SourceError, type ProbeContext, type Sample, type SourceConfig } from '../source.js';
import type { JsonSchema } from '../../config/schema-types.js';
import { parseLoadavg, readError, readProc } from '../lib/procfs.js';
import { backendSchema, osLoadavg, useProcfs, type HostBackend } from '../lib/sysinfo.js';

export interface LoadAvgConfig extends SourceConfig {
  backend?: HostBackend;
}

const TIMES = ['short', 'mid', 'long'] as const;

export class LoadAvgSource extends Source<LoadAvgConfig> {
  static override description = 'System load average over 1, 5 and 15 minutes';
  static override schema: JsonSchema = { type: 'object', properties: { backend: backendSchema } };

  private readonly procfs = useProcfs(this.config.backend);

  probe(_ctx: ProbeContext): Sample[] {
    let la: [number, number, number];
    try {
      la = this.procfs ? parseLoadavg(readProc('/proc/loadavg')) : osLoadavg();
    } catch (err) {
      throw new SourceError(readError('/proc/loadavg', err));
    }
    return TIMES.map((time, i) => ({ value: la[i]!, labels: { time } }));
  }
}
