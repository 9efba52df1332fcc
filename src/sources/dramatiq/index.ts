// Dramatiq (chouette-iot's DramatiqCollector): the size of every Dramatiq queue kept in Redis by
// Dramatiq's RedisBroker, with its delayed (.DQ) and dead-letter (.XQ) queues, through ioredis.
import { isIP } from 'node:net';
import type { Redis, RedisOptions } from 'ioredis';
import {
  Source,
  SourceError,
  errorMessage,
  redact,
  type JsonSchema,
  type PluginContext,
  type ProbeContext,
  type Sample,
  type SourceParams,
} from '../../sdk/index.js';
import { checkHost, portParam, readParamFile } from '../../sdk/params.js';
import { queueOfKey, reportedQueues, scanPattern } from './keys.js';

const schema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    host: { type: 'string', minLength: 1, default: '127.0.0.1', description: 'Redis host' },
    port: { ...portParam, default: 6379, description: 'Redis port' },
    db: { type: 'integer', minimum: 0, default: 0, description: 'Redis database number' },
    username: { type: 'string', description: 'Redis 6+ ACL user (default: the default user)' },
    password: { type: 'string', description: 'Redis password; write ${REDIS_PASSWORD} to take it from the environment' },
    tls: {
      description: 'true: TLS verified against the system CAs; or PEM files (relative to the config file) and options',
      oneOf: [
        { type: 'boolean' },
        {
          type: 'object',
          additionalProperties: false,
          properties: {
            ca: { type: 'string', description: 'CA certificate file (PEM)' },
            cert: { type: 'string', description: 'Client certificate file (PEM)' },
            key: { type: 'string', description: 'Client key file (PEM)' },
            rejectUnauthorized: { type: 'boolean', default: true, description: "Verify the server's certificate" },
            servername: { type: 'string', description: 'Server name for SNI and verification (default: the host unless an IP)' },
          },
        },
      ],
    },
    prefix: { type: 'string', minLength: 1, default: 'dramatiq', description: "The broker's namespace (RedisBroker(namespace=...))" },
    queues: {
      type: 'array',
      items: { type: 'string', minLength: 1 },
      default: [],
      description: 'Queues always reported (at 0), even before any of their keys exists (an idle queue has none)',
    },
  },
} as const satisfies JsonSchema;

export type DramatiqConfig = SourceParams<typeof schema>;

/** SCAN COUNT per call; Dramatiq keeps a handful of keys per queue, so one or two calls usually do. */
const SCAN_COUNT = 1000;
/** More keys than this under the prefix is not a Dramatiq namespace; stop instead of scanning forever. */
const MAX_KEYS = 100_000;
const MAX_CONNECT_MS = 10_000;

export class DramatiqSource extends Source<DramatiqConfig> {
  static override description = 'Dramatiq queue sizes (with delayed and dead-letter queues) from its Redis broker';
  static override schema = schema;

  private client: Redis | undefined;
  private lastError: string | undefined;
  private readonly tlsOptions: RedisOptions['tls'];
  private readonly where: string;
  /** Base queue names seen so far (or configured); once seen, a queue is reported, at 0 when empty. */
  private readonly known = new Set<string>();

  constructor(config: DramatiqConfig, context?: PluginContext) {
    super(config, context);
    this.where = `Redis ${checkHost('host', config.host)}:${config.port}`;
    for (const q of config.queues) this.known.add(q);
    const { tls, host } = config;
    // SNI takes host names only; for an address, verification uses the certificate's IP SANs.
    const sni = isIP(host) ? undefined : host;
    if (tls === true) this.tlsOptions = { servername: sni };
    else if (tls && typeof tls === 'object') {
      // Read now: a file that cannot be read is a config error (`pollect --check`).
      const read = (param: 'ca' | 'cert' | 'key'): Buffer | undefined => {
        const file = tls[param];
        return file === undefined ? undefined : readParamFile(this.context, `tls.${param}`, file);
      };
      this.tlsOptions = { ca: read('ca'), cert: read('cert'), key: read('key'), rejectUnauthorized: tls.rejectUnauthorized, servername: tls.servername ?? sni };
    }
  }

  async probe(ctx: ProbeContext): Promise<Sample[]> {
    const client = await this.connected(ctx);
    try {
      return await untilAborted(this.collect(client, ctx), ctx, () => this.reset());
    } catch (err) {
      throw this.failure(err, ctx);
    }
  }

  /** The client, connected and ready; one client for the source's life, reconnected on demand. */
  private async connected(ctx: ProbeContext): Promise<Redis> {
    if (this.client && !['ready', 'wait', 'end'].includes(this.client.status)) {
      // Still closing after an aborted probe: connect() would refuse, so start over with a new client.
      this.client.disconnect();
      this.client = undefined;
    }
    if (!this.client) {
      const { Redis } = await import('ioredis');
      const client = new Redis({
        host: this.config.host,
        port: this.config.port,
        db: this.config.db,
        username: this.config.username,
        password: this.config.password,
        tls: this.tlsOptions,
        lazyConnect: true,
        // Fail fast while Redis is down instead of queueing commands or retrying in the background;
        // the next probe connects again.
        enableOfflineQueue: false,
        maxRetriesPerRequest: 1,
        retryStrategy: () => null,
        autoResendUnfulfilledCommands: false,
        connectTimeout: Math.min(ctx.timeoutMs, MAX_CONNECT_MS),
        commandTimeout: ctx.timeoutMs,
        connectionName: 'pollect',
      });
      // Without a listener, an 'error' event would crash the process.
      client.on('error', (err: Error) => {
        if (this.client === client) this.lastError = errorMessage(err);
      });
      this.client = client;
    }
    const client = this.client;
    if (client.status === 'ready') return client;
    this.lastError = undefined;
    let statusAtAbort = '';
    try {
      await untilAborted(client.connect(), ctx, () => {
        statusAtAbort = client.status;
        this.reset();
      });
    } catch (err) {
      throw this.failure(err, ctx, statusAtAbort);
    }
    return client;
  }

