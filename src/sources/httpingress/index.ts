// HttpIngress: a push receiver. Clients POST JSON values; every probe reports the current value of
// every label set of every configured metric. Unlike the Python pollect it keeps all label sets
// (not only the last one), validates a whole request before applying any of it, and bounds
// bodies, bytes in flight, label sizes, label sets and request time.
import type http from 'node:http';
import { createHash, timingSafeEqual } from 'node:crypto';
import {
  Source,
  SourceError,
  type InitContext,
  type JsonSchema,
  type Labels,
  type Logger,
  type PluginContext,
  type ProbeContext,
  type Sample,
  type SourceParams,
} from '../../sdk/index.js';
import { checkHost } from '../../sdk/params.js';
import { isRecord } from '../../sdk/json.js';
import { close, createHttpServer, listen } from '../../core/http-server.js';

const schema = {
  type: 'object',
  additionalProperties: false,
  required: ['port', 'metrics'],
  properties: {
    port: { type: 'integer', minimum: 0, maximum: 65535, description: 'Port to listen on (0: any free port)' },
    host: {
      type: 'string',
      minLength: 1,
      default: '0.0.0.0',
      description: 'Address to bind: every interface by default, as the Python pollect (a push receiver is for other hosts); 127.0.0.1 for this host only',
    },
    metrics: {
      type: 'object',
      minProperties: 1,
      description: 'Accepted metrics by name: {type, labels, help, unit}',
      additionalProperties: {
        type: 'object',
        additionalProperties: false,
        properties: {
          type: { type: 'string', enum: ['gauge', 'counter'], default: 'gauge', description: 'gauge: a push sets the value; counter: a push adds to it' },
          labels: {
            type: 'array',
            items: { type: 'string', pattern: '^[A-Za-z_][A-Za-z0-9_]*$' },
            description: 'Label names every push must give (default: none)',
          },
          help: { type: 'string', description: 'Help text for writers that use it' },
          unit: { type: 'string', minLength: 1, description: 'Unit of the pushed values (seconds, bytes, ms ...), for writers that use it' },
        },
      },
    },
    token: { type: 'string', minLength: 1, description: 'Require "Authorization: Bearer <token>" on POST' },
    maxSeries: { type: 'integer', minimum: 1, default: 10000, description: 'Most label sets kept over all metrics; a push that would add more gets 400' },
  },
} as const satisfies JsonSchema;

export type HttpIngressConfig = SourceParams<typeof schema>;
export type MetricDefinition = HttpIngressConfig['metrics'][string];

export const MAX_BODY_BYTES = 1024 * 1024;
/** Body bytes held at once over all connections: 16 full bodies. A request past it gets 503. */
export const MAX_BYTES_IN_FLIGHT = 16 * MAX_BODY_BYTES;
/** Longest label value kept: the exposition of every probe carries it. */
export const MAX_LABEL_VALUE_LENGTH = 1024;

interface Series {
  labels: Labels;
  value: number;
}

interface Update {
  metric: string;
  key: string;
  labels: Labels;
  value: number;
}

/** A request the receiver turns down: status and a message for the JSON error body. */
export class IngressError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** The current values, and the validation of pushed documents against the definitions. */
export class IngressStore {
  private readonly series = new Map<string, Map<string, Series>>();
  private count = 0;

  constructor(
    private readonly defs: Record<string, MetricDefinition>,
    private readonly maxSeries: number,
  ) {
    for (const name of Object.keys(defs)) this.series.set(name, new Map());
  }

  /** Validates a whole document, then applies it; throws an IngressError and changes nothing on bad input. */
  apply(doc: unknown): number {
    const updates = this.validate(doc);
    let fresh = 0;
    const seen = new Set<string>();
    for (const u of updates) {
      const id = u.metric + '\0' + u.key;
      const prev = this.series.get(u.metric)!.get(u.key);
      if (!prev && !seen.has(id)) fresh++;
      seen.add(id);
      if (prev && this.defs[u.metric]!.type === 'counter' && !Number.isFinite(prev.value + u.value)) {
        throw new IngressError(400, `metric "${u.metric}": the counter would pass the largest number (${Number.MAX_VALUE}); not added`);
      }
    }
    if (this.count + fresh > this.maxSeries) {
      throw new IngressError(400, `too many label sets: this would keep ${this.count + fresh}, the limit is ${this.maxSeries}`);
    }
    for (const u of updates) {
      const m = this.series.get(u.metric)!;
      const prev = m.get(u.key);
      if (!prev) {
        m.set(u.key, { labels: u.labels, value: u.value });
        this.count++;
      } else if (this.defs[u.metric]!.type === 'counter') {
        prev.value += u.value;
      } else {
        prev.value = u.value;
      }
    }
    return updates.length;
  }

