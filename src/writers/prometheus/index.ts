// Prometheus: serves the latest samples on an HTTP(S) endpoint for Prometheus to scrape, in the
// text format or OpenMetrics. pollect's self-metrics reach it as any other source's samples.
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ParamError, Writer, type Batch, type JsonSchema, type PluginContext, type WriteOutcome, type WriterParams } from '../../sdk/index.js';
import type { DaemonStatus, WriterContext } from '../../sdk/index.js';
import { errorMessage, registerSecret } from '../../log.js';
import { readParamFile, resolvePath } from '../../sdk/params.js';
import { close, createHttpServer, listen } from '../../core/http-server.js';
import { createNamer } from './naming.js';
import { NodeNaming } from './naming-node.js';
import { SeriesStore } from './store.js';
import { BodyCache, HeldBodies } from './bodies.js';
import { familyHeader, negotiate, OPENMETRICS_CONTENT_TYPE, seriesPrefix, TEXT_CONTENT_TYPE, type Format } from './render.js';
import type { BasicAuth, Verdict } from './auth.js';
import { checkUsers } from './users.js';
import { prefersHtml, renderStatusPage, STATUS_PAGE_HEADERS } from './status-page.js';

const schema = {
  type: 'object',
  properties: {
    port: { type: 'integer', minimum: 0, maximum: 65535, default: 8080, description: 'TCP port to listen on (0: any free port)' },
    host: { type: 'string', minLength: 1, default: '0.0.0.0', description: 'Address to bind' },
    path: { type: 'string', pattern: '^/', default: '/metrics', description: 'Path of the metrics endpoint' },
    tls: {
      type: 'object',
      description: 'Serve HTTPS with this key and certificate (PEM files, relative to the config file)',
      properties: {
        key: { type: 'string', minLength: 1, description: 'Private key file (PEM)' },
        cert: { type: 'string', minLength: 1, description: 'Certificate chain file (PEM)' },
        clientCa: {
          type: 'string',
          minLength: 1,
          description: 'CA file (PEM): only clients with a certificate it signed are let in (mutual TLS)',
        },
      },
      required: ['key', 'cert'],
      additionalProperties: false,
    },
    naming: {
      enum: ['pollect', 'prometheus', 'node'],
      default: 'pollect',
      description:
        "pollect: names as the Python pollect; prometheus: snake_case, the declared unit in base form, _total on counters; node: node_exporter's names for the host sources, prometheus for the rest",
    },
    staleAfter: { type: 'integer', minimum: 1, default: 3, description: 'Failed ticks after which a source loses its series' },
    timestamps: {
      type: 'boolean',
      default: false,
      description:
        "Serve each sample with the time its tick read it, so that Prometheus' rate() counts exactly the ticks' intervals when it scrapes at least once a tick; Prometheus then ends a series that goes 5 min after its last sample, not at the next scrape (see Timestamps)",
    },
    basicAuthUsers: {
      type: 'object',
      minProperties: 1,
      additionalProperties: { type: 'string' },
      description: 'User name → bcrypt hash of its password, as basic_auth_users in an exporter web config: scrapes and the status page need one of them',
    },
  },
} as const satisfies JsonSchema;

export type PrometheusConfig = WriterParams<typeof schema>;

/** How long a scraper may sit without reading before its connection is dropped. */
const IDLE_SCRAPE_MS = 60_000;
/** The one metric this writer adds itself: how many series it serves. */
const SERIES_FAMILY = 'pollect_prometheus_series';
/** Smaller expositions go out uncompressed: gzip would cost more CPU than it saves on any network. */
const GZIP_MIN_BYTES = 64 * 1024;
/**
 * Bytes of scrape bodies held, over all connections, for scrapers that have not read them yet
 * (bodies shared by several scrapes counted once). Past it a scrape that needs another body is
 * answered 503: scrapers that pipeline requests and never read cannot take the daemon's memory.
 */
const MAX_HELD_BYTES = 32 * 1024 * 1024;

export class PrometheusWriter extends Writer<PrometheusConfig> {
  static override description = 'Serves the samples on an HTTP(S) endpoint for Prometheus to scrape';
  static override schema = schema;

  private readonly store: SeriesStore;
  private readonly node?: NodeNaming;
  private readonly tls?: { key: string; cert: string; ca?: string };
  /** Made at start when basicAuthUsers is set (its module is loaded only then). */
  private auth?: BasicAuth;
  /** The daemon's state, for /readyz and the status page (absent outside a daemon). */
  private status?: DaemonStatus;
  private wrote = false;
  private server?: Server;
  private readonly bodies = new BodyCache();
  private readonly held = new HeldBodies(MAX_HELD_BYTES);
  private readonly warned = new Set<string>();

