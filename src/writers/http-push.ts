// What the writers that POST to a backend share (Influx, PrometheusRemoteWrite): the params for
// the endpoint, its credentials and TLS; one keep-alive connection pool; and the one reading of a
// response: 2xx taken, 429 and 5xx tried again later (after Retry-After when the backend names
// it), any other status refused for good. The core's writer runtime does the retrying.
import type { Agent } from 'node:http';
import { http, https } from '../core/node-http.js';
import { ParamError, RetryLaterError, registerSecret, type JsonSchema, type PluginContext } from '../sdk/index.js';
import { checkUrl, clientTlsParam, diskQueueParam, readClientTls, type ClientTls } from '../sdk/params.js';
import { safeUrl } from '../sdk/http.js';

/** Params every HTTP push writer takes; spread into its schema's properties. */
export const httpPushKeys = {
  url: { type: 'string', minLength: 1, description: 'Endpoint URL (http:// or https://)' },
  timeout: { type: 'number', exclusiveMinimum: 0, default: 10, description: 'Seconds one request may take' },
  username: { type: 'string', minLength: 1, description: 'HTTP basic auth user' },
  password: { type: 'string', description: 'HTTP basic auth password' },
  bearerToken: { type: 'string', minLength: 1, description: 'Sent as `Authorization: Bearer <token>`' },
  headers: {
    type: 'object',
    additionalProperties: { type: 'string' },
    description: 'Extra request headers, e.g. a tenant header such as X-Scope-OrgID',
  },
  diskQueue: diskQueueParam,
  tls: clientTlsParam('TLS for https:// URLs (PEM files, relative to the config file)', 'server'),
} as const satisfies Record<string, JsonSchema>;

export interface HttpPushConfig {
  url?: string;
  timeout: number;
  username?: string;
  password?: string;
  bearerToken?: string;
  headers?: Record<string, string>;
  tls?: ClientTls;
}

/** How the backend answered one request that it received. */
export type PushResult = { taken: true; body: Buffer } | { taken: false; status: number; message: string };

/** Which answers are worth trying again: by default 429 and every 5xx. */
export type Retryable = (status: number) => boolean;
const RETRYABLE: Retryable = (status) => status === 429 || status >= 500;

/** Longest Retry-After honoured: a backend asking for an hour still gets asked again within 10 min. */
const MAX_RETRY_AFTER_MS = 10 * 60_000;
/** Bytes of an error response kept for the log line. */
const MAX_ERROR_BODY = 2048;
/** Bytes of a response kept at most (a success body is read by some protocols: OTLP's partial success). */
const MAX_BODY = 64 * 1024;

export class HttpPush {
  /** The endpoint: the `url` param, to which a writer may add its API path and query. */
  url: URL;
  private readonly headers: Record<string, string>;
  private readonly timeoutMs: number;
  private readonly agent: Agent;

  /** Checks the params now (this runs for `--check`); `url` is the endpoint after any defaults. */
  private readonly retryable: Retryable;

  /** `opts.urlParam`: the param the URL came from, for errors (default `url`). */
  constructor(config: HttpPushConfig, context: PluginContext, url: string, opts: { urlParam?: string; retryable?: Retryable } = {}) {
    this.retryable = opts.retryable ?? RETRYABLE;
    this.url = checkUrl(opts.urlParam ?? 'url', url, ['http:', 'https:']);
    this.timeoutMs = config.timeout * 1000;
    this.headers = { ...config.headers };
    if (config.password !== undefined && config.username === undefined) throw new ParamError('password', 'a password needs a username');
    if (config.username !== undefined && config.bearerToken !== undefined)
      throw new ParamError('bearerToken', 'give basic auth (username) or a bearer token, not both');
    if (config.username !== undefined) {
      const basic = Buffer.from(`${config.username}:${config.password ?? ''}`).toString('base64');
      registerSecret(basic);
      this.headers.Authorization = `Basic ${basic}`;
    } else if (config.bearerToken !== undefined) {
      this.headers.Authorization = `Bearer ${config.bearerToken}`;
    }
    const tls = config.tls;
    if (tls && this.url.protocol !== 'https:') throw new ParamError('tls', 'tls is for https:// URLs');
    const options = { keepAlive: true, maxSockets: 4, ...(tls ? readClientTls(context, tls) : {}) };
    this.agent = this.url.protocol === 'https:' ? new (https().Agent)(options) : new http.Agent(options);
  }