  private validate(doc: unknown): Update[] {
    if (!isRecord(doc)) throw new IngressError(400, 'body must be a JSON object {"metrics": {...}}');
    const metrics = doc['metrics'];
    if (!isRecord(metrics)) throw new IngressError(400, '"metrics" must be an object of {"<name>": {"value": <number>, "labels": {...}}}');
    const out: Update[] = [];
    for (const [name, entry] of Object.entries(metrics)) {
      const def = Object.hasOwn(this.defs, name) ? this.defs[name] : undefined;
      if (!def) throw new IngressError(400, `unknown metric ${describe(name)} (configured: ${Object.keys(this.defs).join(', ')})`);
      if (!isRecord(entry)) throw new IngressError(400, `metric "${name}": must be an object {"value": <number>, "labels": {...}}`);
      const value = numericValue(entry['value']);
      if (value === undefined) {
        throw new IngressError(400, `metric "${name}": value must be a finite number or a numeric string, got ${describe(entry['value'])}`);
      }
      if (def.type === 'counter' && value < 0) throw new IngressError(400, `metric "${name}": a counter increment must not be negative`);
      const given = entry['labels'] ?? {};
      if (!isRecord(given)) throw new IngressError(400, `metric "${name}": labels must be an object`);
      const wanted = def.labels ?? [];
      const labels: Labels = {};
      for (const l of wanted) {
        const v = given[l];
        if (v === undefined) throw new IngressError(400, `metric "${name}": missing label "${l}"`);
        if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean') {
          throw new IngressError(400, `metric "${name}": label "${l}" must be a string, got ${describe(v)}`);
        }
        const text = String(v);
        if (text.length > MAX_LABEL_VALUE_LENGTH) {
          throw new IngressError(400, `metric "${name}": label "${l}" is longer than ${MAX_LABEL_VALUE_LENGTH} characters`);
        }
        labels[l] = text;
      }
      for (const l of Object.keys(given)) {
        if (!wanted.includes(l)) {
          throw new IngressError(400, `metric "${name}": unknown label ${describe(l)} (configured: ${wanted.length ? wanted.join(', ') : 'none'})`);
        }
      }
      out.push({ metric: name, key: JSON.stringify(wanted.map((l) => labels[l])), labels, value });
    }
    return out;
  }

  samples(): Sample[] {
    const out: Sample[] = [];
    for (const [name, m] of this.series) {
      const def = this.defs[name]!;
      for (const s of m.values()) {
        out.push({ name, value: s.value, labels: { ...s.labels }, type: def.type, help: def.help, unit: def.unit });
      }
    }
    return out;
  }
}

export class HttpIngressSource extends Source<HttpIngressConfig> {
  static override description = 'Push receiver: clients POST JSON values over HTTP, each probe reports the current ones';
  static override schema = schema;

  private readonly store: IngressStore;
  private server: http.Server | undefined;
  private readonly tokenDigest: Buffer | undefined;
  private log: Logger | undefined;
  /** Body bytes held now over all requests (bounded by MAX_BYTES_IN_FLIGHT). */
  private bytesInFlight = 0;
  private warnedBusy = false;

  constructor(config: HttpIngressConfig, context?: PluginContext) {
    super(config, context);
    checkHost('host', config.host);
    this.store = new IngressStore(config.metrics, config.maxSeries);
    if (config.token !== undefined) this.tokenDigest = digest(`Bearer ${config.token}`);
  }

  /** The port actually bound (useful with port 0). */
  get boundPort(): number | undefined {
    const a = this.server?.address();
    return a && typeof a === 'object' ? a.port : undefined;
  }

  override async init(ctx: InitContext): Promise<void> {
    this.log = ctx.log;
    const { host } = this.config;
    const server = createHttpServer((req, res) => this.handle(req, res), { log: ctx.log, label: 'HttpIngress' });
    try {
      await listen(server, this.config.port, host);
    } catch (err) {
      throw new SourceError((err as Error).message);
    }
    server.on('error', (err) => this.log?.error(`HttpIngress server: ${err.message}`));
    this.server = server;
    ctx.log.info(`HttpIngress listening on ${host}:${this.boundPort}`);
  }

