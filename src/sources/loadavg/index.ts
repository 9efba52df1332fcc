// LoadAvg: the 1, 5 and 15 minute load averages from /proc/loadavg.
import { Source, SourceError, type ProbeContext, type Sample, type SourceConfig } from '../../sdk/index.js';
import type { JsonSchema } from '../../sdk/index.js';
import { parseLoadavg, readError, readProcShared } from '../lib/procfs.js';
import { backendSchema, osLoadavg, useProcfs, type HostBackend } from '../lib/sysinfo.js';

export interface LoadAvgConfig extends SourceConfig {
  backend?: HostBackend;
}

const TIMES = ['short', 'mid', 'long'] as const;
// One label object per period for the life of the process: nothing changes a sample's labels.
const LABELS = TIMES.map((time) => ({ time }));

export class LoadAvgSource extends Source<LoadAvgConfig> {
  static override description = 'System load average over 1, 5 and 15 minutes';
  static override schema: JsonSchema = { type: 'object', properties: { backend: backendSchema } };

  private readonly procfs = useProcfs(this.config.backend);

  probe(_ctx: ProbeContext): Sample[] {
    let la: [number, number, number];
    try {
      la = this.procfs ? parseLoadavg(readProcShared('/proc/loadavg')) : osLoadavg();
    } catch (err) {
      throw new SourceError(readError('/proc/loadavg', err));
    }
    return [
      { value: la[0], labels: LABELS[0] },
      { value: la[1], labels: LABELS[1] },
      { value: la[2], labels: LABELS[2] },
    ];
  }
}
