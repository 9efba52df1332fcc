// OpenStack: Nova usage for billing (os-metrics): per-tenant totals and per-server figures from
// os-simple-tenant-usage over a sliding window, after Keystone v3 password authentication.
import { Source, SourceError, type JsonSchema, type PluginContext, type ProbeContext, type Sample, type SourceParams } from '../../sdk/index.js';
import { checkUrl } from '../../sdk/params.js';
import { httpRequest, safeUrl, type HttpResponse } from '../../sdk/http.js';
import { apiMessage, authenticate, tokenUrl, type KeystoneSession } from './keystone.js';
import { UsageCollector, novaTime, parsePage } from './usage.js';

const schema = {
  type: 'object',
  additionalProperties: false,
  required: ['authUrl', 'username', 'password', 'projectName'],
  properties: {
    authUrl: { type: 'string', minLength: 1, description: 'Keystone URL, with or without /v3 (e.g. https://keystone:5000)' },
    username: { type: 'string', minLength: 1, description: 'User name' },
    password: { type: 'string', minLength: 1, description: 'Password (use ${ENV})' },
    projectName: { type: 'string', minLength: 1, description: 'Project to scope the token to' },
    userDomain: { type: 'string', minLength: 1, default: 'Default', description: "Name of the user's domain" },
    projectDomain: { type: 'string', minLength: 1, default: 'Default', description: "Name of the project's domain" },
    region: { type: 'string', minLength: 1, description: 'Region of the compute endpoint (needed when the catalog has several)' },
    interface: { type: 'string', enum: ['public', 'internal', 'admin'], default: 'public', description: 'Catalog interface of the compute endpoint' },
    window: { type: 'number', exclusiveMinimum: 0, default: 86400, description: 'Seconds of usage to report, ending now' },
    allTenants: { type: 'boolean', default: false, description: 'Report every tenant (needs the admin role) instead of the scoped project' },
  },
} as const satisfies JsonSchema;

export type OpenStackConfig = SourceParams<typeof schema>;

/** The first microversion with paged usage answers. */
const MICROVERSION = '2.40';
/** Renew a token this long before Keystone says it expires. */
const RENEW_BEFORE_MS = 5 * 60 * 1000;
/** Pages of up to 1000 instances each (Nova's default max_limit); far more means a loop. */
const MAX_PAGES = 1000;

/** What is left of one probe's time. */
interface Budget {
  /** Milliseconds left; throws once the time is up. */
  left: () => number;
  spent: () => boolean;
  signal: AbortSignal;
}

export class OpenStackSource extends Source<OpenStackConfig> {
  static override description = 'Nova usage per tenant and server (os-simple-tenant-usage) over a sliding window, for billing';
  static override schema = schema;

  private session: KeystoneSession | undefined;

  constructor(config: OpenStackConfig, context?: PluginContext) {
    super(config, context);
    checkUrl('authUrl', config.authUrl, ['http:', 'https:']);
  }

  async probe(ctx: ProbeContext): Promise<Sample[]> {
    const deadline = Date.now() + ctx.timeoutMs;
    // One deadline for the whole probe (login and every page). The requests' own timeouts get a
    // second of slack so that this signal always fires first and the error names the probe's timeout.
    const signal = AbortSignal.any([ctx.signal, AbortSignal.timeout(ctx.timeoutMs)]);
    const budget: Budget = {
      signal,
      spent: () => signal.aborted,
      left: () => {
        if (signal.aborted) throw new SourceError(`OpenStack: no answer within ${ctx.timeoutMs} ms`);
        return Math.max(1, deadline - Date.now()) + 1000;
      },
    };
    const windowMs = this.config.window * 1000;
    const end = Date.now();
    const query: Record<string, string> = { start: novaTime(end - windowMs), end: novaTime(end) };
    const kind = this.config.allTenants ? 'list' : 'show';
    if (kind === 'list') query.detailed = '1';

    let session = await this.login(ctx, budget, false);
    const collector = new UsageCollector();
    if (kind === 'show') collector.ensure(session.projectId);
    const seen = new Set<string>();
    let marker: string | undefined;
    for (let page = 0; ; page++) {
      if (page >= MAX_PAGES) throw new SourceError(`OpenStack: Nova usage has more than ${MAX_PAGES} pages; giving up`);
      let res = await this.novaGet(session, kind, { ...query, ...(marker ? { marker } : {}) }, ctx, budget);
      if (res.status === 401) {
        // The token expired early or was revoked: one fresh login, then the same page again.
        session = await this.login(ctx, budget, true);
        res = await this.novaGet(session, kind, { ...query, ...(marker ? { marker } : {}) }, ctx, budget);
        if (res.status === 401) {
          this.session = undefined;
          throw new SourceError(`${this.where(session, kind)}: HTTP 401 even with a fresh token: ${excerpt(res.body, session)}`);
        }
      }
      const doc = this.parse(res, session, kind);
      let parsed;
      try {
        parsed = parsePage(doc, kind);
      } catch (err) {
        throw new SourceError(`${this.where(session, kind)}: ${(err as Error).message}`);
      }
      for (const u of parsed.usages) collector.add(u);
      if (!parsed.nextMarker) break;
      if (seen.has(parsed.nextMarker)) throw new SourceError(`${this.where(session, kind)}: the "next" links loop (marker ${parsed.nextMarker} again)`);
      seen.add(parsed.nextMarker);
      marker = parsed.nextMarker;
    }
    return collector.samples();
  }

