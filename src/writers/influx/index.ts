// Influx: writes the samples in line protocol over HTTP, to InfluxDB 1.x (`/write?db=`) or 2.x
// (`/api/v2/write?org=&bucket=`), or anything that takes either (VictoriaMetrics, Telegraf's
// influxdb_listener). The protocol only: the core's writer runtime buffers and retries.
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
import { line, SeriesKeys, type Precision } from './line.js';

const schema = {
  type: 'object',
  properties: {
    ...httpPushKeys,
    url: { type: 'string', minLength: 1, description: 'InfluxDB base URL, e.g. http://localhost:8086 (the API path is added)' },
    database: { type: 'string', minLength: 1, description: 'InfluxDB 1.x: the database (`/write?db=`)' },
    retentionPolicy: { type: 'string', minLength: 1, description: "InfluxDB 1.x: the retention policy (default: the database's default)" },
    bucket: { type: 'string', minLength: 1, description: 'InfluxDB 2.x: the bucket (`/api/v2/write?bucket=`)' },
    org: { type: 'string', minLength: 1, description: 'InfluxDB 2.x: the organisation' },
    token: { type: 'string', minLength: 1, description: 'Sent as `Authorization: Token <token>` (2.x, or 1.8+ as `user:password`)' },
    precision: { enum: ['s', 'ms', 'us', 'ns'], default: 'ms', description: 'Timestamp precision written' },
    batchSize: { type: 'integer', minimum: 1, default: 5000, description: 'Lines per request' },
  },
  required: ['url'],
} as const satisfies JsonSchema;

export type InfluxConfig = WriterParams<typeof schema>;

/** Precision as each API spells it. */
const V1_PRECISION: Record<Precision, string> = { s: 's', ms: 'ms', us: 'u', ns: 'n' };

export class InfluxWriter extends Writer<InfluxConfig> {
  static override description = 'Writes the samples to InfluxDB (1.x or 2.x) in line protocol over HTTP';
  static override schema = schema;

  private readonly http: HttpPush;
  private readonly keys = new SeriesKeys();
  private readonly warned = new Set<string>();
  private log: Logger;
  /** A batch whose first requests were taken before a later one failed: the retry sends only the rest. */
  private resume: { batch: Batch; lines: number; refused: number } | undefined;

  constructor(config: InfluxConfig, context?: PluginContext) {
    super(config, context);
    this.log = this.context.log;
    const v1 = config.database !== undefined;
    if (v1 === (config.bucket !== undefined)) {
      throw new ParamError(
        v1 ? 'bucket' : 'database',
        v1 ? 'give database (InfluxDB 1.x) or bucket (2.x), not both' : 'give database (InfluxDB 1.x) or bucket (InfluxDB 2.x)',
      );
    }
    if (v1 && config.org !== undefined) throw new ParamError('org', 'org is for InfluxDB 2.x (with bucket)');
    if (!v1 && config.retentionPolicy !== undefined) throw new ParamError('retentionPolicy', 'retentionPolicy is for InfluxDB 1.x (with database)');
    if (config.token !== undefined && (config.username !== undefined || config.bearerToken !== undefined)) {
      throw new ParamError('token', 'give token, or username/bearerToken, not both');
    }
    const base = config.url.endsWith('/') ? config.url : `${config.url}/`;
    const http = new HttpPush(config, this.context, base);
    // Relative to the base, so that a base path (a proxy's /influx/) is kept.
    const url = new URL(v1 ? 'write' : 'api/v2/write', http.url);
    if (v1) {
      url.searchParams.set('db', config.database!);
      if (config.retentionPolicy) url.searchParams.set('rp', config.retentionPolicy);
      url.searchParams.set('precision', V1_PRECISION[config.precision]);
    } else {
      if (config.org) url.searchParams.set('org', config.org);
      url.searchParams.set('bucket', config.bucket!);
      url.searchParams.set('precision', config.precision);
    }
    http.url = url;
    this.http = http;
  }

  override start(ctx: WriterContext): void {
    this.log = ctx.log;
  }

  /**
   * Sends the batch in requests of batchSize lines. Throws (the core retries the batch later) when
   * InfluxDB cannot be reached or answers 429/5xx; a retry skips the requests already taken.
   * Lines InfluxDB refuses for good (4xx) and values it cannot store (NaN, ±Infinity) are
   * returned as dropped.
   */
  override async write(batch: Batch): Promise<WriteOutcome> {
    const lines: string[] = [];
    let unstorable = 0;
    for (const p of batch.points) {
      const l = line(this.keys.get(p.name, p.labels), p, this.config.precision);
      if (l === undefined) unstorable++;
      else lines.push(l);
    }
    if (unstorable) this.warnOnce('nan', `writer ${this.id}: NaN and infinite values are not sent (InfluxDB cannot store them); counted as dropped`);
    const resumed = this.resume?.batch === batch ? this.resume : undefined;
    this.resume = undefined;
    let sent = resumed?.lines ?? 0;
    let refused = resumed?.refused ?? 0;
    const headers = { 'Content-Type': 'text/plain; charset=utf-8', ...(this.config.token ? { Authorization: `Token ${this.config.token}` } : {}) };
    while (sent < lines.length) {
      const chunk = lines.slice(sent, sent + this.config.batchSize);
      let result;
      try {
        result = await this.http.post(`${chunk.join('\n')}\n`, headers);
      } catch (err) {
        if (sent > 0) this.resume = { batch, lines: sent, refused };
        throw err;
      }
      if (!result.taken) {
        const n = refusedLines(result.message, chunk.length);
        refused += n;
        this.warnOnce(
          `status ${result.status}`,
          `writer ${this.id}: ${this.http.target} refused ${n} of ${chunk.length} line(s): ${result.message}; counted as dropped`,
        );
      }
      sent += chunk.length;
    }
    const dropped = unstorable + refused;
    return dropped > 0 ? { dropped } : undefined;
  }

  override stop(): void {
    this.http.close();
  }

  private warnOnce(key: string, msg: string): void {
    if (this.warned.has(key)) return;
    this.warned.add(key);
    this.log.warn(msg);
  }
}

/**
 * How many lines of a refused request were not written. InfluxDB writes the lines it can and
 * says `partial write: ... dropped=N` for points it refused, and `unable to parse` once per line
 * it could not read; anything else (a database that does not exist, bad credentials) refused all.
 */
export function refusedLines(message: string, lines: number): number {
  const partial = /partial write/.test(message);
  if (!partial) return lines;
  const dropped = Number(/dropped=(\d+)/.exec(message)?.[1] ?? 0);
  const unparsed = message.split('unable to parse').length - 1;
  return Math.min(lines, dropped + unparsed);
}
