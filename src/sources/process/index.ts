// Process: CPU load and memory of the processes whose command line matches a regex, and how many
// match.
import { Source, SourceError, type InitContext, type ProbeContext, type Sample, type SourceConfig } from '../../sdk/index.js';
import type { JsonSchema } from '../../sdk/index.js';
import { waitBudget } from '../../host/guard.js';
import { backendSchema, hostReader, type HostBackend, type ProcessWatch } from '../../host/reader.js';

export interface ProcessConfig extends SourceConfig {
  procRegex: string;
  memory?: boolean;
  load?: boolean;
  backend?: HostBackend;
}

export class ProcessSource extends Source<ProcessConfig> {
  static override description = 'CPU load and memory of processes whose command line matches a regex';
  static override schema: JsonSchema = {
    type: 'object',
    required: ['procRegex'],
    properties: {
      procRegex: { type: 'string', description: 'Regex searched in the command line (arguments joined by spaces)' },
      memory: { type: 'boolean', description: 'Emit virtual_memory and resident_memory (default true)' },
      load: { type: 'boolean', description: 'Emit load_percent (default true)' },
      backend: backendSchema,
    },
  };

  private readonly host = hostReader(this.config.backend);
  private regex: RegExp | undefined;
  private watch: ProcessWatch | undefined;

  override init(_ctx: InitContext): void {
    this.compile();
  }

  private compile(): RegExp {
    if (this.regex) return this.regex;
    try {
      this.regex = new RegExp(this.config.procRegex);
    } catch (err) {
      throw new SourceError(`invalid procRegex ${JSON.stringify(this.config.procRegex)}: ${(err as Error).message}`);
    }
    return this.regex;
  }

  async probe(ctx: ProbeContext): Promise<Sample[]> {
    this.watch ??= this.host.processes(this.compile());
    const list = await this.watch.read(waitBudget(ctx.timeoutMs));
    const memory = this.config.memory ?? true;
    const load = this.config.load ?? true;
    const out: Sample[] = [];
    list.forEach((p, i) => {
      const labels = { pidx: String(i) };
      if (load && p.cpuPercent !== undefined) out.push({ name: 'load_percent', value: p.cpuPercent, labels, unit: 'percent' });
      if (memory) {
        out.push({ name: 'virtual_memory', value: p.vsizeBytes, labels, unit: 'bytes' });
        out.push({ name: 'resident_memory', value: p.rssBytes, labels, unit: 'bytes' });
      }
    });
    out.push({ name: 'process_count', value: list.length, labels: { pidx: 'all' } });
    return out;
  }

  override shutdown(): void {
    this.host.close();
  }
}
