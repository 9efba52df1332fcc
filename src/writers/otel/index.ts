// Otel: sends the samples to an OpenTelemetry collector (or any OTLP/HTTP receiver) as OTLP
// metrics, protobuf or JSON: gauges, and counters as cumulative monotonic sums, with the resource
// attributes service.name and host.name. The Python pollect's `type: Otel` (no keys: everything
// from the OTEL_EXPORTER_OTLP_* variables) loads unchanged; keys given here win over the
// environment. The protocol only: the core's writer runtime buffers and retries.
import os from 'node:os';
import { gzipSync } from 'node:zlib';
import {
  ParamError,
  Writer,
  type Batch,
  type JsonSchema,
  type Logger,
  type PluginContext,
  type WriteOutcome,
  type WriterContext,
  type WriterParams,
} from '../../sdk/index.js';
import { HttpPush, httpPushKeys } from '../http-push.js';
import { otlpEnv } from './env.js';
import { attributes, buildRequest, otlpTypes, type KeyValue, type OtlpTypes } from './otlp.js';

const schema = {
  type: 'object',
  properties: {
    endpoint: {
      type: 'string',
      minLength: 1,
      description: 'OTLP/HTTP metrics URL (default: from OTEL_EXPORTER_OTLP_[METRICS_]ENDPOINT, else http://localhost:4318/v1/metrics)',
    },
    protocol: { enum: ['http/protobuf', 'http/json'], description: 'Body encoding (default: OTEL_EXPORTER_OTLP_[METRICS_]PROTOCOL, else http/protobuf)' },
    compression: { enum: ['gzip', 'none'], description: 'Body compression (default: OTEL_EXPORTER_OTLP_[METRICS_]COMPRESSION, else none)' },
    timeout: { type: 'number', exclusiveMinimum: 0, description: 'Seconds one request may take (default: OTEL_EXPORTER_OTLP_[METRICS_]TIMEOUT, else 10)' },
    headers: { ...httpPushKeys.headers, description: 'Extra request headers, over OTEL_EXPORTER_OTLP_[METRICS_]HEADERS' },
    tls: { ...httpPushKeys.tls, description: 'TLS files (default: OTEL_EXPORTER_OTLP_[METRICS_]CERTIFICATE, CLIENT_CERTIFICATE, CLIENT_KEY)' },
    serviceName: { type: 'string', minLength: 1, description: 'Resource attribute service.name (default: OTEL_SERVICE_NAME, else pollect)' },
    resourceAttributes: {
      type: 'object',
      additionalProperties: { type: 'string' },
      description: 'More resource attributes, over OTEL_RESOURCE_ATTRIBUTES (host.name defaults to the host name)',
    },
    diskQueue: httpPushKeys.diskQueue,
    maxDataPointsPerSend: { type: 'integer', minimum: 1, default: 5000, description: 'Data points per request at most' },
  },
} as const satisfies JsonSchema;

export type OtelConfig = WriterParams<typeof schema>;

/** The OTLP exporter spec's defaults, where neither the config nor the environment says. */
const DEFAULT_ENDPOINT = 'http://localhost:4318/v1/metrics';
const DEFAULT_TIMEOUT_S = 10;
/** OTLP/HTTP: only these are worth trying again; any other failure is final. */
const RETRYABLE = new Set([429, 502, 503, 504]);

export class OtelWriter extends Writer<OtelConfig> {
  static override description = 'Sends the samples to an OpenTelemetry collector as OTLP/HTTP metrics (protobuf or JSON)';
  static override schema = schema;

  private readonly http: HttpPush;
  private readonly json: boolean;
  private readonly gzip: boolean;
  private readonly resource: KeyValue[];
  private readonly startMs = Date.now();
  private readonly warned = new Set<string>();
  private log: Logger;
  private types: OtlpTypes | undefined;
  /** A batch whose first requests were taken before a later one failed: the retry sends only the rest. */
  private resume: { batch: Batch; sent: number; refused: number } | undefined;

