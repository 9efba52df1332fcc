// HttpIngress: a push receiver. Clients POST JSON values; every probe reports the current value of
// every label set of every configured metric. Unlike the Python pollect it keeps all label sets
// (not only the last one), validates a whole request before applying any of it, and bounds
// bodies, label sets and request time.
import http from 'node:http';
import { createHash, timingSafeEqual } from 'node:crypto';
import { Source, SourceError, type InitContext, type Labels, type ProbeContext, type Sample, type SourceConfig } from '../../sdk/index.js';
import type { JsonSchema } from '../../sdk/index.js';
import { registerSecret, type Logger } from '../../log.js';
import { isRecord } from '../../sdk/json.js';

export interface MetricDefinition {
  type?: 'gauge' | 'counter';
  labels?: string[];
  help?: string;
}

export interface HttpIngressConfig extends SourceConfig {
  port: number;
  host?: string;
  metrics: Record<string, MetricDefinition>;
  token?: string;
  /** Most label sets kept over all metrics. */
  maxSeries?: number;
}

export const MAX_BODY_BYTES = 1024 * 1024;
const DEFAULT_MAX_SERIES = 10_000;

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
  constructor(readonly status: number, message: string) {
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
      if (!this.series.get(u.metric)!.has(u.key) && !seen.has(id)) fresh++;
      seen.add(id);
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
      if (!def) throw new IngressError(400, `unknown metric "${name}" (configured: ${Object.keys(this.defs).join(', ')})`);
      if (!isRecord(entry)) throw new IngressError(400, `metric "${name}": must be an object {"value": <number>, "labels": {...}}`);
      const value = entry['value'];
      if (typeof value !== 'number' || !Number.isFinite(value)) {
        throw new IngressError(400, `metric "${name}": value must be a finite number, got ${describe(value)}`);
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
        labels[l] = String(v);
      }
      for (const l of Object.keys(given)) {
        if (!wanted.includes(l)) {
          throw new IngressError(400, `metric "${name}": unknown label "${l}" (configured: ${wanted.length ? wanted.join(', ') : 'none'})`);
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
        out.push({ name, value: s.value, labels: { ...s.labels }, type: def.type ?? 'gauge', help: def.help });
      }
    }
    return out;
  }
}

export class HttpIngressSource extends Source<HttpIngressConfig> {
  static override description = 'Push receiver: clients POST JSON values over HTTP, each probe reports the current ones';
  static override schema: JsonSchema = {
    type: 'object',
    required: ['port', 'metrics'],
    properties: {
      port: { type: 'integer', minimum: 0, maximum: 65535, description: 'Port to listen on' },
      host: { type: 'string', minLength: 1, default: '127.0.0.1', description: 'Address to bind (default 127.0.0.1; 0.0.0.0 for all)' },
      metrics: {
        type: 'object',
        minProperties: 1,
        description: 'Accepted metrics by name',
        additionalProperties: {
          type: 'object',
          additionalProperties: false,
          properties: {
            type: { enum: ['gauge', 'counter'], default: 'gauge', description: 'gauge: a push sets the value; counter: a push adds to it' },
            labels: { type: 'array', items: { type: 'string', pattern: '^[A-Za-z_][A-Za-z0-9_]*$' }, description: 'Label names every push must give' },
            help: { type: 'string', description: 'Help text for writers that use it' },
          },
        },
      },
      token: { type: 'string', minLength: 1, description: 'Require "Authorization: Bearer <token>" on POST' },
      maxSeries: { type: 'integer', minimum: 1, default: DEFAULT_MAX_SERIES, description: 'Most label sets kept over all metrics (default 10000)' },
    },
  };

  private readonly store: IngressStore;
  private server: http.Server | undefined;
  private readonly tokenDigest: Buffer | undefined;
  private log: Logger | undefined;

  constructor(config: HttpIngressConfig) {
    super(config);
    this.store = new IngressStore(config.metrics, config.maxSeries ?? DEFAULT_MAX_SERIES);
    if (config.token !== undefined) {
      registerSecret(config.token);
      this.tokenDigest = digest(`Bearer ${config.token}`);
    }
  }

  /** The port actually bound (useful with port 0). */
  get boundPort(): number | undefined {
    const a = this.server?.address();
    return a && typeof a === 'object' ? a.port : undefined;
  }

  override async init(ctx: InitContext): Promise<void> {
    this.log = ctx.log;
    const host = this.config.host ?? '127.0.0.1';
    const server = http.createServer({ requestTimeout: 10_000, headersTimeout: 5_000 }, (req, res) => this.handle(req, res));
    server.keepAliveTimeout = 5_000;
    await new Promise<void>((resolve, reject) => {
      server.once('error', (err: NodeJS.ErrnoException) => {
        const why = err.code === 'EADDRINUSE' ? 'address already in use' : err.code === 'EACCES' ? 'permission denied' : err.message;
        reject(new SourceError(`cannot listen on ${host}:${this.config.port}: ${why}`));
      });
      server.listen(this.config.port, host, () => resolve());
    });
    server.on('error', (err) => this.log?.error(`HttpIngress server: ${err.message}`));
    server.on('clientError', (_err, socket) => socket.destroy());
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
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeAllConnections();
    await closed;
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

    const chunks: Buffer[] = [];
    let size = 0;
    let refused = false;
    req.on('data', (chunk: Buffer) => {
      if (refused) return;
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        refused = true;
        req.pause();
        return refuse(413, `body larger than ${MAX_BODY_BYTES} bytes`);
      }
      chunks.push(chunk);
    });
    req.on('error', () => req.socket.destroy());
    req.on('end', () => {
      if (refused) return;
      let doc: unknown;
      try {
        doc = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      } catch (err) {
        return reply(400, { error: `invalid JSON: ${(err as Error).message}` });
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

function digest(s: string): Buffer {
  return createHash('sha256').update(s).digest();
}


function describe(v: unknown): string {
  if (v === undefined) return 'nothing';
  const s = JSON.stringify(v) ?? String(v);
  return s.length > 40 ? s.slice(0, 40) + '…' : s;
}
