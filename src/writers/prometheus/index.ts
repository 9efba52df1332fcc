// Prometheus: serves the latest samples on an HTTP(S) endpoint for Prometheus to scrape, in the
// text format or OpenMetrics, with pollect's self-metrics and the process metrics beside them.
import http from 'node:http';
import https from 'node:https';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { Writer, type Batch, type WriterConfig, type WriterContext, type WriterStats } from '../../sdk/index.js';
import type { JsonSchema } from '../../sdk/index.js';
import { errorMessage, registerSecret, type Logger } from '../../log.js';
import { createNamer, type Naming } from './naming.js';
import { SeriesStore } from './store.js';
import { negotiate, OPENMETRICS_CONTENT_TYPE, StreamSink, TEXT_CONTENT_TYPE, type Format } from './render.js';
import { renderSelf, seriesFamily, type SelfFamily } from './selfmetrics.js';

export interface PrometheusConfig extends WriterConfig {
  port?: number;
  host?: string;
  path?: string;
  tls?: { key: string; cert: string };
  naming?: Naming;
  staleAfter?: number;
}

/** How long a scraper may sit without reading before its connection is dropped. */
const IDLE_SCRAPE_MS = 60_000;

export class PrometheusWriter extends Writer<PrometheusConfig> {
  static override description = 'Serves the samples on an HTTP(S) endpoint for Prometheus to scrape';
  static override schema: JsonSchema = {
    type: 'object',
    properties: {
      port: { type: 'integer', minimum: 0, maximum: 65535, default: 8080, description: 'TCP port to listen on' },
      host: { type: 'string', minLength: 1, default: '0.0.0.0', description: 'Address to bind' },
      path: { type: 'string', pattern: '^/', default: '/metrics', description: 'Path of the metrics endpoint' },
      tls: {
        type: 'object',
        description: 'Serve HTTPS with this key and certificate (PEM files)',
        properties: {
          key: { type: 'string', minLength: 1, description: 'Private key file (PEM)' },
          cert: { type: 'string', minLength: 1, description: 'Certificate chain file (PEM)' },
        },
        required: ['key', 'cert'],
        additionalProperties: false,
      },
      naming: {
        enum: ['pollect', 'prometheus'],
        default: 'pollect',
        description: 'pollect: names as the Python pollect; prometheus: snake_case, base units, _total on counters',
      },
      staleAfter: { type: 'integer', minimum: 1, default: 3, description: 'Failed ticks after which a source loses its series' },
    },
  };

  private readonly naming: Naming;
  private readonly store: SeriesStore;
  private server?: Server;
  private ctx?: WriterContext;
  private log?: Logger;
  private written = 0;
  private dropped = 0;
  private errors = 0;
  private readonly warned = new Set<string>();

  constructor(config: PrometheusConfig) {
    super(config);
    this.naming = config.naming ?? 'pollect';
    this.store = new SeriesStore(createNamer(this.naming), config.staleAfter ?? 3);
  }

  private get label(): string {
    return `Prometheus writer${this.id ? ` ${this.id}` : ''}`;
  }

  /** The port actually bound (differs from the config when it asked for 0). */
  get port(): number {
    return (this.server?.address() as AddressInfo | null)?.port ?? this.config.port ?? 8080;
  }

  override async start(ctx: WriterContext): Promise<void> {
    this.ctx = ctx;
    this.log = ctx.log;
    const handler = (req: IncomingMessage, res: ServerResponse): void => {
      this.serve(req, res).catch((err: unknown) => {
        this.errors++;
        this.log?.warn(`${this.label}: scrape failed: ${errorMessage(err)}`);
        res.destroy();
      });
    };
    let server: Server;
    if (this.config.tls) {
      const { key, cert } = this.config.tls;
      const keyPem = await this.readTlsFile('key', path.resolve(ctx.configDir, key));
      // The private key itself must never reach a log line.
      registerSecret(keyPem.trim());
      const certPem = await this.readTlsFile('cert', path.resolve(ctx.configDir, cert));
      try {
        server = https.createServer({ key: keyPem, cert: certPem }, handler);
      } catch (err) {
        throw new Error(`${this.label}: tls.key and tls.cert are not a usable PEM key and certificate: ${errorMessage(err)}`);
      }
    } else {
      server = http.createServer(handler);
    }
    const host = this.config.host ?? '0.0.0.0';
    const port = this.config.port ?? 8080;
    await new Promise<void>((resolve, reject) => {
      server.once('error', (err: NodeJS.ErrnoException) => {
        if (err.code === 'EADDRINUSE') reject(new Error(`${this.label}: port ${port} on ${host} is already in use`));
        else if (err.code === 'EACCES') reject(new Error(`${this.label}: no permission to listen on ${host}:${port}`));
        else if (err.code === 'EADDRNOTAVAIL') reject(new Error(`${this.label}: cannot bind ${host}:${port}: not an address of this machine`));
        else if (err.code === 'ENOTFOUND' || err.code === 'EAI_AGAIN') reject(new Error(`${this.label}: cannot bind ${host}:${port}: unknown host`));
        else reject(new Error(`${this.label}: cannot listen on ${host}:${port}: ${errorMessage(err)}`));
      });
      server.listen(port, host, () => resolve());
    });
    server.on('error', (err) => {
      this.errors++;
      this.log?.error(`${this.label}: ${errorMessage(err)}`);
    });
    this.server = server;
    ctx.log.info(`${this.label}: serving ${this.config.tls ? 'https' : 'http'}://${host}:${this.port}${this.config.path ?? '/metrics'}`);
  }

