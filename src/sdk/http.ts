// HTTP(S) requests for sources, through axios (imported on first use so start-up stays fast).
// Bounded in time and size; every failure becomes a one-line SourceError that names the URL
// without credentials and never carries a header value.
import type { AxiosInstance } from 'axios';
import { SourceError, redact } from './index.js';
import { http, https } from '../core/node-http.js';

export interface TlsOptions {
  ca?: string | Buffer;
  cert?: string | Buffer;
  key?: string | Buffer;
  /** Default true: verify the server's certificate. */
  rejectUnauthorized?: boolean;
  servername?: string;
}

export interface HttpRequest {
  url: string;
  method?: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
  timeoutMs: number;
  signal?: AbortSignal;
  /** Largest body accepted. Default DEFAULT_MAX_BODY_BYTES. */
  maxBytes?: number;
  tls?: TlsOptions;
  /** Talk HTTP over a unix socket (the URL's host is then ignored). */
  socketPath?: string;
  /** HTTP proxy URL; user:password in it is sent as proxy credentials. */
  proxy?: string;
  /**
   * Without `proxy`: take it from HTTP_PROXY, HTTPS_PROXY and NO_PROXY (lower case first), as
   * Python's requests does. Default false: no proxy.
   */
  proxyFromEnv?: boolean;
  /** Default true. false: a fresh connection per request (a response-time check must not reuse one). */
  keepAlive?: boolean;
}

export interface HttpResponse {
  status: number;
  statusText: string;
  headers: Record<string, string>;
  body: Buffer;
}

/** The largest body a request accepts unless it says otherwise (the Http source's maxBytes default). */
export const DEFAULT_MAX_BODY_BYTES = 10 * 1024 * 1024;

let axiosPromise: Promise<AxiosInstance> | undefined;
function loadAxios(): Promise<AxiosInstance> {
  axiosPromise ??= import('axios').then((m) => m.default.create());
  return axiosPromise;
}

/** The URL for messages: no userinfo, no query string (tokens travel there too). */
export function safeUrl(url: string): string {
  try {
    const u = new URL(url);
    u.username = '';
    u.password = '';
    u.search = '';
    return redact(u.toString());
  } catch {
    return redact(url);
  }
}

/** Sends one request. Resolves for any HTTP status; rejects with a SourceError on transport failure. */
export async function httpRequest(req: HttpRequest): Promise<HttpResponse> {
  const axios = await loadAxios();
  const method = (req.method ?? 'GET').toUpperCase();
  const where = `${method} ${safeUrl(req.url)}`;
  const maxBytes = req.maxBytes ?? DEFAULT_MAX_BODY_BYTES;
  // axios' own timeout only covers an idle socket; this bounds the whole exchange.
  const deadline = AbortSignal.timeout(req.timeoutMs);
  const signal = req.signal ? AbortSignal.any([req.signal, deadline]) : deadline;
  let agent: unknown;
  if (req.tls && req.url.startsWith('https:')) {
    agent = new (https().Agent)({ ...req.tls, rejectUnauthorized: req.tls.rejectUnauthorized ?? true, keepAlive: false });
  } else if (req.keepAlive === false && req.url.startsWith('https:')) {
    agent = new (https().Agent)({ keepAlive: false });
  }
  let httpAgent: unknown;
  if (req.keepAlive === false) {
    httpAgent = new http.Agent({ keepAlive: false });
  }
  // undefined lets axios take the environment's proxy (proxy-from-env); false: none.
  let proxy: false | undefined | { protocol: string; host: string; port: number; auth?: { username: string; password: string } } = req.proxyFromEnv
    ? undefined
    : false;
  if (req.proxy) {
    const p = new URL(req.proxy);
    proxy = { protocol: p.protocol.replace(':', ''), host: p.hostname, port: Number(p.port || 80) };
    if (p.username) proxy.auth = { username: decodeURIComponent(p.username), password: decodeURIComponent(p.password) };
  }
  try {
    const res = await axios.request<ArrayBuffer>({
      url: req.url,
      method,
      headers: req.headers,
      data: req.body,
      responseType: 'arraybuffer',
      timeout: req.timeoutMs,
      signal,
      maxContentLength: maxBytes,
      maxBodyLength: maxBytes,
      maxRedirects: 5,
      validateStatus: () => true,
      decompress: true,
      socketPath: req.socketPath,
      httpsAgent: agent,
      httpAgent,
      proxy,
      transitional: { clarifyTimeoutError: true },
    });
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(res.headers as Record<string, unknown>)) {
      if (v !== undefined && v !== null) headers[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : String(v);
    }
    return { status: res.status, statusText: res.statusText ?? '', headers, body: Buffer.from(res.data) };
  } catch (err) {
    throw new SourceError(`${where}: ${describeTransportError(err, req.timeoutMs, maxBytes, deadline.aborted)}`);
  }
}

function describeTransportError(err: unknown, timeoutMs: number, maxBytes: number, timedOut: boolean): string {
  const e = err as { code?: string; message?: string; cause?: { code?: string; message?: string } };
  if (timedOut || e.code === 'ETIMEDOUT' || e.code === 'ECONNABORTED') return `no answer within ${timeoutMs} ms`;
  if (e.code === 'ERR_CANCELED') return 'aborted';
  if (e.message?.includes('maxContentLength')) return `response larger than ${maxBytes} bytes`;
  const code = e.code ?? e.cause?.code;
  const msg = e.message ?? String(err);
  return redact(code && !msg.includes(code) ? `${msg} (${code})` : msg);
}

/** A short, readable excerpt of a body for error messages (HTML tags stripped). */
export function bodyExcerpt(body: Buffer, max = 120): string {
  // Redacted before it is cut: a cut secret (a token the server echoes) would no longer match.
  const text = redact(
    body
      .subarray(0, 4096)
      .toString('utf8')
      .replace(/<[^>]*>/g, ' ')
      .replace(/[^\x20-\x7e]+/g, ' ')
      .replace(/\s+/g, ' ')
      .trim(),
  );
  return text.length > max ? text.slice(0, max) + '…' : text;
}

/** Throws a SourceError unless the status is 2xx. */
export function expectOk(res: HttpResponse, where: string): void {
  if (res.status >= 200 && res.status < 300) return;
  const excerpt = bodyExcerpt(res.body);
  throw new SourceError(`${where}: HTTP ${res.status}${res.statusText ? ' ' + res.statusText : ''}${excerpt ? `: ${excerpt}` : ''}`);
}

/** Parses a body as JSON, with an error that says what came instead. */
export function parseJsonBody(res: HttpResponse, where: string): unknown {
  const text = res.body.toString('utf8');
  try {
    return JSON.parse(text);
  } catch (err) {
    const ct = res.headers['content-type'] ?? 'no content type';
    throw new SourceError(`${where}: invalid JSON (${(err as Error).message}; ${ct}; body starts "${bodyExcerpt(res.body, 60)}")`);
  }
}

/**
 * GET (or another method) and parse JSON from a 2xx answer. `refused` may name the error of an
 * answer the source can explain better than "HTTP 401" (a refused token, a login to repeat).
 */
export async function httpJson(req: HttpRequest, refused?: (res: HttpResponse, where: string) => Error | undefined): Promise<unknown> {
  const res = await httpRequest(req);
  const where = `${(req.method ?? 'GET').toUpperCase()} ${safeUrl(req.url)}`;
  const err = refused?.(res, where);
  if (err) throw err;
  expectOk(res, where);
  return parseJsonBody(res, where);
}