  constructor(config: OtelConfig, context?: PluginContext) {
    super(config, context);
    this.log = this.context.log;
    const env = otlpEnv(process.env);
    const protocol = config.protocol ?? env.protocol ?? 'http/protobuf';
    if (protocol !== 'http/protobuf' && protocol !== 'http/json') {
      throw new ParamError('protocol', `OTEL_EXPORTER_OTLP_PROTOCOL "${protocol}" is not supported: use http/protobuf or http/json (gRPC is not)`);
    }
    this.json = protocol === 'http/json';
    const compression = config.compression ?? env.compression ?? 'none';
    if (compression !== 'gzip' && compression !== 'none')
      throw new ParamError('compression', `OTEL_EXPORTER_OTLP_COMPRESSION "${compression}": use gzip or none`);
    this.gzip = compression === 'gzip';
    const tls = config.tls ?? (env.tls && { ...env.tls, insecureSkipVerify: false });
    this.http = new HttpPush(
      { timeout: config.timeout ?? env.timeout ?? DEFAULT_TIMEOUT_S, headers: { ...env.headers, ...config.headers }, tls },
      this.context,
      config.endpoint ?? env.endpoint ?? DEFAULT_ENDPOINT,
      { urlParam: 'endpoint', retryable: (status) => RETRYABLE.has(status) },
    );
    this.resource = attributes({
      'host.name': os.hostname(),
      ...env.resourceAttributes,
      ...config.resourceAttributes,
      // The config over the environment; OTEL_SERVICE_NAME over OTEL_RESOURCE_ATTRIBUTES, as the spec says.
      'service.name':
        config.serviceName ?? config.resourceAttributes?.['service.name'] ?? env.serviceName ?? env.resourceAttributes?.['service.name'] ?? 'pollect',
    });
  }

  override async start(ctx: WriterContext): Promise<void> {
    this.log = ctx.log;
    this.types = await otlpTypes();
  }

  /**
   * Sends the batch in requests of maxDataPointsPerSend. Throws (the core retries the batch) when
   * the receiver cannot be reached or answers 429, 502, 503 or 504; a retry skips the requests
   * already taken. Data points refused for good (another status, or rejected in a partial
   * success) are returned as dropped.
   */
  override async write(batch: Batch): Promise<WriteOutcome> {
    this.types ??= await otlpTypes();
    const resumed = this.resume?.batch === batch ? this.resume : undefined;
    this.resume = undefined;
    let sent = resumed?.sent ?? 0;
    let refused = resumed?.refused ?? 0;
    const points = batch.points;
    while (sent < points.length) {
      const n = Math.min(points.length - sent, this.config.maxDataPointsPerSend);
      const request = buildRequest(points, sent, sent + n, this.resource, this.startMs);
      let result;
      try {
        result = await this.http.post(this.encode(request), this.headers());
      } catch (err) {
        if (sent > 0) this.resume = { batch, sent, refused };
        throw err;
      }
      if (result.taken) refused += this.partialSuccess(result.body, n);
      else {
        refused += n;
        this.warnOnce(`status ${result.status}`, `${this.http.target} refused ${n} data point(s): ${result.message}; counted as dropped`);
      }
      sent += n;
    }
    return refused > 0 ? { dropped: refused } : undefined;
  }

  override stop(): void {
    this.http.close();
  }

  private headers(): Record<string, string> {
    const h: Record<string, string> = { 'Content-Type': this.json ? 'application/json' : 'application/x-protobuf', 'User-Agent': 'pollect' };
    if (this.gzip) h['Content-Encoding'] = 'gzip';
    return h;
  }

  private encode(request: ReturnType<typeof buildRequest>): Buffer {
    const { Request } = this.types!;
    const body = this.json
      ? // Proto3's JSON mapping spells the doubles JSON has no number for.
        Buffer.from(JSON.stringify(request, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v)))
      : Buffer.from(Request.encode(Request.fromObject(request)).finish());
    return this.gzip ? gzipSync(body) : body;
  }

  /** The data points a 2xx answer says it rejected (OTLP partial success), logged once. */
  private partialSuccess(body: Buffer, sent: number): number {
    if (body.length === 0) return 0;
    let partial: { rejectedDataPoints?: unknown; errorMessage?: unknown } | undefined;
    try {
      const decoded = this.json
        ? (JSON.parse(body.toString('utf8')) as { partialSuccess?: typeof partial })
        : (this.types!.Response.toObject(this.types!.Response.decode(body), { longs: Number }) as { partialSuccess?: typeof partial });
      partial = decoded.partialSuccess;
    } catch {
      return 0;
    }
    if (!partial) return 0;
    const rejected = Math.min(sent, Math.max(0, Number(partial.rejectedDataPoints ?? 0) || 0));
    const message = typeof partial.errorMessage === 'string' && partial.errorMessage ? `: ${partial.errorMessage}` : '';
    if (rejected > 0 || message) {
      this.warnOnce('partial', `${this.http.target} rejected ${rejected} of ${sent} data point(s)${message}${rejected ? '; counted as dropped' : ''}`);
    }
    return rejected;
  }

  private warnOnce(key: string, msg: string): void {
    if (this.warned.has(key)) return;
    this.warned.add(key);
    this.log.warn(`writer ${this.id}: ${msg}`);
  }
}