  private async collect(client: Redis, ctx: ProbeContext): Promise<Sample[]> {
    const { prefix } = this.config;
    const pattern = scanPattern(prefix);
    let cursor = '0';
    let seen = 0;
    do {
      const reply: unknown = await client.scan(cursor, 'MATCH', pattern, 'COUNT', SCAN_COUNT);
      if (!isScanReply(reply)) throw new SourceError(`SCAN ${pattern}: unexpected reply (${describeReply(reply)})`);
      const [next, keys] = reply;
      cursor = next;
      seen += keys.length;
      if (seen > MAX_KEYS) throw new SourceError(`more than ${MAX_KEYS} keys match ${pattern}; is "${prefix}" a Dramatiq namespace?`);
      for (const key of keys) {
        const q = queueOfKey(key, prefix);
        if (q !== undefined) this.known.add(q);
      }
      if (ctx.signal.aborted) break;
    } while (cursor !== '0');

    const queues = [...this.known].sort().flatMap(reportedQueues);
    if (queues.length === 0) return [];
    const pipeline = client.pipeline();
    for (const q of queues) pipeline.hlen(`${prefix}:${q}.msgs`);
    const results = (await pipeline.exec()) ?? [];
    return queues.map((queue, i) => {
      const [err, n] = results[i] ?? [new Error('no reply'), undefined];
      if (err) throw new SourceError(`HLEN ${prefix}:${queue}.msgs: ${errorMessage(err)}`);
      return {
        name: 'queue_size',
        value: Number(n),
        labels: { queue },
        help: 'Messages in the queue, waiting or fetched by a worker and not yet acknowledged',
      };
    });
  }

  /** A SourceError for a failed probe; the connection is dropped unless Redis itself answered. */
  private failure(err: unknown, ctx: ProbeContext, connectStatus?: string): SourceError {
    if (err instanceof SourceError && !ctx.signal.aborted) return new SourceError(clean(`${this.where}: ${err.message}`));
    let why: string;
    if (ctx.signal.aborted) {
      if (connectStatus === undefined) why = `no answer within ${ctx.timeoutMs} ms`;
      else if (this.lastError) why = `no ready connection within ${ctx.timeoutMs} ms (${this.lastError})`;
      else if (connectStatus === 'connecting') why = `could not connect within ${ctx.timeoutMs} ms`;
      else why = `no ready connection within ${ctx.timeoutMs} ms (connected, but the handshake did not complete)`;
    } else {
      const msg = errorMessage(err);
      // ioredis rejects connect() with "Connection is closed." and emits the cause as an error event.
      why = this.lastError && (msg.includes('Connection is closed') || msg.includes('enableOfflineQueue')) ? this.lastError : msg;
    }
    // ioredis' parser error quotes the offending byte; say what it means instead.
    const resp = /Unknown RESP type (\d+)|Protocol error/.exec(why);
    if (resp) {
      const byte = resp[1] === undefined ? '' : ` (a reply started with byte 0x${Number(resp[1]).toString(16).padStart(2, '0')})`;
      why = `the server does not speak the Redis protocol${byte}`;
    }
    this.reset();
    return new SourceError(clean(`${this.where}: ${why}`));
  }

  private reset(): void {
    const c = this.client;
    if (c && c.status !== 'end' && c.status !== 'wait') c.disconnect();
  }

  override async shutdown(): Promise<void> {
    const c = this.client;
    this.client = undefined;
    if (c) c.disconnect();
  }
}

function isScanReply(r: unknown): r is [string, string[]] {
  return Array.isArray(r) && r.length === 2 && typeof r[0] === 'string' && Array.isArray(r[1]) && r[1].every((k) => typeof k === 'string');
}

function describeReply(r: unknown): string {
  if (typeof r === 'string') return `a string of ${r.length} characters`;
  if (Array.isArray(r)) return `an array of ${r.length} items`;
  return typeof r;
}

/** Redacted, one line, printable. */
function clean(msg: string): string {
  const one = redact(msg)
    .replace(/[^\x20-\x7e]+/g, ' ')
    .trim();
  return one.length > 300 ? one.slice(0, 300) + '…' : one;
}

/** Resolves like `work`, or rejects once the probe's signal aborts (after running `onAbort`). */
function untilAborted<T>(work: Promise<T>, ctx: ProbeContext, onAbort: () => void): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const abort = (): void => {
      onAbort();
      reject(new Error('aborted'));
    };
    if (ctx.signal.aborted) return abort();
    ctx.signal.addEventListener('abort', abort, { once: true });
    work.then(
      (v) => {
        ctx.signal.removeEventListener('abort', abort);
        resolve(v);
      },
      (e: unknown) => {
        ctx.signal.removeEventListener('abort', abort);
        reject(e);
      },
    );
  });
}
