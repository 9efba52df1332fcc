// Zfs (the Python pollect's ZfsSource): size and I/O of every ZFS pool, from one long-lived
// `zpool iostat -Hp <interval>` child whose lines are read as they arrive. A probe reports, per
// pool, the latest size and the mean of the rates printed since the previous probe.
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
import { parseZpoolIostatLine, type PoolIostat } from './parse.js';
import { Wakeup } from '../../sdk/wakeup.js';

const schema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    path: {
      type: 'string',
      minLength: 1,
      default: 'zpool',
      description: 'The zpool executable; looked up on PATH unless it contains / (then relative to the config file)',
    },
    interval: { type: 'integer', minimum: 1, maximum: 3600, default: 10, description: 'Seconds between the lines zpool iostat prints' },
    pools: {
      type: 'array',
      items: { type: 'string', minLength: 1, pattern: '^[^-\\s][^\\s]*$' },
      default: [],
      description: 'Pools to report (default: all pools)',
    },
    rescan: {
      type: 'number',
      minimum: 60,
      default: 1200,
      description: 'Seconds after which zpool is started again, so pools created since are seen (zpool iostat keeps the pools it started with)',
    },
  },
} as const satisfies JsonSchema;

export type ZfsConfig = SourceParams<typeof schema>;

const MAX_LINE_BYTES = 4096;
const RATES = ['readOps', 'writeOps', 'readBytes', 'writeBytes'] as const;
type Rates = Record<(typeof RATES)[number], number>;

/** What one pool printed: its latest line, and the rates summed since the last probe. */
interface PoolState {
  latest: PoolIostat;
  /** Monotonic ms of the latest line. */
  at: number;
  /** The rates reported (a mean over an interval or, before the first one, since boot). */
  rates: Rates;
  sum: Rates;
  count: number;
}

export class ZfsSource extends Source<ZfsConfig> {
  static override description = 'ZFS pool size and I/O (ops/s, bytes/s) from a running `zpool iostat -Hp`';
  static override schema = schema;

  private child: LineChild | undefined;
  private startedAt = 0;
  private readonly pools = new Map<string, PoolState>();
  /** Pools that printed a line since the child started: zpool's first line per pool is since boot. */
  private seenThisRun = new Set<string>();
  /** The last problem since the last good line; while set, probes fail with it. */
  private problem: string | undefined;
  private shutDown = false;
  private readonly arrivals = new Wakeup();
  private readonly file: string;

  constructor(config: ZfsConfig, context?: PluginContext) {
    super(config, context);
    this.file = config.path.includes('/') ? resolvePath(this.context, config.path) : config.path;
  }

  override init(_ctx: InitContext): void {
    this.ensureStarted();
  }

  /** The pid of the running zpool, if any (for tests and diagnostics). */
  childPid(): number | undefined {
    return this.child?.pid;
  }

  private ensureStarted(): void {
    if (this.child || this.shutDown) return;
    this.startedAt = monotonicMs();
    this.child = new LineChild({
      file: this.file,
      args: ['iostat', '-Hp', String(this.config.interval), ...this.config.pools],
      maxLineBytes: MAX_LINE_BYTES,
      onStart: () => {
        this.seenThisRun = new Set();
        this.startedAt = monotonicMs();
      },
      onLine: (text) => this.onLine(text),
      onBadLine: (lineNo, reason) => this.setProblem(`${this.file}: line ${lineNo}: ${reason}`),
      onExit: (exit) => this.setProblem(`${exit.message}; restarting in ${formatDelay(exit.restartInMs)}`),
    });
    // A zpool that cannot start is retried with backoff; probes fail meanwhile.
    this.child.start().catch((err: unknown) => this.setProblem((err as Error).message));
  }

  private onLine(line: string): void {
    if (line.trim() === '') return;
    let stat: PoolIostat;
    try {
      stat = parseZpoolIostatLine(line);
    } catch (err) {
      this.setProblem(`${this.file}: ${(err as Error).message}`);
      return;
    }
    this.problem = undefined;
    this.arrivals.wake();
    const now = monotonicMs();
    const firstOfRun = !this.seenThisRun.has(stat.pool);
    this.seenThisRun.add(stat.pool);
    let p = this.pools.get(stat.pool);
    if (!p) {
      p = { latest: stat, at: now, rates: pick(stat), sum: zero(), count: 0 };
      this.pools.set(stat.pool, p);
    }
    p.latest = stat;
    p.at = now;
    // The since-boot line stands in only until the pool has printed a real interval.
    if (firstOfRun) return;
    for (const k of RATES) p.sum[k] += stat[k];
    p.count++;
  }

  async probe(ctx: ProbeContext): Promise<Sample[]> {
    if (this.shutDown) throw new SourceError('the Zfs source is shut down');
    this.ensureStarted();
    // zpool prints its since-boot line at once: the first probe waits for it, within its budget.
    if (this.pools.size === 0 && this.problem === undefined) await this.arrivals.wait(ctx, `no output from ${this.file} within ${ctx.timeoutMs} ms`);
    if (this.problem !== undefined) throw new SourceError(this.problem);
    if (monotonicMs() - this.startedAt > this.config.rescan * 1000) await this.restart();

    // A zpool that is alive but silent (a hung pool) must not freeze the values.
    const staleMs = 3 * this.config.interval * 1000 + 1000;
    const now = monotonicMs();
    const out: Sample[] = [];
    for (const [pool, p] of this.pools) {
      if (now - p.at > staleMs) {
        this.pools.delete(pool);
        continue;
      }
      if (p.count > 0) {
        for (const k of RATES) p.rates[k] = p.sum[k] / p.count;
        p.sum = zero();
        p.count = 0;
      }
      out.push(...poolSamples(p.latest, p.rates));
    }
    if (out.length === 0) throw new SourceError(`no pool line from ${this.file} yet`);
    return out;
  }

  private setProblem(message: string): void {
    this.problem = message;
    this.arrivals.wake();
  }

  private async restart(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    await child?.stop();
    this.ensureStarted();
  }

  override async shutdown(): Promise<void> {
    this.shutDown = true;
    const child = this.child;
    this.child = undefined;
    await child?.stop();
  }
}

/** One pool's samples, named and labelled as the Python pollect's. */
export function poolSamples(s: PoolIostat, r: Rates): Sample[] {
  const pool = s.pool;
  return [
    { name: 'capacity', value: s.alloc, labels: { pool, capacity: 'used' }, unit: 'bytes' },
    { name: 'capacity', value: s.free, labels: { pool, capacity: 'free' }, unit: 'bytes' },
    { name: 'operations_per_sec', value: r.readOps, labels: { pool, io: 'read' } },
    { name: 'operations_per_sec', value: r.writeOps, labels: { pool, io: 'write' } },
    { name: 'bandwidth_per_sec', value: r.readBytes, labels: { pool, io: 'read' }, unit: 'bytes/s' },
    { name: 'bandwidth_per_sec', value: r.writeBytes, labels: { pool, io: 'write' }, unit: 'bytes/s' },
  ];
}

function pick(s: PoolIostat): Rates {
  return { readOps: s.readOps, writeOps: s.writeOps, readBytes: s.readBytes, writeBytes: s.writeBytes };
}

function zero(): Rates {
  return { readOps: 0, writeOps: 0, readBytes: 0, writeBytes: 0 };
}
