// Host: chouette-iot's HostStats collector. CPU busy percent, filesystem used/free per device,
// load average, memory used/available and (on request) bytes sent/received per interface, and the
// boot time and uname for writers with Prometheus names (node_boot_time_seconds, node_uname_info).
import { readFileSync } from 'node:fs';
import { hostname, machine, release, type, version } from 'node:os';
import { Source, SourceError, type JsonSchema, type ProbeContext, type Sample, type SourceParams } from '../../sdk/index.js';
import { waitBudget } from '../../host/guard.js';
import { CPU_MODES, cpuPercents, type CpuTimes } from '../../host/proc-parse.js';
import { backendSchema, hostReader } from '../../host/reader.js';

const schema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    metrics: {
      type: 'array',
      items: { type: 'string', enum: ['cpu', 'fs', 'la', 'ram', 'network', 'system'] },
      uniqueItems: true,
      default: ['cpu', 'fs', 'la', 'ram'],
      description: 'Parts to collect (system: boot time, clock and uname, for writers with Prometheus names)',
    },
    backend: backendSchema,
  },
} as const satisfies JsonSchema;

export type HostConfig = SourceParams<typeof schema>;
export type HostMetric = HostConfig['metrics'][number];

const PERIODS = ['1m', '5m', '15m'] as const;
/** The order of the output, whatever the order in `metrics`. */
const METRICS: readonly HostMetric[] = ['cpu', 'fs', 'la', 'ram', 'network', 'system'];

export class HostSource extends Source<HostConfig> {
  static override description = "Host stats as chouette-iot's HostStats: cpu percent, fs used/free, load, memory, network bytes";
  static override schema = schema;

  private readonly host = hostReader(this.config.backend);
  private readonly metrics = new Set<HostMetric>(this.config.metrics);
  private prevCpu: CpuTimes['times'] | undefined;

  async probe(ctx: ProbeContext): Promise<Sample[]> {
    // Independent parts: one that fails does not hide the others, unless all fail.
    const parts = await Promise.allSettled(METRICS.filter((m) => this.metrics.has(m)).map((m) => this.part(m, ctx)));
    const out: Sample[] = [];
    const errors: string[] = [];
    for (const p of parts) {
      if (p.status === 'fulfilled') out.push(...p.value);
      else errors.push(p.reason instanceof Error ? p.reason.message : String(p.reason));
    }
    if (errors.length === parts.length && errors.length > 0) throw new SourceError(errors.join('; '));
    if (errors.length > 0) ctx.reportProblem(errors.join('; '));
    return out;
  }

  /** cpu.percentage needs a previous reading (see Source.reportsChanges). */
  override get reportsChanges(): boolean {
    return this.metrics.has('cpu');
  }

  override shutdown(): void {
    this.host.close();
  }

  private part(metric: HostMetric, ctx: ProbeContext): Promise<Sample[]> {
    switch (metric) {
      case 'cpu':
        return this.cpu(ctx);
      case 'fs':
        return this.fs(ctx);
      case 'la':
        return this.la();
      case 'ram':
        return this.ram();
      case 'network':
        return this.network();
      case 'system':
        return ctx.wants('prometheus') ? this.system() : Promise.resolve([]);
    }
  }

  private async cpu(ctx: ProbeContext): Promise<Sample[]> {
    const all = (await this.host.cpuTimes()).find((c) => c.cpu === 'all');
    if (!all) throw new SourceError('no aggregate cpu line in /proc/stat');
    const prev = this.prevCpu;
    this.prevCpu = all.times;
    const hz = this.host.cpuTimeHz;
    const seconds = ctx.wants('prometheus') ? CPU_MODES : [];
    const out: Sample[] = seconds.map((mode) => ({
      name: 'cpu.seconds_total',
      value: all.times[mode] / hz,
      labels: { mode },
      type: 'counter',
      unit: 'seconds',
      naming: 'prometheus',
    }));
    const pct = prev && cpuPercents(prev, all.times);
    // psutil's cpu_percent: busy is everything but idle and iowait.
    if (pct) out.push({ name: 'cpu.percentage', value: 100 - pct.idle - pct.iowait, unit: 'percent', naming: 'pollect' });
    return out;
  }

  /** Boot time, the clock (for uptime: time - boot time) and uname, as node_exporter has them. */
  private async system(): Promise<Sample[]> {
    const boot = await this.host.bootTime();
    const uname = {
      sysname: type(),
      nodename: hostname(),
      release: release(),
      version: version(),
      machine: machine(),
      domainname: domainname(),
    };
    return [
      { name: 'boot_time_seconds', value: boot, unit: 'seconds', naming: 'prometheus' },
      { name: 'time_seconds', value: Date.now() / 1000, unit: 'seconds', naming: 'prometheus' },
      { name: 'uname_info', value: 1, labels: uname, naming: 'prometheus' },
    ];
  }

  private async fs(ctx: ProbeContext): Promise<Sample[]> {
    // Every local filesystem, each device once (the same device mounted twice counts once).
    const { usage, errors } = await this.host.fsUsage(undefined, waitBudget(ctx.timeoutMs));
    if (errors.length > 0) ctx.reportProblem(errors.map((e) => e.message).join('; '));
    return usage.flatMap((u) => {
      const labels = { device: u.device ?? u.path };
      return [
        { name: 'fs.used', value: u.used, labels, unit: 'bytes' },
        { name: 'fs.free', value: u.free, labels, unit: 'bytes' },
      ];
    });
  }

  private async la(): Promise<Sample[]> {
    const la = await this.host.loadAvg();
    return PERIODS.map((period, i) => ({ name: 'la', value: la[i]!, labels: { period } }));
  }

  private async ram(): Promise<Sample[]> {
    const mem = await this.host.memory();
    return [
      { name: 'memory.used', value: mem.used, unit: 'bytes' },
      { name: 'memory.available', value: mem.available, unit: 'bytes' },
    ];
  }

  private async network(): Promise<Sample[]> {
    return (await this.host.netCounters())
      .filter((nic) => nic.name !== 'lo')
      .flatMap((nic) => {
        const labels = { iface: nic.name };
        return [
          { name: 'network.bytes.sent', value: nic.txBytes, labels, type: 'counter' as const },
          { name: 'network.bytes.recv', value: nic.rxBytes, labels, type: 'counter' as const },
        ];
      });
  }
}

/** The NIS domain name as uname(2) gives it; `(none)` where unset or unknown, as the kernel says. */
function domainname(): string {
  try {
    return readFileSync('/proc/sys/kernel/domainname', 'latin1').trim() || '(none)';
  } catch {
    return '(none)';
  }
}
