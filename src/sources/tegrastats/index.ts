// Tegrastats (chouette-iot's TegrastatsCollector): RAM, temperatures, CPU, GPU, power rails and swap
// of an NVIDIA Jetson board, from one long-lived `tegrastats --interval <ms>` child whose lines are
// parsed as they arrive; probe() reports the latest line.
import {
  Source,
  SourceError,
  type InitContext,
  type JsonSchema,
  type PluginContext,
  type ProbeContext,
  type Sample,
  type SourceParams,
} from '../../sdk/index.js';
import { resolvePath } from '../../sdk/params.js';
import { monotonicMs } from '../../sdk/rate.js';
import { LineChild, formatDelay } from '../../sdk/child.js';
import { parseTegrastatsLine, type TegraReading } from './parse.js';
import { Wakeup } from '../../sdk/wakeup.js';

export const TEGRASTATS_METRICS = ['ram', 'temp', 'cpu', 'gpu', 'power', 'swap'] as const;
export type TegrastatsMetric = (typeof TEGRASTATS_METRICS)[number];

const schema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    path: {
      type: 'string',
      minLength: 1,
      default: 'tegrastats',
      description: 'The tegrastats executable; looked up on PATH unless it contains / (then relative to the config file)',
    },
    interval: { type: 'integer', minimum: 10, default: 1000, description: 'Milliseconds between tegrastats lines (--interval)' },
    metrics: {
      type: 'array',
      items: { type: 'string', enum: TEGRASTATS_METRICS },
      uniqueItems: true,
      default: ['ram', 'temp'],
      description: 'What to report',
    },
    restartDelay: {
      type: 'number',
      exclusiveMinimum: 0,
      default: 1,
      description: 'Seconds before restarting a dead tegrastats; doubles on each failed restart, up to 60 s',
    },
  },
} as const satisfies JsonSchema;

export type TegrastatsConfig = SourceParams<typeof schema>;

const MAX_RESTART_DELAY_MS = 60_000;
const MAX_LINE_BYTES = 64 * 1024;

export class TegrastatsSource extends Source<TegrastatsConfig> {
  static override description = 'NVIDIA Jetson stats (RAM, temperatures, CPU, GPU, power rails, swap) from a running tegrastats';
  static override schema = schema;

  private child: LineChild | undefined;
  private latest: { reading: TegraReading; at: number } | undefined;
  /** The last problem since the last good line; while set, probes fail with it. */
  private problem: string | undefined;
  private readonly arrivals = new Wakeup();
  private shutDown = false;
  private readonly file: string;
  private readonly intervalMs: number;

  constructor(config: TegrastatsConfig, context?: PluginContext) {
    super(config, context);
    this.file = config.path.includes('/') ? resolvePath(this.context, config.path) : config.path;
    this.intervalMs = config.interval;
  }

  override init(_ctx: InitContext): void {
    this.ensureStarted();
  }

  /** The pid of the running tegrastats, if any (for tests and diagnostics). */
  childPid(): number | undefined {
    return this.child?.pid;
  }

  private ensureStarted(): void {
    if (this.child || this.shutDown) return;
    this.child = new LineChild({
      file: this.file,
      args: ['--interval', String(this.intervalMs)],
      maxLineBytes: MAX_LINE_BYTES,
      minRestartMs: Math.round(this.config.restartDelay * 1000),
      maxRestartMs: MAX_RESTART_DELAY_MS,
      onLine: (text) => this.onLine(text),
      onBadLine: (lineNo, reason) => this.setProblem(`${this.file}: line ${lineNo}: ${reason}`),
      onExit: (exit) => this.setProblem(`${exit.message}; restarting in ${formatDelay(exit.restartInMs)}`),
    });
    // A tegrastats that cannot start yet is retried with backoff; probes fail meanwhile.
    this.child.start().catch((err: unknown) => this.setProblem((err as Error).message));
  }

  private onLine(line: string): void {
    const text = line.trim();
    if (text === '') return;
    try {
      this.latest = { reading: parseTegrastatsLine(text), at: monotonicMs() };
      this.problem = undefined;
      this.arrivals.wake();
    } catch (err) {
      this.setProblem(`${this.file}: ${(err as Error).message}`);
    }
  }

  private setProblem(message: string): void {
    this.problem = message;
    this.arrivals.wake();
  }

  async probe(ctx: ProbeContext): Promise<Sample[]> {
    if (this.shutDown) throw new SourceError('the Tegrastats source is shut down');
    this.ensureStarted();
    if (!this.latest && this.problem === undefined) await this.arrivals.wait(ctx, `no output from ${this.file} within ${ctx.timeoutMs} ms`);
    if (this.problem !== undefined) throw new SourceError(this.problem);
    const latest = this.latest!;
    const age = monotonicMs() - latest.at;
    // A child that is alive but silent (hung driver, stopped process) must not freeze the values.
    const staleMs = 3 * this.intervalMs + 1000;
    if (age > staleMs) throw new SourceError(`no new line from ${this.file} for ${Math.round(age)} ms (interval ${this.intervalMs} ms)`);
    return readingSamples(latest.reading, new Set(this.config.metrics));
  }

  override async shutdown(): Promise<void> {
    this.shutDown = true;
    const child = this.child;
    this.child = undefined;
    await child?.stop();
  }
}

/** The samples of one reading, for the selected metric groups. */
export function readingSamples(r: TegraReading, metrics: ReadonlySet<TegrastatsMetric>): Sample[] {
  const out: Sample[] = [];
  if (metrics.has('ram')) {
    out.push({ name: 'ram.used', value: r.ram.used, unit: 'bytes', help: 'RAM in use (tegrastats prints MB)' });
    out.push({ name: 'ram.free', value: r.ram.total - r.ram.used, unit: 'bytes', help: 'RAM total minus used' });
  }
  if (metrics.has('swap') && r.swap) {
    out.push({ name: 'swap.used', value: r.swap.used, unit: 'bytes' });
    out.push({ name: 'swap.free', value: r.swap.total - r.swap.used, unit: 'bytes' });
    if (r.swap.cached !== undefined) out.push({ name: 'swap.cached', value: r.swap.cached, unit: 'bytes' });
  }
  if (metrics.has('temp')) {
    for (const t of r.temps) out.push({ name: 'temperature', value: t.celsius, labels: { zone: t.zone }, unit: 'celsius' });
  }
  if (metrics.has('cpu')) {
    for (const c of r.cpus) {
      const labels = { core: String(c.core) };
      out.push({ name: 'cpu.online', value: c.online ? 1 : 0, labels, help: '1 when the core is online, 0 when tegrastats shows it off' });
      if (c.load !== undefined) out.push({ name: 'cpu.load', value: c.load, labels, unit: 'percent' });
      if (c.freq !== undefined) out.push({ name: 'cpu.freq', value: c.freq, labels, unit: 'MHz' });
    }
  }
  if (metrics.has('gpu') && r.gpu) {
    if (r.gpu.load !== undefined) out.push({ name: 'gpu.load', value: r.gpu.load, unit: 'percent', help: 'GR3D (GPU) load' });
    r.gpu.freqs.forEach((f, i) => out.push({ name: 'gpu.freq', value: f, labels: { gpc: String(i) }, unit: 'MHz' }));
  }
  if (metrics.has('power')) {
    for (const p of r.rails) {
      const labels = { rail: p.rail };
      out.push({ name: 'power.current', value: p.current, labels, unit: 'mW' });
      out.push({ name: 'power.average', value: p.average, labels, unit: 'mW' });
    }
  }
  return out;
}
