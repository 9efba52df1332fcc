// Process: CPU load and memory of the processes whose command line matches a regex, and how many
// match. The host reader (src/host/processes.ts) caches command lines per process. Writers with
// Prometheus names get the CPU seconds (a counter) instead of the load percent.
import { Source, type JsonSchema, type PluginContext, type ProbeContext, type Sample, type SourceParams } from '../../sdk/index.js';
import { compileRegex } from '../../sdk/params.js';
import { waitBudget } from '../../host/guard.js';
import { backendSchema, hostReader, type ProcessWatch } from '../../host/reader.js';

const schema = {
  type: 'object',
  additionalProperties: false,
  required: ['procRegex'],
  properties: {
    procRegex: {
      type: 'string',
      description: "Regex searched in the command line (arguments joined by spaces); JavaScript syntax, or the Python pollect's ((?i), (?P<name>...))",
    },
    memory: { type: 'boolean', default: true, description: 'Emit virtual_memory and resident_memory' },
    load: { type: 'boolean', default: true, description: 'Emit load_percent' },
    backend: backendSchema,
  },
} as const satisfies JsonSchema;

export type ProcessConfig = SourceParams<typeof schema>;

export class ProcessSource extends Source<ProcessConfig> {
  static override description = 'CPU load and memory of processes whose command line matches a regex';
  static override schema = schema;

  private readonly host = hostReader(this.config.backend);
  private readonly regex: RegExp;
  private watch: ProcessWatch | undefined;

  constructor(config: ProcessConfig, context?: PluginContext) {
    super(config, context);
    this.regex = compileRegex('procRegex', config.procRegex);
  }

  async probe(ctx: ProbeContext): Promise<Sample[]> {
    this.watch ??= this.host.processes(this.regex);
    const list = await this.watch.read(waitBudget(ctx.timeoutMs));
    const { memory, load } = this.config;
    const out: Sample[] = [];
    list.forEach((p, i) => {
      const labels = { pidx: String(i) };
      // A process's first probe has no interval to measure: 0, as psutil's first cpu_percent() in the Python pollect.
      if (load) out.push({ name: 'load_percent', value: p.cpuPercent ?? 0, labels, unit: 'percent', naming: 'pollect' });
      // Prometheus rates the CPU seconds itself (percent of a core = 100 * rate).
      if (load && p.cpuSeconds !== undefined && ctx.wants('prometheus')) {
        out.push({ name: 'cpu_seconds_total', value: p.cpuSeconds, labels, type: 'counter', unit: 'seconds', naming: 'prometheus' });
      }
      if (memory) {
        out.push({ name: 'virtual_memory', value: p.vsizeBytes, labels, unit: 'bytes' });
        out.push({ name: 'resident_memory', value: p.rssBytes, labels, unit: 'bytes' });
      }
    });
    out.push({ name: 'process_count', value: list.length, labels: { pidx: 'all' } });
    return out;
  }

  /** load_percent needs a previous reading (see Source.reportsChanges). */
  override get reportsChanges(): boolean {
    return this.config.load;
  }

  override shutdown(): void {
    this.host.close();
  }
}
