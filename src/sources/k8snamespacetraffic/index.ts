// K8sNamespaceTraffic (the Python pollect's K8sNamespaceTrafficSource): TCP bytes sent and received
// by each Kubernetes namespace of this node, grouped by named destination networks. A long-lived
// bpftrace child (tracer.ts, through the SDK's LineChild) prints the bytes per local and remote
// address; each probe maps local addresses to namespaces through containerd (containers.ts) and
// remote ones to the named networks (networks.ts), and reports the totals since start.
import {
  ParamError,
  Source,
  SourceError,
  errorMessage,
  type InitContext,
  type JsonSchema,
  type PluginContext,
  type ProbeContext,
  type Sample,
  type SourceParams,
} from '../../sdk/index.js';
import { resolvePath } from '../../sdk/params.js';
import { runCommand, firstLine } from '../../sdk/command.js';
import { LineChild, formatDelay } from '../../sdk/child.js';
import { ContainerMap } from './containers.js';
import { NamedNetwork, knownNetworks, networkOf, parseCidr, parseIPv4 } from './networks.js';
import { parseTracerLine, tracerProgram } from './tracer.js';

const schema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    networks: {
      type: 'array',
      default: [],
      description: 'Known destination networks, tried in order, before `localhost` and the catch-all `other`',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['name', 'cidrs'],
        properties: {
          name: { type: 'string', minLength: 1, description: 'The `dest_network` label of traffic to this network' },
          cidrs: { type: 'array', items: { type: 'string' }, minItems: 1, description: 'Its IPv4 networks, `a.b.c.d/n`' },
        },
      },
    },
    namespaceLabel: { type: 'string', minLength: 1, default: 'namespace', description: 'Name of the label that carries the Kubernetes namespace' },
    hideLocalhostTraffic: { type: 'boolean', default: true, description: 'Leave out traffic to 127.0.0.0/8 (`dest_network` localhost)' },
    trafficLog: {
      type: 'string',
      enum: ['all', 'unknown'],
      description: "Log each probe's traffic (local, remote, direction, process): `all`, or only `unknown` (no pod, or to the catch-all network)",
    },
    logUnknownTraffic: { type: 'boolean', default: false, description: 'As `trafficLog: unknown` (the key the Python README documents)' },
    tracer: {
      type: 'string',
      minLength: 1,
      default: 'bpftrace',
      description: 'The bpftrace executable; looked up on PATH unless it contains / (then relative to the config file)',
    },
    interval: { type: 'integer', minimum: 1, maximum: 3600, default: 5, description: 'Seconds between the counts the tracer prints' },
    ctr: { type: 'string', minLength: 1, default: 'ctr', description: "containerd's ctr executable (PATH or a path)" },
    ip: { type: 'string', minLength: 1, default: 'ip', description: 'The iproute2 ip executable (PATH or a path)' },
    containerdNamespace: { type: 'string', minLength: 1, default: 'k8s.io', description: "containerd's namespace of the Kubernetes containers" },
  },
} as const satisfies JsonSchema;

export type K8sNamespaceTrafficConfig = SourceParams<typeof schema>;

const MAX_LINE_BYTES = 1024;
/** Distinct (direction, local, remote, process) kept between two probes; more are dropped and reported. */
const MAX_PENDING = 100_000;
/** Traffic-log lines per probe. */
const MAX_LOG_LINES = 100;
/** The namespace of traffic whose local address no pod and no known network has (the Python pollect's). */
const UNKNOWN_NAMESPACE = 'unknown';

interface Bytes {
  received: number;
  sent: number;
}

export class K8sNamespaceTrafficSource extends Source<K8sNamespaceTrafficConfig> {
  static override description = 'TCP bytes per Kubernetes namespace and destination network, from a bpftrace tracer and containerd';
  static override schema = schema;

  private readonly networks: NamedNetwork[];
  private readonly tracerFile: string;
  private readonly containers: ContainerMap;
  private podNetworks: NamedNetwork[] = [];
  private child: LineChild | undefined;
  /** Bytes since the last probe, by `direction local remote process`. */
  private pending = new Map<string, number>();
  private dropped = 0;
  /** namespace → destination network → bytes since start. */
  private readonly totals = new Map<string, Map<NamedNetwork, Bytes>>();
  /** The tracer's last failure or bad line; cleared by its next good line. */
  private problem: string | undefined;
  private shutDown = false;
  private readonly logMode: 'all' | 'unknown' | undefined;

  constructor(config: K8sNamespaceTrafficConfig, context?: PluginContext) {
    super(config, context);
    config.networks.forEach((n, i) =>
      n.cidrs.forEach((c, j) => {
        try {
          parseCidr(c);
        } catch (err) {
          throw new ParamError(`networks[${i}].cidrs[${j}]`, errorMessage(err));
        }
      }),
    );
    this.networks = knownNetworks(config.networks, config.hideLocalhostTraffic);
    this.logMode = config.trafficLog ?? (config.logUnknownTraffic ? 'unknown' : undefined);
    const file = (f: string) => (f.includes('/') ? resolvePath(this.context, f) : f);
    this.tracerFile = file(config.tracer);
    this.containers = new ContainerMap({ ctr: file(config.ctr), ip: file(config.ip), containerdNamespace: config.containerdNamespace });
  }

