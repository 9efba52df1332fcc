// Http: response time of one or more URLs. As in the Python pollect, a URL that fails (transport
// error, timeout, unexpected status) reports timeout*1000 ms so the outage shows in the graph;
// `success` and `status_code` say what happened. A failing URL is data, not a source error.
import {
  Source,
  SourceError,
  type InitContext,
  type JsonSchema,
  type PluginContext,
  type ProbeContext,
  type Sample,
  type SourceParams,
} from '../../sdk/index.js';
import { checkUrl } from '../../sdk/params.js';
import { DEFAULT_MAX_BODY_BYTES, httpRequest, safeUrl } from '../../sdk/http.js';
import { monotonicMs } from '../../sdk/rate.js';
import { requestTimeout, requestTimeoutParam } from '../../sdk/timeout.js';

const schema = {
  type: 'object',
  additionalProperties: false,
  required: ['url'],
  properties: {
    url: {
      description: 'URL, or a list of URLs (then every sample gets a url label)',
      oneOf: [
        { type: 'string', minLength: 1 },
        { type: 'array', minItems: 1, items: { type: 'string', minLength: 1 } },
      ],
    },
    statusCode: {
      description: 'Expected status of the final response (default: any 2xx; redirects are followed)',
      oneOf: [
        { type: 'integer', minimum: 100, maximum: 599 },
        { type: 'array', minItems: 1, items: { type: 'integer', minimum: 100, maximum: 599 } },
      ],
    },
    proxy: {
      type: 'string',
      description:
        'HTTP proxy URL, e.g. http://user:pass@proxy:3128; "" for none whatever the environment. Without it, HTTP_PROXY, HTTPS_PROXY and NO_PROXY are honoured, as in the Python pollect',
    },
    method: { type: 'string', minLength: 1, default: 'GET', description: 'HTTP method (HEAD avoids downloading the body)' },
    headers: {
      type: 'object',
      additionalProperties: { type: 'string' },
      description: 'Request headers, e.g. {"Authorization": "Bearer ..."}; values of secret-looking names are never logged',
    },
    concurrency: { type: 'integer', minimum: 1, default: 16, description: 'URLs probed at once' },
    maxBytes: {
      type: 'integer',
      minimum: 1,
      default: DEFAULT_MAX_BODY_BYTES,
      description: 'Largest response body read, in bytes (10 MiB); a larger one counts as a failure',
    },
    timeout: requestTimeoutParam,
  },
} as const satisfies JsonSchema;

export type HttpConfig = SourceParams<typeof schema>;

export interface UrlResult {
  url: string;
  ok: boolean;
  ms: number;
  status: number;
  error?: string;
}

export class HttpSource extends Source<HttpConfig> {
  static override description = 'HTTP response time of one or more URLs in ms, with status_code and success';
  static override schema = schema;

  private readonly urls: string[];
  private readonly labelled: boolean;

  constructor(config: HttpConfig, context?: PluginContext) {
    super(config, context);
    this.labelled = Array.isArray(config.url);
    this.urls = Array.isArray(config.url) ? [...config.url] : [config.url];
    this.urls.forEach((u, i) => checkUrl(this.labelled ? `url[${i}]` : 'url', u, ['http:', 'https:']));
    if (config.proxy) checkUrl('proxy', config.proxy, ['http:', 'https:']);
  }

  override async init(_ctx: InitContext): Promise<void> {
    // Load axios now so the first probe's time is the request's, not the module load's.
    await import('axios');
  }

  async probe(ctx: ProbeContext): Promise<Sample[]> {
    await import('axios');
    const results = await mapLimit(this.urls, this.config.concurrency, (u) => this.probeUrl(u, ctx));
    if (ctx.signal.aborted) {
      throw new SourceError(`aborted at the probe timeout (${ctx.timeoutMs} ms) before every URL answered`);
    }
    const timeoutS = requestTimeout(this.config.timeout, ctx.timeoutMs).seconds;
    const out: Sample[] = [];
    for (const r of results) {
      if (!r.ok) ctx.reportProblem(r.error ?? `${safeUrl(r.url)} failed`);
      const labels = this.labelled ? { url: labelUrl(r.url) } : undefined;
      out.push(
        { value: r.ok ? round3(r.ms) : timeoutS * 1000, labels, unit: 'ms', help: 'HTTP response time (timeout*1000 on failure)' },
        { name: 'status_code', value: r.status, labels, help: 'HTTP status of the final response (0: none)' },
        { name: 'success', value: r.ok ? 1 : 0, labels, help: '1 when the URL answered with an expected status' },
      );
    }
    return out;
  }

  private async probeUrl(url: string, ctx: ProbeContext): Promise<UrlResult> {
    const timeout = requestTimeout(this.config.timeout, ctx.timeoutMs);
    const method = this.config.method.toUpperCase();
    const start = monotonicMs();
    try {
      const res = await httpRequest({
        url,
        method,
        headers: this.config.headers,
        timeoutMs: timeout.ms,
        signal: ctx.signal,
        maxBytes: this.config.maxBytes,
        proxy: this.config.proxy || undefined,
        proxyFromEnv: this.config.proxy === undefined,
        keepAlive: false,
      });
      const ms = monotonicMs() - start;
      const ok = statusExpected(res.status, this.config.statusCode);
      return { url, ok, ms, status: res.status, error: ok ? undefined : `${method} ${safeUrl(url)}: unexpected status ${res.status}` };
    } catch (err) {
      return { url, ok: false, ms: monotonicMs() - start, status: 0, error: (err as Error).message };
    }
  }
}

export function statusExpected(status: number, expected: number | number[] | undefined): boolean {
  if (expected === undefined) return status >= 200 && status < 300;
  return Array.isArray(expected) ? expected.includes(status) : status === expected;
}

/** The url label: the URL as configured but without credentials in it. */
function labelUrl(url: string): string {
  try {
    const u = new URL(url);
    if (!u.username && !u.password) return url;
    u.username = '';
    u.password = '';
    return u.toString();
  } catch {
    return url;
  }
}

/** Runs fn over items with at most `limit` at once, keeping the order of items. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

function round3(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}
