// K8s: pod and node figures from the kubelet's /stats/summary (chouette-iot's K8s collector),
// over HTTPS with a client certificate or a bearer token.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { Source, SourceError, type InitContext, type ProbeContext, type Sample, type SourceConfig } from '../../sdk/index.js';
import type { JsonSchema } from '../../sdk/index.js';
import { registerSecret } from '../../log.js';
import { expectOk, httpRequest, parseJsonBody, safeUrl, type TlsOptions } from '../../sdk/http.js';
import { DEFAULT_METRICS, NODE_METRICS, POD_METRICS, summaryToSamples, type K8sMetrics } from './summary.js';

export interface K8sConfig extends SourceConfig {
  host: string;
  port?: number;
  /** Client certificate, key and CA bundle: PEM file paths, relative to the config file. */
  cert?: string;
  key?: string;
  ca?: string;
  insecureSkipVerify?: boolean;
  token?: string;
  metrics?: K8sMetrics;
}

/** A summary of a big node is a few MB; anything far beyond is not a summary. */
const MAX_BYTES = 32 * 1024 * 1024;

export class K8sSource extends Source<K8sConfig> {
  static override description = 'Pod and node CPU, memory, network and filesystem figures from the kubelet /stats/summary';
  static override schema: JsonSchema = {
    type: 'object',
    required: ['host'],
    properties: {
      host: { type: 'string', minLength: 1, description: 'Kubelet address (node IP or name)' },
      port: { type: 'integer', minimum: 1, maximum: 65535, default: 10250, description: 'Kubelet port' },
      cert: { type: 'string', description: 'Client certificate (PEM file; relative to the config file)' },
      key: { type: 'string', description: 'Client key (PEM file; relative to the config file)' },
      ca: { type: 'string', description: 'CA bundle to verify the kubelet (PEM file; relative to the config file)' },
      insecureSkipVerify: { type: 'boolean', default: false, description: "Do not verify the kubelet's certificate" },
      token: { type: 'string', minLength: 1, description: 'Bearer token (e.g. a service account token)' },
      metrics: {
        type: 'object',
        additionalProperties: false,
        description: 'Which figures to emit; a missing key keeps its default, an empty list turns it off',
        properties: {
          pods: { type: 'array', items: { type: 'string', enum: [...POD_METRICS] }, default: DEFAULT_METRICS.pods },
          node: { type: 'array', items: { type: 'string', enum: [...NODE_METRICS] }, default: DEFAULT_METRICS.node },
        },
      },
    },
  };

  private tls: TlsOptions = {};
  private readonly url: string;

  constructor(config: K8sConfig) {
    super(config);
    if (config.token) registerSecret(config.token);
    const host = config.host.includes(':') && !config.host.startsWith('[') ? `[${config.host}]` : config.host;
    this.url = `https://${host}:${config.port ?? 10250}/stats/summary`;
  }

  override async init(ctx: InitContext): Promise<void> {
    const { cert, key, ca } = this.config;
    if ((cert === undefined) !== (key === undefined)) {
      throw new SourceError('K8s: "cert" and "key" go together; give both or neither');
    }
    this.tls = {
      cert: cert === undefined ? undefined : await readPem(ctx.configDir, cert, 'cert'),
      key: key === undefined ? undefined : await readPem(ctx.configDir, key, 'key'),
      ca: ca === undefined ? undefined : await readPem(ctx.configDir, ca, 'ca'),
      rejectUnauthorized: this.config.insecureSkipVerify !== true,
    };
  }

  async probe(ctx: ProbeContext): Promise<Sample[]> {
    const headers: Record<string, string> = { Accept: 'application/json' };
    if (this.config.token) headers.Authorization = `Bearer ${this.config.token}`;
    const where = `kubelet GET ${safeUrl(this.url)}`;
    let res;
    try {
      res = await httpRequest({
        url: this.url,
        headers,
        timeoutMs: ctx.timeoutMs,
        signal: ctx.signal,
        maxBytes: MAX_BYTES,
        tls: this.tls,
      });
    } catch (err) {
      // The probe's own deadline surfaces as a bare "aborted"; say what it means.
      if (ctx.signal.aborted) throw new SourceError(`${where}: no answer within ${ctx.timeoutMs} ms`);
      const msg = oneLine((err as Error).message);
      throw new SourceError(`kubelet ${msg}${tlsHint(msg)}`);
    }
    if (res.status === 401 || res.status === 403) {
      const how = this.config.token ? 'bearer token' : this.tls.cert ? 'client certificate' : 'no credentials given';
      throw new SourceError(`${where}: HTTP ${res.status}: the kubelet refused access (${how}); it needs a certificate or token allowed to get nodes/stats`);
    }
    expectOk(res, where);
    if (res.body.length === 0) throw new SourceError(`${where}: empty body`);
    let doc: unknown;
    try {
      doc = parseJsonBody(res, where);
    } catch (err) {
      // JSON.parse quotes the offending bytes, which may be binary.
      throw new SourceError((err as Error).message.replace(/[^\x20-\x7e\u2026]+/g, '?'));
    }
    try {
      return summaryToSamples(doc, this.config.metrics);
    } catch (err) {
      throw new SourceError(`${where}: ${(err as Error).message}`);
    }
  }
}

async function readPem(configDir: string, file: string, what: string): Promise<Buffer> {
  const full = path.resolve(configDir, file);
  try {
    return await readFile(full);
  } catch (err) {
    throw new SourceError(`K8s: cannot read ${what} file ${full}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

/** OpenSSL errors span lines and carry file names; keep their reason only. */
function oneLine(msg: string): string {
  return msg
    .replace(/[0-9A-F]+:error:[0-9A-F]+:SSL routines:[^:]*:([^:]+):\S+:\d+:(SSL alert number \d+)?/g, '$1')
    .replace(/\s+/g, ' ')
    .trim();
}

/** TLS failures read cryptically; say which side rejected whom. */
function tlsHint(msg: string): string {
  if (/alert (bad|unknown|certificate)|certificate required|unknown ca|bad certificate|ECONNRESET|socket hang up/i.test(msg)) {
    return ' (the kubelet may have rejected the client certificate)';
  }
  if (/self[- ]signed|unable to verify|unable to get local issuer|altnames|certificate has expired/i.test(msg)) {
    return ' (the kubelet certificate did not verify: set "ca", or "insecureSkipVerify": true)';
  }
  return '';
}
