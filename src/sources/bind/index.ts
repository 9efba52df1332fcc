// Bind: BIND 9's statistics channel: cached RRsets per view, incoming queries per second by
// type, resolver queries (IPv4/IPv6) and cache hits/misses per second per view.
import { Source, SourceError, type JsonSchema, type PluginContext, type ProbeContext, type Sample, type SourceParams } from '../../sdk/index.js';
import { checkUrl, maxBytesParam } from '../../sdk/params.js';
import { expectOk, httpRequest, safeUrl } from '../../sdk/http.js';
import { RateTracker, monotonicMs } from '../../sdk/rate.js';
import { parseBindStats, type BindStats } from './parse.js';

const schema = {
  type: 'object',
  additionalProperties: false,
  required: ['url'],
  properties: {
    url: { type: 'string', description: 'Statistics channel URL, e.g. http://127.0.0.1:8053/xml/v3/server or http://127.0.0.1:8053/json/v1/server' },
    views: {
      type: 'array',
      items: { type: 'string' },
      description:
        "Views to report (default: all but BIND's internal _bind). A listed view that is missing is logged; if none is there the probe fails naming the views that exist",
    },
    format: {
      type: 'string',
      enum: ['auto', 'xml', 'json'],
      default: 'auto',
      description: 'auto: JSON when the URL path contains /json or the body starts with {, else XML',
    },
    // A server with many zones answers big.
    maxBytes: maxBytesParam(32 * 1024 * 1024, 'Largest response accepted, in bytes (32 MiB)'),
  },
} as const satisfies JsonSchema;

export type BindConfig = SourceParams<typeof schema>;

export class BindSource extends Source<BindConfig> {
  static override description = 'BIND 9 statistics channel: cache RRsets, query rates by type, resolver and cache rates';
  static override schema = schema;

  private readonly rates = new RateTracker();
  /** When the last probe read the statistics: a query type first listed after it started from 0. */
  private lastAtMs: number | undefined;

  /** true: JSON, false: XML, undefined: whatever the body is. */
  private readonly wantJson: boolean | undefined;

  constructor(config: BindConfig, context?: PluginContext) {
    super(config, context);
    const url = checkUrl('url', config.url, ['http:', 'https:']);
    this.wantJson = config.format === 'auto' ? (url.pathname.includes('/json') ? true : undefined) : config.format === 'json';
  }

  /** Its query and cache rates need a previous reading (see Source.reportsChanges). */
  override get reportsChanges(): boolean {
    return true;
  }

  async probe(ctx: ProbeContext): Promise<Sample[]> {
    const where = `GET ${safeUrl(this.config.url)}`;
    const res = await httpRequest({
      url: this.config.url,
      timeoutMs: ctx.timeoutMs,
      signal: ctx.signal,
      maxBytes: this.config.maxBytes,
      headers: { accept: 'application/xml, application/json;q=0.9' },
    });
    expectOk(res, where);
    const atMs = monotonicMs();
    let stats: BindStats;
    try {
      stats = await parseBindStats(res.body.toString('utf8'), this.wantJson);
    } catch (err) {
      if (err instanceof SourceError) throw new SourceError(`${where}: ${err.message}`);
      throw err;
    }
    return this.toSamples(stats, atMs, ctx, where);
  }

  /**
   * The Python pollect's series: the view (lower case) in the name and one label, `queryType`
   * (lower case): `<view>.cache.rrsets`, `server.queries_per_sec`, `<view>.queries_per_sec`
   * (v4, v6) and `<view>.cache_per_sec` (hits, misses).
   */
  private toSamples(stats: BindStats, atMs: number, ctx: ProbeContext, where: string): Sample[] {
    const out: Sample[] = [];
    const rate = (key: string, value: number | undefined, name: string, queryType: string, unit: string): void => {
      if (value === undefined) return;
      // A restart of named resets its counters: RateTracker re-primes instead of going negative.
      const r = this.rates.rate(key, value, atMs);
      if (r !== undefined) out.push({ name, value: r, labels: { queryType }, unit });
    };
    for (const [type, n] of Object.entries(stats.qtypes)) {
      // BIND lists a query type only once it has been asked for: new since the last probe means from 0.
      if (this.lastAtMs !== undefined && !this.rates.has(`q|${type}`)) this.rates.rate(`q|${type}`, 0, this.lastAtMs);
      rate(`q|${type}`, n, 'server.queries_per_sec', type.toLowerCase(), 'queries/s');
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
      const low = view.toLowerCase();
      // Negative entries keep their `!` (`!a`): the Python pollect drops it, and then `!A` overwrites `A`.
      for (const [type, n] of Object.entries(v.rrsets)) out.push({ name: `${low}.cache.rrsets`, value: n, labels: { queryType: type.toLowerCase() } });
      rate(`r4|${view}`, v.queryV4, `${low}.queries_per_sec`, 'v4', 'queries/s');
      rate(`r6|${view}`, v.queryV6, `${low}.queries_per_sec`, 'v6', 'queries/s');
      rate(`ch|${view}`, v.cacheHits, `${low}.cache_per_sec`, 'hits', 'hits/s');
      rate(`cm|${view}`, v.cacheMisses, `${low}.cache_per_sec`, 'misses', 'misses/s');
    }
    return out;
  }
}