  private async readTlsFile(what: 'key' | 'cert', file: string): Promise<string> {
    try {
      return await readFile(file, 'utf8');
    } catch (err) {
      throw new Error(`${this.label}: cannot read tls.${what} file ${file}: ${errorMessage(err)}`);
    }
  }

  write(batch: Batch): void {
    const r = this.store.apply(batch);
    this.written += r.accepted;
    this.dropped += r.duplicates.length;
    for (const d of r.duplicates) {
      const key = `${d.family}\0${d.source}`;
      if (this.warned.has(key)) continue;
      this.warned.add(key);
      this.log?.warn(`${this.label}: ${d.source} sends series of ${d.family} that ${d.owner} already sends; keeping ${d.owner}'s`);
    }
  }

  override async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  }


  /** The whole exposition, as a scrape sees it (tests, promtool). */
  async render(format: Format = 'text'): Promise<string> {
    const parts: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, cb) {
        parts.push(chunk.toString());
        cb();
      },
    });
    await this.emit(new StreamSink(sink), format);
    return parts.join('');
  }

  private async serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const want = this.config.path ?? '/metrics';
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    if ((q < 0 ? url : url.slice(0, q)) !== want) {
      res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' });
      res.end(`Not found; the metrics are at ${want}\n`);
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { Allow: 'GET, HEAD', 'Content-Type': 'text/plain; charset=utf-8' });
      res.end('Method not allowed\n');
      return;
    }
    const format = negotiate(req.headers.accept);
    const gzip = /\bgzip\b/i.test(String(req.headers['accept-encoding'] ?? ''));
    res.setHeader('Content-Type', format === 'openmetrics' ? OPENMETRICS_CONTENT_TYPE : TEXT_CONTENT_TYPE);
    res.setHeader('Cache-Control', 'no-store');
    res.setHeader('Vary', 'Accept, Accept-Encoding');
    if (req.method === 'HEAD') {
      res.end();
      return;
    }
    // A scraper that stops reading is cut off; write() never waits for any scraper.
    res.setTimeout(IDLE_SCRAPE_MS, () => res.destroy());
    let out: Writable = res;
    if (gzip) {
      const zlib = await import('node:zlib');
      res.setHeader('Content-Encoding', 'gzip');
      // Big chunks: fewer round trips to the thread pool that compresses.
      const gz = zlib.createGzip({ level: 1, chunkSize: 128 * 1024 });
      gz.pipe(res);
      gz.on('error', () => res.destroy());
      res.once('close', () => gz.destroy());
      out = gz;
    }
    await this.emit(new StreamSink(out), format);
  }

  /** Writes every family: the sources' pre-rendered chunks, then the self-metrics. */
  private async emit(sink: StreamSink, format: Format): Promise<void> {
    const self: SelfFamily[] = [seriesFamily(this.store.size, this.id)];
    const reserved = new Set<string>(self.map((f) => f.name));
    // A snapshot: write() may run while we yield, and must not make a family appear twice.
    const families = [...this.store.families.values()];
    for (const fam of families) {
      if (sink.closed) return;
      if (fam.chunks.size === 0) continue;
      if (reserved.has(fam.name)) {
        this.warnOnce(`reserved\0${fam.name}`, `${this.label}: family ${fam.name} clashes with a self-metric and is not served`);
        continue;
      }
      // Taken at once: a write() during a yield must not move a series between two emitted chunks.
      const texts = [...fam.texts()];
      const omClash =
        format === 'openmetrics' && fam.type === 'counter' && fam.name.endsWith('_total') && this.store.families.has(fam.name.slice(0, -6));
      let pending = sink.push(fam.header(format, omClash));
      if (pending) await pending;
      for (const text of texts) {
        pending = sink.push(text);
        if (pending) await pending;
      }
    }
    for (const f of self) {
      const pending = sink.push(renderSelf(f, format));
      if (pending) await pending;
    }
    if (format === 'openmetrics') sink.push('# EOF\n');
    await sink.end();
  }

  private warnOnce(key: string, msg: string): void {
    if (this.warned.has(key)) return;
    this.warned.add(key);
    this.log?.warn(msg);
  }
}