  private async login(ctx: ProbeContext, budget: Budget, force: boolean): Promise<KeystoneSession> {
    const s = this.session;
    if (!force && s && (s.expiresAt === undefined || s.expiresAt - RENEW_BEFORE_MS > Date.now())) return s;
    this.session = undefined;
    const c = this.config;
    try {
      this.session = await authenticate(
        {
          authUrl: c.authUrl,
          username: c.username,
          password: c.password,
          projectName: c.projectName,
          userDomain: c.userDomain,
          projectDomain: c.projectDomain,
        },
        { region: c.region, interface: c.interface },
        { timeoutMs: budget.left(), signal: budget.signal },
      );
    } catch (err) {
      // Each request gets what is left of the probe's budget; running out is the probe's timeout.
      if (budget.spent()) throw new SourceError(`OpenStack: Keystone POST ${safeUrl(tokenUrl(c.authUrl))}: no answer within ${ctx.timeoutMs} ms`);
      const msg = (err as Error).message;
      throw new SourceError(msg.startsWith('Keystone') ? `OpenStack: ${msg}` : `OpenStack: Keystone ${msg}`);
    }
    return this.session;
  }

  private usageUrl(session: KeystoneSession, kind: 'show' | 'list'): string {
    const base = `${session.computeUrl}/os-simple-tenant-usage`;
    return kind === 'show' ? `${base}/${encodeURIComponent(session.projectId)}` : base;
  }

  private where(session: KeystoneSession, kind: 'show' | 'list'): string {
    return `OpenStack: Nova GET ${safeUrl(this.usageUrl(session, kind))}`;
  }

  private async novaGet(
    session: KeystoneSession,
    kind: 'show' | 'list',
    query: Record<string, string>,
    ctx: ProbeContext,
    budget: Budget,
  ): Promise<HttpResponse> {
    const url = `${this.usageUrl(session, kind)}?${new URLSearchParams(query).toString()}`;
    try {
      return await httpRequest({
        url,
        headers: {
          'X-Auth-Token': session.token,
          Accept: 'application/json',
          'OpenStack-API-Version': `compute ${MICROVERSION}`,
          'X-OpenStack-Nova-API-Version': MICROVERSION,
        },
        timeoutMs: budget.left(),
        signal: budget.signal,
        maxBytes: 32 * 1024 * 1024,
        // Probes are minutes apart; a pooled connection the server closed meanwhile would fail the next one.
        keepAlive: false,
      });
    } catch (err) {
      if (budget.spent()) throw new SourceError(`${this.where(session, kind)}: no answer within ${ctx.timeoutMs} ms`);
      throw new SourceError(`OpenStack: Nova ${(err as Error).message}`);
    }
  }

  private parse(res: HttpResponse, session: KeystoneSession, kind: 'show' | 'list'): unknown {
    const where = this.where(session, kind);
    if (res.status === 403 && kind === 'list') {
      throw new SourceError(`${where}: HTTP 403: listing all tenants needs the admin role (${excerpt(res.body, session)})`);
    }
    if (res.status < 200 || res.status >= 300) {
      const text = excerpt(res.body, session);
      throw new SourceError(`${where}: HTTP ${res.status}${res.statusText ? ' ' + res.statusText : ''}${text ? ': ' + text : ''}`);
    }
    if (res.body.length === 0) throw new SourceError(`${where}: empty body`);
    try {
      return JSON.parse(res.body.toString('utf8'));
    } catch (err) {
      const start = excerpt(res.body, session, 60);
      // JSON.parse quotes the offending input, which may be binary.
      const why = (err as Error).message.replace(/[^\x20-\x7e]+/g, '?').slice(0, 100);
      const ct = res.headers['content-type'] ?? 'no content type';
      throw new SourceError(`${where}: invalid JSON (${why}; ${ct}; ${start ? `body starts "${start}"` : `${res.body.length} bytes, not text`})`);
    }
  }
}

/**
 * A body excerpt for messages without the token: a server may echo it back. Tokens are not
 * registered as secrets because a new one comes every few hours and the registry only grows.
 */
function excerpt(body: Buffer, session: KeystoneSession, max?: number): string {
  const head = body.subarray(0, 4096).toString('utf8');
  return apiMessage(Buffer.from(head.split(session.token).join('***')), max);
}
