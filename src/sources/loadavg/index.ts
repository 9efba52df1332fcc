// LoadAvg: the 1, 5 and 15 minute load averages from /proc/loadavg.
import { Source, SourceError, type JsonSchema, type ProbeContext, type Sample, type SourceParams } from '../../sdk/index.js';
import { parseLoadavg, readError, readProcShared } from '../lib/procfs.js';
import { backendSchema, osLoadavg, useProcfs } from '../lib/sysinfo.js';

const schema = { type: 'object', additionalProperties: false, properties: { backend: backendSchema } } as const satisfies JsonSchema;

export type LoadAvgConfig = SourceParams<typeof schema>;

const TIMES = ['short', 'mid', 'long'] as const;
// One label object per period for the life of the process: nothing changes a sample's labels.
const LABELS = TIMES.map((time) => ({ time }));

export class LoadAvgSource extends Source<LoadAvgConfig> {
  static override description = 'System load average over 1, 5 and 15 minutes';
  static override schema = schema;

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