  constructor(config: PrometheusConfig, context?: PluginContext) {
    super(config, context);
    if (config.naming === 'node') {
      this.node = new NodeNaming(createNamer('prometheus'));
      this.store = new SeriesStore(this.node.namer, config.staleAfter, config.timestamps);
    } else {
      this.store = new SeriesStore(createNamer(config.naming), config.staleAfter, config.timestamps);
    }
    // Both Prometheus namings take the raw readings (counters) the sources report for them.
    if (config.naming !== 'pollect') this.naming = 'prometheus';
    if (config.tls) {
      const key = this.readPem('key', config.tls.key, 'PRIVATE KEY');
      // The private key itself must never reach a log line.
      registerSecret(key.trim());
      this.tls = { key, cert: this.readPem('cert', config.tls.cert, 'CERTIFICATE') };
      if (config.tls.clientCa) this.tls.ca = this.readPem('clientCa', config.tls.clientCa, 'CERTIFICATE');
    }
    if (config.basicAuthUsers) {
      // The schema makes every value a string.
      const users = config.basicAuthUsers as Record<string, string>;
      checkUsers(users, 'basicAuthUsers');
    }
  }

  /** A TLS file, read now so that `pollect --check` finds a missing, unreadable or non-PEM one. */
  private readPem(which: 'key' | 'cert' | 'clientCa', file: string, kind: string): string {
    const text = readParamFile(this.context, `tls.${which}`, file).toString('utf8');
    if (!new RegExp(`-----BEGIN [A-Z0-9 ]*${kind}-----`).test(text)) {
      throw new ParamError(`tls.${which}`, `${resolvePath(this.context, file)} is not a PEM file with a ${kind.toLowerCase()}`);
    }
    return text;
  }

  private get label(): string {
    return `Prometheus writer${this.id ? ` ${this.id}` : ''}`;
  }

  /** The port actually bound (differs from the config when it asked for 0). */
  get port(): number {
    return (this.server?.address() as AddressInfo | null)?.port ?? this.config.port;
  }

  override async start(ctx?: WriterContext): Promise<void> {
    this.status = ctx?.status;
    if (this.config.basicAuthUsers && !this.auth) {
      const { BasicAuth } = await import('./auth.js');
      this.auth = new BasicAuth(this.config.basicAuthUsers as Record<string, string>);
    }
    const handler = (req: IncomingMessage, res: ServerResponse): void => {
      try {
        this.serve(req, res);
      } catch (err) {
        this.warnOnce(`scrape\0${errorMessage(err)}`, `${this.label}: scrape failed: ${errorMessage(err)}`);
        res.destroy();
      }
    };
    let server: Server;
    try {
      server = createHttpServer(handler, { tls: this.tls, log: this.context.log, label: this.label });
    } catch (err) {
      throw new Error(`${this.label}: tls.key and tls.cert are not a usable PEM key and certificate: ${errorMessage(err)}`);
    }
    const { host, port } = this.config;
    try {
      await listen(server, port, host);
    } catch (err) {
      throw new Error(`${this.label}: ${errorMessage(err)}`);
    }
    server.on('error', (err) => this.context.log.error(`${this.label}: ${errorMessage(err)}`));
    this.server = server;
    this.context.log.info(`${this.label}: serving ${this.tls ? 'https' : 'http'}://${host}:${this.port}${this.config.path}`);
  }

  write(batch: Batch): WriteOutcome {
    this.wrote = true;
    const r = this.store.apply(this.node ? this.node.batch(batch) : batch);
    for (const d of r.duplicates) {
      this.warnOnce(`${d.family}\0${d.source}`, `${this.label}: ${d.source} sends series of ${d.family} that ${d.owner} already sends; keeping ${d.owner}'s`);
    }
    for (const m of r.mismatched) {
      this.warnOnce(
        `${m.family}\0${m.source}\0type`,
        `${this.label}: ${m.source} sends ${m.type} series into ${m.family}, a ${m.familyType}; they are dropped`,
      );
    }
    const dropped = r.duplicates.length + r.mismatched.length;
    return dropped ? { dropped } : undefined;
  }