  /** The endpoint for messages: no credentials, no query string. */
  get target(): string {
    return safeUrl(this.url.toString());
  }

  /**
   * POSTs one body. Resolves when the backend answered 2xx ({ taken: true }) or refused the body
   * for good (any other status: a 4xx, or a 3xx for a wrong URL). Throws when it is worth trying
   * again: no answer, or a status `retryable` accepts (by default 429 and 5xx); a RetryLaterError
   * when the backend names its wait in Retry-After.
   */
  async post(body: Buffer | string, headers: Record<string, string>, url: URL = this.url): Promise<PushResult> {
    const res = await this.request(url, body, { ...this.headers, ...headers });
    if (res.status >= 200 && res.status < 300) return { taken: true, body: res.body };
    const text = res.body.toString('utf8', 0, MAX_ERROR_BODY).trim().replace(/\s+/g, ' ');
    const message = `${res.status} ${res.statusMessage}${text ? `: ${text}` : ''}`;
    if (this.retryable(res.status)) {
      const wait = retryAfterMs(res.retryAfter, Date.now());
      const what = `${this.target} answered ${message}`;
      throw wait === undefined ? new Error(what) : new RetryLaterError(`${what} (retrying after ${Math.round(wait / 1000)} s)`, wait);
    }
    return { taken: false, status: res.status, message };
  }

  private request(
    url: URL,
    body: Buffer | string,
    headers: Record<string, string>,
  ): Promise<{ status: number; statusMessage: string; body: Buffer; retryAfter?: string }> {
    const lib = url.protocol === 'https:' ? https() : http;
    return new Promise((resolve, reject) => {
      const req = lib.request(url, { method: 'POST', agent: this.agent, headers: { ...headers, 'Content-Length': Buffer.byteLength(body) } });
      const deadline = setTimeout(() => req.destroy(new Error(`no answer within ${this.timeoutMs / 1000} s`)), this.timeoutMs);
      req.on('error', (err: NodeJS.ErrnoException) => {
        clearTimeout(deadline);
        reject(new Error(`cannot reach ${this.target}: ${err.code === 'ECONNREFUSED' ? 'connection refused' : err.message}`));
      });
      req.on('response', (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (d: Buffer) => {
          // Only the start of a body is kept.
          if (size < MAX_BODY) chunks.push(d);
          size += d.length;
        });
        res.on('end', () => {
          clearTimeout(deadline);
          const retryAfter = res.headers['retry-after'];
          resolve({ status: res.statusCode ?? 0, statusMessage: res.statusMessage ?? '', body: Buffer.concat(chunks).subarray(0, MAX_BODY), retryAfter });
        });
        res.on('error', (err) => {
          clearTimeout(deadline);
          reject(new Error(`${this.target}: ${err.message}`));
        });
      });
      req.end(body);
    });
  }

  /** Closes the idle keep-alive connections. */
  close(): void {
    this.agent.destroy();
  }
}

/** A Retry-After header (seconds, or an HTTP date) as a wait in ms, at most 10 minutes; undefined when absent or unreadable. */
export function retryAfterMs(header: string | undefined, now: number): number | undefined {
  if (header === undefined || header.trim() === '') return undefined;
  const h = header.trim();
  let ms: number;
  if (/^\d+$/.test(h)) ms = Number(h) * 1000;
  else {
    const at = Date.parse(h);
    if (Number.isNaN(at)) return undefined;
    ms = at - now;
  }
  return Math.min(MAX_RETRY_AFTER_MS, Math.max(0, ms));
}