  probe(_ctx: ProbeContext): Sample[] {
    return this.store.samples();
  }

  override async shutdown(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    await close(server);
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const reply = (status: number, body: object, headers: Record<string, string> = {}): void => {
      if (res.headersSent) return;
      res.writeHead(status, { 'content-type': 'application/json', ...headers });
      res.end(JSON.stringify(body));
    };
    // Refuse without reading the rest of the body, then drop the connection.
    const refuse = (status: number, message: string, headers: Record<string, string> = {}): void => {
      this.log?.debug(`HttpIngress: ${status} ${message}`);
      res.on('finish', () => req.socket.destroy());
      reply(status, { error: message }, { connection: 'close', ...headers });
    };

    if (req.method === 'GET' || req.method === 'HEAD') return reply(200, { status: 'alive' });
    if (req.method !== 'POST') return refuse(405, `method ${req.method} not allowed; POST JSON`, { allow: 'GET, HEAD, POST' });
    if (this.tokenDigest) {
      const got = req.headers.authorization;
      if (!got || !timingSafeEqual(digest(got), this.tokenDigest)) {
        return refuse(401, 'missing or wrong bearer token', { 'www-authenticate': 'Bearer' });
      }
    }
    const ct = req.headers['content-type'] ?? '';
    if (!/json/i.test(ct)) return refuse(415, `content-type must be JSON, got "${ct || 'none'}"`);
    const declared = Number(req.headers['content-length'] ?? NaN);
    if (declared > MAX_BODY_BYTES) return refuse(413, `body larger than ${MAX_BODY_BYTES} bytes`);
    // Many large bodies at once would hold their sum in memory: past the budget, come back later.
    const busy = (): void => {
      if (!this.warnedBusy) this.log?.warn(`HttpIngress: ${MAX_BYTES_IN_FLIGHT} bytes of request bodies in flight; answering 503 until some are done`);
      this.warnedBusy = true;
      refuse(503, `busy: more than ${MAX_BYTES_IN_FLIGHT} bytes of requests in flight; retry later`, { 'retry-after': '1' });
    };
    if (declared > MAX_BYTES_IN_FLIGHT - this.bytesInFlight) return busy();

    let chunks: Buffer[] = [];
    let size = 0;
    let held = 0;
    let refused = false;
    const release = (): void => {
      this.bytesInFlight -= held;
      held = 0;
      chunks = [];
    };
    req.on('data', (chunk: Buffer) => {
      if (refused) return;
      size += chunk.length;
      if (size > MAX_BODY_BYTES || this.bytesInFlight + chunk.length > MAX_BYTES_IN_FLIGHT) {
        refused = true;
        req.pause();
        release();
        return size > MAX_BODY_BYTES ? refuse(413, `body larger than ${MAX_BODY_BYTES} bytes`) : busy();
      }
      this.bytesInFlight += chunk.length;
      held += chunk.length;
      chunks.push(chunk);
    });
    req.on('error', () => req.socket.destroy());
    // A client that goes away mid-body gives its bytes back.
    req.on('close', release);
    req.on('end', () => {
      if (refused) return;
      let doc: unknown;
      try {
        doc = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      } catch (err) {
        return reply(400, { error: `invalid JSON: ${(err as Error).message}` });
      } finally {
        release();
      }
      try {
        const updated = this.store.apply(doc);
        reply(200, { status: 'metrics updated', updated });
      } catch (err) {
        // Inside a request event nothing may escape: an unexpected error is a 500, not a crash.
        if (!(err instanceof IngressError)) {
          this.log?.error(`HttpIngress: ${(err as Error).message}`);
          return reply(500, { error: 'internal error' });
        }
        this.log?.debug(`HttpIngress: ${err.status} ${err.message}`);
        reply(err.status, { error: err.message });
      }
    });
  }
}

/**
 * A pushed value: a number, a numeric string ("12.5") or none at all (0), the bodies the Python
 * pollect accepts; undefined for anything else.
 */
function numericValue(v: unknown): number | undefined {
  if (v === undefined) return 0;
  const n = typeof v === 'number' ? v : typeof v === 'string' && /^\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*$/.test(v) ? Number(v) : Number.NaN;
  return Number.isFinite(n) ? n : undefined;
}

function digest(s: string): Buffer {
  return createHash('sha256').update(s).digest();
}

function describe(v: unknown): string {
  if (v === undefined) return 'nothing';
  const s = JSON.stringify(v) ?? String(v);
  return s.length > 40 ? s.slice(0, 40) + '…' : s;
}