  override async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (server) await close(server);
    this.auth?.close();
  }

  /** The whole exposition, as a scrape sees it (tests, promtool). */
  render(format: Format = 'text'): string {
    return Buffer.concat(this.exposition(format)).toString();
  }

  /**
   * /healthz and /readyz answer anyone (they tell no more than up and ready); everything else
   * needs a password when basicAuthUsers is set.
   */
  private serve(req: IncomingMessage, res: ServerResponse): void {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { Allow: 'GET, HEAD', 'Content-Type': 'text/plain; charset=utf-8' });
      res.end('Method not allowed\n');
      return;
    }
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q < 0 ? url : url.slice(0, q);
    if (path === '/healthz') return plain(res, 200, 'ok\n');
    if (path === '/readyz') {
      const ready = this.status ? this.status.ready() : this.wrote;
      return plain(res, ready ? 200 : 503, ready ? 'ready\n' : 'not ready: not every executor has written its first tick\n');
    }
    if (!this.auth) return this.route(req, res, path);
    const verdict = this.auth.check(req.headers.authorization);
    if (typeof verdict === 'string') return this.authorized(verdict, req, res, path);
    verdict
      .then((v) => this.authorized(v, req, res, path))
      .catch((err: unknown) => {
        this.warnOnce(`scrape\0${errorMessage(err)}`, `${this.label}: scrape failed: ${errorMessage(err)}`);
        res.destroy();
      });
  }

  private authorized(verdict: Verdict, req: IncomingMessage, res: ServerResponse, path: string): void {
    if (res.destroyed) return;
    if (verdict === 'ok') return this.route(req, res, path);
    if (verdict === 'busy') {
      res.setHeader('Retry-After', '1');
      return plain(res, 503, 'Too many password checks at once; retry later\n');
    }
    res.setHeader('WWW-Authenticate', 'Basic realm="pollect", charset="UTF-8"');
    plain(res, 401, 'Unauthorized\n');
  }

  /** The exposition at the metrics path, and at `/` for anything but a browser (the Python pollect served it on every path). */
  private route(req: IncomingMessage, res: ServerResponse, path: string): void {
    if (path === '/' && prefersHtml(req.headers.accept)) return this.statusPage(req, res);
    if (path === this.config.path || path === '/') return this.scrape(req, res);
    plain(res, 404, `Not found; the metrics are at ${this.config.path}\n`);
  }

  private statusPage(req: IncomingMessage, res: ServerResponse): void {
    const page = Buffer.from(renderStatusPage(this.status, { metricsPath: this.config.path, writer: this.id, now: Date.now() }));
    res.writeHead(200, { ...STATUS_PAGE_HEADERS, Vary: 'Accept', 'Content-Length': page.length });
    res.end(req.method === 'HEAD' ? undefined : page);
  }

  private scrape(req: IncomingMessage, res: ServerResponse): void {
    const format = negotiate(req.headers.accept);
    res.setHeader('Content-Type', format === 'openmetrics' ? OPENMETRICS_CONTENT_TYPE : TEXT_CONTENT_TYPE);
    res.setHeader('Cache-Control', 'no-store');
    res.setHeader('Vary', 'Accept, Accept-Encoding');
    if (req.method === 'HEAD') {
      res.end();
      return;
    }
    // A scraper that stops reading is cut off; write() never waits for any scraper.
    res.setTimeout(IDLE_SCRAPE_MS, () => res.destroy());
    // One body per store version, format and encoding, shared by every scrape that wants it; a
    // rendered body is a snapshot, so a write() can never show up half in a scrape.
    const version = this.store.version;
    const render = (): Buffer => Buffer.concat(this.exposition(format));
    const body = this.bodies.body(version, format, render);
    if (body.length < GZIP_MIN_BYTES || !/\bgzip\b/i.test(String(req.headers['accept-encoding'] ?? ''))) {
      this.send(res, body);
      return;
    }
    this.bodies.gzip(version, format, render).then(
      (zipped) => this.send(res, zipped, 'gzip'),
      (err: unknown) => {
        this.warnOnce('gzip', `${this.label}: cannot compress a scrape: ${errorMessage(err)}`);
        res.destroy();
      },
    );
  }

  /** Sends a shared body, or 503 when the bodies held for slow scrapers are at their bound. */
  private send(res: ServerResponse, body: Buffer, encoding?: 'gzip'): void {
    if (res.destroyed) return;
    if (!this.held.hold(body, res)) {
      this.warnOnce(
        'held',
        `${this.label}: ${MAX_HELD_BYTES / 1024 / 1024} MiB of scrape bodies wait for scrapers that do not read them; answering 503 meanwhile`,
      );
      res.writeHead(503, { 'Retry-After': '1', 'Content-Type': 'text/plain; charset=utf-8' });
      res.end('Too many scrapes waiting to be read; retry later\n');
      return;
    }
    if (encoding) res.setHeader('Content-Encoding', encoding);
    res.setHeader('Content-Length', body.length);
    res.end(body);
  }

  /** Every family: the sources' pre-rendered chunks, then the writer's own series count. */
  private exposition(format: Format): Buffer[] {
    const parts: Buffer[] = [];
    const families = this.store.families;
    for (const fam of families.values()) {
      if (fam.chunks.size === 0) continue;
      if (fam.name === SERIES_FAMILY) {
        this.warnOnce(`reserved\0${fam.name}`, `${this.label}: family ${fam.name} clashes with the writer's own metric and is not served`);
        continue;
      }
      // In OpenMetrics `x_total` (a counter) is family `x`: taken already if a family `x` exists.
      const omClash = format === 'openmetrics' && fam.type === 'counter' && fam.name.endsWith('_total') && families.has(fam.name.slice(0, -6));
      parts.push(fam.header(format, omClash));
      for (const chunk of fam.chunks.values()) parts.push(format === 'openmetrics' ? (chunk.om ?? chunk.text) : chunk.text);
    }
    const own =
      familyHeader(SERIES_FAMILY, 'gauge', 'Series this Prometheus endpoint serves.', format) +
      seriesPrefix(SERIES_FAMILY, ['writer'], { writer: this.id }) +
      `${this.store.size}\n`;
    parts.push(Buffer.from(format === 'openmetrics' ? own + '# EOF\n' : own));
    return parts;
  }

  private warnOnce(key: string, msg: string): void {
    if (this.warned.has(key)) return;
    this.warned.add(key);
    this.context.log.warn(msg);
  }
}

function plain(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store' });
  res.end(text);
}
