// Docker: `docker stats` figures per running container (chouette-iot's Docker collector), through
// dockerode's transport to the Engine API on a unix socket or TCP.
import { EventEmitter } from 'node:events';
import type { IncomingMessage } from 'node:http';
import {
  Source,
  SourceError,
  redact,
  type InitContext,
  type JsonSchema,
  type PluginContext,
  type ProbeContext,
  type Sample,
  type SourceParams,
} from '../../sdk/index.js';
import { checkHost, namesParam, portParam } from '../../sdk/params.js';
import { http } from '../../core/node-http.js';
import { containerName, cpuReading, globMatch, statsToSamples, type CpuReading } from './stats.js';

const schema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    socketPath: { type: 'string', minLength: 1, default: '/var/run/docker.sock', description: "Docker Engine unix socket (mount it into pollect's container)" },
    host: { type: 'string', minLength: 1, description: 'Docker Engine TCP host (plain HTTP) instead of the socket' },
    port: { ...portParam, default: 2375, description: 'Docker Engine TCP port (with host)' },
    include: { ...namesParam, description: 'Only containers whose name (as docker ps shows it) matches one of these; * and ? globs (default: all)' },
    exclude: { ...namesParam, description: 'Skip containers whose name matches one of these; wins over include' },
  },
} as const satisfies JsonSchema;

export type DockerConfig = SourceParams<typeof schema>;

/** The part of docker-modem this source uses (dockerode types it as any). */
interface Modem {
  agent?: unknown;
  dial(options: DialOptions, callback: (err: unknown, res: unknown) => void): void;
}
interface DialOptions {
  path: string;
  method: string;
  isStream: boolean;
  statusCodes: Record<number, boolean>;
  options: Record<string, string>;
  abortSignal: AbortSignal;
}

interface ListEntry {
  Id: string;
  Names?: unknown;
  Image?: unknown;
}

/** Every status is "expected", so docker-modem hands over the response and this source reads it, bounded. */
const ANY_STATUS: Record<number, boolean> = Object.fromEntries(Array.from({ length: 500 }, (_, i) => [i + 100, true]));
const MAX_LIST_BYTES = 16 * 1024 * 1024;
const MAX_STATS_BYTES = 1024 * 1024;

export class DockerSource extends Source<DockerConfig> {
  static override description = 'CPU %, memory, network and block I/O of running Docker containers, as `docker stats` shows them';
  static override schema = schema;

  private modem: Modem | undefined;
  /** Last CPU counters per container id, for documents without precpu_stats. */
  private previous = new Map<string, CpuReading>();
  private readonly where: string;

  constructor(config: DockerConfig, context?: PluginContext) {
    super(config, context);
    this.where = config.host ? `Docker at http://${checkHost('host', config.host)}:${config.port}` : `Docker at unix:${config.socketPath}`;
  }

  override async init(_ctx: InitContext): Promise<void> {
    await this.connect();
  }

  private async connect(): Promise<Modem> {
    if (this.modem) return this.modem;
    const { default: Docker } = await import('dockerode');
    // Explicit options throughout: docker-modem otherwise reads DOCKER_HOST/DOCKER_CERT_PATH from the environment.
    const docker = this.config.host
      ? new Docker({ host: this.config.host, port: this.config.port, protocol: 'http' })
      : new Docker({ socketPath: this.config.socketPath, host: undefined, port: undefined, protocol: 'http' });
    this.modem = docker.modem as Modem;
    // One fresh connection per request: probes are seconds apart, and a pooled connection the daemon
    // has closed meanwhile fails the next request with EPIPE.
    this.modem.agent = quietInspect(new http.Agent({ keepAlive: false }), 'http.Agent');
    return this.modem;
  }

  /** Its CPU percent and its network and block I/O rates need a previous reading (see Source.reportsChanges). */
  override get reportsChanges(): boolean {
    return true;
  }

  async probe(ctx: ProbeContext): Promise<Sample[]> {
    const modem = await this.connect();
    let list: unknown;
    try {
      list = await this.getJson(modem, '/containers/json', {}, ctx.signal, MAX_LIST_BYTES);
    } catch (err) {
      throw new SourceError(`${this.where}: GET /containers/json: ${this.reason(err, ctx.signal, ctx.timeoutMs)}`);
    }
    if (!Array.isArray(list)) throw new SourceError(`${this.where}: GET /containers/json: expected a list of containers, got ${typeof list}`);
    const containers = list
      .filter((c): c is ListEntry => typeof c === 'object' && c !== null && typeof (c as ListEntry).Id === 'string')
      .filter((c) => this.wanted(containerName(c)));

    // A stuck container must not take the others down with it: each stats call gets 80% of the budget.
    const budgetMs = Math.max(1, Math.floor(ctx.timeoutMs * 0.8));
    const budget = AbortSignal.any([ctx.signal, AbortSignal.timeout(budgetMs)]);
    // Every request listens on it; hundreds of containers are normal, not a listener leak.
    EventEmitter.setMaxListeners(0, budget);
    quietInspect(budget, 'AbortSignal');
    const results = await Promise.allSettled(
      containers.map((c) => this.getJson(modem, `/containers/${encodeURIComponent(c.Id)}/stats`, { stream: 'false' }, budget, MAX_STATS_BYTES)),
    );

    const out: Sample[] = [];
    const failures: string[] = [];
    const seen = new Set<string>();
    results.forEach((r, i) => {
      const c = containers[i]!;
      const name = containerName(c);
      if (r.status === 'rejected') {
        // Gone between the list and the stats call: not an error, the container simply stopped.
        if ((r.reason as { status?: number }).status === 404) return;
        failures.push(`${name}: ${this.reason(r.reason, budget, budgetMs)}`);
        return;
      }
      const v = r.value;
      if (typeof v !== 'object' || v === null || Array.isArray(v) || !('cpu_stats' in v || 'memory_stats' in v)) {
        failures.push(
          `${name}: not a stats document (${Array.isArray(v) ? 'a list' : typeof v === 'object' && v ? `keys ${Object.keys(v).slice(0, 5).join(', ')}` : typeof v})`,
        );
        return;
      }
      seen.add(c.Id);
      const labels = { container: name, image: typeof c.Image === 'string' ? c.Image : '' };
      const stats = r.value as { cpu_stats?: unknown } | null;
      out.push(...statsToSamples(stats, labels, this.previous.get(c.Id)));
      const reading = cpuReading(stats?.cpu_stats);
      if (reading) this.previous.set(c.Id, reading);
    });
    for (const id of this.previous.keys()) if (!seen.has(id)) this.previous.delete(id);

    if (failures.length > 0) {
      const msg = `${this.where}: stats failed for ${failures.length} of ${containers.length} containers: ${failures.slice(0, 3).join('; ')}${failures.length > 3 ? '; …' : ''}`;
      // Partial figures are still worth writing; only when nothing came back is the probe a failure.
      if (seen.size === 0) throw new SourceError(msg);
      ctx.log.warn(msg);
    }
    out.push({ name: 'containers', value: seen.size, unit: 'containers' });
    return out;
  }

