// K8s: pod and node figures from the kubelet's /stats/summary (chouette-iot's K8s collector),
// over HTTPS with a client certificate or a bearer token.
import { ParamError, Source, SourceError, type JsonSchema, type PluginContext, type ProbeContext, type Sample, type SourceParams } from '../../sdk/index.js';
import { checkHost, portParam, readParamFile } from '../../sdk/params.js';
import { expectOk, httpRequest, parseJsonBody, safeUrl, type TlsOptions } from '../../sdk/http.js';
import { NODE_METRICS, POD_METRICS, summaryToSamples } from './summary.js';

const pemFile = (what: string) => ({ type: 'string', minLength: 1, description: `${what} (PEM file, relative to the config file)` }) as const;

const schema = {
  type: 'object',
  additionalProperties: false,
  required: ['host'],
  properties: {
    host: { type: 'string', minLength: 1, description: 'Kubelet address (node IP or name)' },
    port: { ...portParam, default: 10250, description: 'Kubelet port' },
    cert: pemFile('Client certificate'),
    key: pemFile('Client key, required with cert'),
    ca: pemFile("CA bundle that signed the kubelet's certificate"),
    insecureSkipVerify: { type: 'boolean', default: false, description: "Do not verify the kubelet's certificate" },
    token: { type: 'string', minLength: 1, description: 'Bearer token, e.g. a service account token (use ${ENV} in the config)' },
    metrics: {
      type: 'object',
      additionalProperties: false,
      default: {},
      description: 'Which figures to emit; a missing key keeps its default, an empty list turns it off',
      properties: {
        pods: { type: 'array', items: { type: 'string', enum: POD_METRICS }, default: ['memory', 'cpu'], description: 'Pod figures' },
        node: { type: 'array', items: { type: 'string', enum: NODE_METRICS }, default: ['inodes'], description: 'Node figures' },
      },
    },
  },
} as const satisfies JsonSchema;

export type K8sConfig = SourceParams<typeof schema>;

/** A summary of a big node is a few MB; anything far beyond is not a summary. */
const MAX_BYTES = 32 * 1024 * 1024;

export class K8sSource extends Source<K8sConfig> {
  static override description = 'Pod and node CPU, memory, network and filesystem figures from the kubelet /stats/summary';
  static override schema = schema;

  private readonly tls: TlsOptions;
  private readonly url: string;

  constructor(config: K8sConfig, context?: PluginContext) {
    super(config, context);
    this.url = `https://${checkHost('host', config.host)}:${config.port}/stats/summary`;
    const { cert, key, ca } = config;
    if ((cert === undefined) !== (key === undefined))
      throw new ParamError(cert === undefined ? 'cert' : 'key', '"cert" and "key" go together; give both or neither');
    // Read now: a file that cannot be read is a config error (`pollect --check`), not a failing probe.
    this.tls = {
      cert: cert === undefined ? undefined : readParamFile(this.context, 'cert', cert),
      key: key === undefined ? undefined : readParamFile(this.context, 'key', key),
      ca: ca === undefined ? undefined : readParamFile(this.context, 'ca', ca),
      rejectUnauthorized: !config.insecureSkipVerify,
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
