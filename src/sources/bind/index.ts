// Bind: BIND 9's statistics channel: cached RRsets per view, incoming queries per second by
// type, resolver queries (IPv4/IPv6) and cache hits/misses per second per view.
import { Source, SourceError, type ProbeContext, type Sample, type SourceConfig } from '../../sdk/index.js';
import type { JsonSchema } from '../../sdk/index.js';
import { expectOk, httpRequest, safeUrl } from '../../sdk/http.js';
import { RateTracker, monotonicMs } from '../../sdk/rate.js';
import { parseBindStats, type BindStats } from './parse.js';

export interface BindConfig extends SourceConfig {
  /** The statistics channel URL, e.g. http://127.0.0.1:8053/ or .../xml/v3/server or .../json/v1/server. */
  url: string;
  /** Views to report; default all but BIND's internal `_bind`. */
  views?: string[];
  /** `xml`, `json`, or `auto` (default: JSON when the URL path has /json or the body is JSON). */
  format?: 'auto' | 'xml' | 'json';
  /** Largest response accepted, bytes. Default 32 MiB (a server with many zones answers big). */
  maxBytes?: number;
}

const DEFAULT_MAX_BYTES = 32 * 1024 * 1024;

export class BindSource extends Source<BindConfig> {
  static override description = 'BIND 9 statistics channel: cache RRsets, query rates by type, resolver and cache rates';
  static override schema: JsonSchema = {
    type: 'object',
    required: ['url'],
    properties: {
      url: { type: 'string', pattern: '^https?://', description: 'Statistics channel URL (XML v3 or JSON v1)' },
      views: { type: 'array', items: { type: 'string' }, description: 'Views to report; default all but _bind' },
      format: { type: 'string', enum: ['auto', 'xml', 'json'], default: 'auto' },
      maxBytes: { type: 'integer', minimum: 1024, default: DEFAULT_MAX_BYTES, description: 'Largest response accepted' },
    },
  };

  private readonly rates = new RateTracker();
  /** When the last probe read the statistics: a query type first listed after it started from 0. */
  private lastAtMs: number | undefined;

  private wantJson(): boolean | undefined {
    const f = this.config.format ?? 'auto';
    if (f !== 'auto') return f === 'json';
    try {
      if (new URL(this.config.url).pathname.includes('/json')) return true;
    } catch {
      // an invalid URL fails in the request with a clear message
    }
    return undefined;
  }

  async probe(ctx: ProbeContext): Promise<Sample[]> {
    const where = `GET ${safeUrl(this.config.url)}`;
    const res = await httpRequest({
      url: this.config.url,
      timeoutMs: ctx.timeoutMs,
      signal: ctx.signal,
      maxBytes: this.config.maxBytes ?? DEFAULT_MAX_BYTES,
      headers: { accept: 'application/xml, application/json;q=0.9' },
    });
    expectOk(res, where);
    const atMs = monotonicMs();
    let stats: BindStats;
    try {
      stats = await parseBindStats(res.body.toString('utf8'), this.wantJson());
    } catch (err) {
      if (err instanceof SourceError) throw new SourceError(`${where}: ${err.message}`);
      throw err;
    }
    return this.toSamples(stats, atMs, ctx, where);
  }

  private toSamples(stats: BindStats, atMs: number, ctx: ProbeContext, where: string): Sample[] {
    const out: Sample[] = [];
    const rate = (key: string, value: number | undefined, name: string, labels: Record<string, string>): void => {
      if (value === undefined) return;
      // A restart of named resets its counters: RateTracker re-primes instead of going negative.
      const r = this.rates.rate(key, value, atMs);
      if (r !== undefined) out.push({ name, value: r, labels });
    };
    for (const [type, n] of Object.entries(stats.qtypes)) {
      // BIND lists a query type only once it has been asked for: new since the last probe means from 0.
      if (this.lastAtMs !== undefined && !this.rates.has(`q|${type}`)) this.rates.rate(`q|${type}`, 0, this.lastAtMs);
      rate(`q|${type}`, n, 'queries_per_sec', { type });
    }
    this.lastAtMs = atMs;

    const available = Object.keys(stats.views);
    let views = this.config.views?.filter((v) => v !== '');
    if (!views || views.length === 0) views = available.filter((v) => v !== '_bind');
    const missing = views.filter((v) => !(v in stats.views));
    if (missing.length === views.length && views.length > 0) {
      throw new SourceError(`${where}: no view ${missing.map((v) => `"${v}"`).join(', ')} in the statistics (views: ${available.join(', ') || 'none'})`);
    }
    if (missing.length > 0) ctx.log.warn(`${where}: views not in the statistics: ${missing.join(', ')} (views: ${available.join(', ')})`);
    for (const view of views) {
      const v = stats.views[view];
      if (!v) continue;
      for (const [type, n] of Object.entries(v.rrsets)) out.push({ name: 'cache_rrsets', value: n, labels: { view, type } });
      rate(`r4|${view}`, v.queryV4, 'resolver_queries_per_sec', { view, ip: 'v4' });
      rate(`r6|${view}`, v.queryV6, 'resolver_queries_per_sec', { view, ip: 'v6' });
      rate(`ch|${view}`, v.cacheHits, 'cache_hits_per_sec', { view });
      rate(`cm|${view}`, v.cacheMisses, 'cache_misses_per_sec', { view });
    }
    return out;
  }
}