  private wanted(name: string): boolean {
    const { include, exclude } = this.config;
    if (include && include.length > 0 && !include.some((p) => globMatch(p, name))) return false;
    return !(exclude ?? []).some((p) => globMatch(p, name));
  }

  /** Why a call failed, in one line; "no answer" when the deadline cut it. */
  private reason(err: unknown, signal: AbortSignal, timeoutMs: number): string {
    if (signal.aborted) return `no answer within ${timeoutMs} ms`;
    if (err instanceof SourceError) return err.message;
    const e = err as NodeJS.ErrnoException;
    const msg = redact(String(e.message ?? err))
      .replace(/\s+/g, ' ')
      .slice(0, 200);
    return e.code && !msg.includes(e.code) ? `${msg} (${e.code})` : msg;
  }

  /** GET through docker-modem; the body is read here, bounded in size and time, and parsed as JSON. */
  private async getJson(modem: Modem, path: string, query: Record<string, string>, signal: AbortSignal, maxBytes: number): Promise<unknown> {
    const res = await new Promise<IncomingMessage>((resolve, reject) => {
      modem.dial({ path: `${path}?`, method: 'GET', isStream: true, statusCodes: ANY_STATUS, options: { ...query }, abortSignal: signal }, (err, r) =>
        err ? reject(err) : resolve(r as IncomingMessage),
      );
    });
    const body = await readBody(res, maxBytes, signal);
    const status = res.statusCode ?? 0;
    const text = body.toString('utf8');
    if (status < 200 || status >= 300) {
      const err = new HttpStatusError(`HTTP ${status}${apiMessage(text)}`);
      err.status = status;
      throw err;
    }
    if (text.trim() === '') throw new SourceError('empty body');
    try {
      return JSON.parse(text);
    } catch {
      const start = excerpt(text, 60);
      const what = start ? `body starts "${start}"` : `${body.length} bytes, not text`;
      throw new SourceError(`invalid JSON (${res.headers['content-type'] ?? 'no content type'}; ${what})`);
    }
  }
}

class HttpStatusError extends SourceError {
  status = 0;
}

/** The Engine API's {"message": ...} error text, or an excerpt of whatever came instead. */
function apiMessage(text: string): string {
  try {
    const j = JSON.parse(text) as { message?: unknown };
    if (typeof j.message === 'string') return `: ${excerpt(j.message, 200)}`;
  } catch {
    // not JSON: an HTML page from a proxy, or garbage
  }
  const e = excerpt(text.replace(/<[^>]*>/g, ' '), 120);
  return e ? `: ${e}` : '';
}

function excerpt(text: string, max: number): string {
  const t = text
    .slice(0, 4096)
    .replace(/[^\x20-\x7e]+/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  return redact(t.length > max ? t.slice(0, max) + '…' : t);
}

/** Reads a response to the end, giving up past maxBytes or when the signal aborts. */
function readBody(res: IncomingMessage, maxBytes: number, signal: AbortSignal): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    const finish = (err?: Error): void => {
      if (done) return;
      done = true;
      signal.removeEventListener('abort', onAbort);
      if (err) {
        res.destroy();
        reject(err);
      } else resolve(Buffer.concat(chunks));
    };
    const onAbort = (): void => finish(new SourceError('aborted'));
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    res.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) return finish(new SourceError(`response larger than ${maxBytes} bytes`));
      chunks.push(chunk);
    });
    res.on('end', () => finish());
    const cut = (): SourceError => new SourceError(`connection closed after ${size} bytes, before the response was complete`);
    res.on('error', () => finish(cut()));
    res.on('close', () => finish(res.complete ? undefined : cut()));
  });
}

/**
 * docker-modem formats every request's options with util.inspect(depth: null) for a debug line,
 * even with debugging off. The agent (which references every open socket) and the shared abort
 * signal (one listener per request) make that O(requests) per request, which blocked the event
 * loop for seconds with a few hundred containers; a custom inspect keeps it constant.
 */
function quietInspect<T extends object>(obj: T, label: string): T {
  Object.defineProperty(obj, Symbol.for('nodejs.util.inspect.custom'), { value: () => `[${label}]`, enumerable: false });
  return obj;
}