  override init(_ctx: InitContext): void {
    this.ensureTracer();
  }

  private ensureTracer(): void {
    if (this.child || this.shutDown) return;
    this.child = new LineChild({
      file: this.tracerFile,
      args: ['-B', 'line', '-e', tracerProgram(this.config.interval)],
      maxLineBytes: MAX_LINE_BYTES,
      onLine: (line) => this.onLine(line),
      onBadLine: (lineNo, reason) => (this.problem = `${this.tracerFile}: line ${lineNo}: ${reason}`),
      onExit: (exit) => (this.problem = `${exit.message}; restarting in ${formatDelay(exit.restartInMs)}`),
    });
    this.child.start().catch((err: unknown) => (this.problem = errorMessage(err)));
  }

  private onLine(line: string): void {
    const t = parseTracerLine(line); // a throw is reported as a bad line by LineChild
    this.problem = undefined;
    if (!t) return;
    const key = `${t.direction} ${t.local} ${t.remote} ${t.process}`;
    const had = this.pending.get(key);
    if (had === undefined && this.pending.size >= MAX_PENDING) {
      this.dropped++;
      return;
    }
    this.pending.set(key, (had ?? 0) + t.bytes);
  }

  async probe(ctx: ProbeContext): Promise<Sample[]> {
    if (this.shutDown) throw new SourceError('the K8sNamespaceTraffic source is shut down');
    this.ensureTracer();
    if (this.problem !== undefined) throw new SourceError(this.problem);

    try {
      const pods = await this.containers.namespaceIps((file, args) => run(file, args, ctx));
      this.podNetworks = [...pods].map(([ns, ips]) => new NamedNetwork(ns, [...ips]));
    } catch (err) {
      // Counting goes on with the pods known before.
      ctx.reportProblem(`pod addresses from containerd: ${errorMessage(err)}`);
    }
    if (this.dropped > 0) {
      ctx.reportProblem(`more than ${MAX_PENDING} distinct connections between two probes: ${this.dropped} counts dropped`);
      this.dropped = 0;
    }
    this.count(ctx);
    return this.samples();
  }

  /** Adds the pending bytes to the totals, by namespace and destination network. */
  private count(ctx: ProbeContext): void {
    const pending = this.pending;
    this.pending = new Map();
    let logged = 0;
    for (const [key, bytes] of pending) {
      const [direction, local, remote, ...process] = key.split(' ') as ['sent' | 'received', string, string, ...string[]];
      const localIp = parseIPv4(local)!;
      const remoteIp = parseIPv4(remote)!;
      // A pod's address, else a known network's name (cross-node traffic), else unknown.
      const namespace = networkOf(this.podNetworks, localIp)?.name ?? networkOf(this.networks, localIp)?.name ?? UNKNOWN_NAMESPACE;
      const dest = networkOf(this.networks, remoteIp)!; // `other` takes every address
      let byNet = this.totals.get(namespace);
      if (!byNet) this.totals.set(namespace, (byNet = new Map()));
      let b = byNet.get(dest);
      if (!b) byNet.set(dest, (b = { received: 0, sent: 0 }));
      b[direction] += bytes;

      const unknown = !networkOf(this.podNetworks, localIp) || dest.catchAll;
      if (this.logMode === 'all' || (this.logMode === 'unknown' && unknown)) {
        if (logged++ < MAX_LOG_LINES) {
          ctx.log.info(
            `traffic: local ${local}, remote ${remote}, direction ${direction}, ${bytes} bytes, from process ${process.join(' ')}, namespace ${namespace}, network ${dest.name}`,
          );
        }
      }
    }
    if (logged > MAX_LOG_LINES) ctx.log.info(`traffic: ${logged - MAX_LOG_LINES} more not logged`);
  }

  private samples(): Sample[] {
    const label = this.config.namespaceLabel;
    const out: Sample[] = [];
    for (const [namespace, byNet] of this.totals) {
      for (const [net, b] of byNet) {
        if (net.hide) continue;
        for (const direction of ['received', 'sent'] as const) {
          out.push({ value: b[direction], labels: { [label]: namespace, dest_network: net.name, direction }, type: 'counter', unit: 'bytes' });
        }
      }
    }
    return out;
  }

  override async shutdown(): Promise<void> {
    this.shutDown = true;
    const child = this.child;
    this.child = undefined;
    await child?.stop();
  }
}

/** A command's stdout, bounded by the probe; a failure is an error with the command's first stderr line. */
async function run(file: string, args: string[], ctx: ProbeContext): Promise<string> {
  const r = await runCommand(file, args, { timeoutMs: ctx.timeoutMs, signal: ctx.signal, maxBytes: 4 * 1024 * 1024 });
  if (r.code !== 0) throw new Error(`${file} ${args.slice(0, 3).join(' ')} exited with code ${r.code}: ${firstLine(r.stderr)}`);
  return r.stdout;
}
