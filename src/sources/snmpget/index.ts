// SnmpGet: reads OIDs from an SNMP agent (v1, v2c, v3) with net-snmp, all of a source's OIDs in
// as few GET requests as the agent allows; values, sums of several OIDs, per-second rates of
// counters (Counter32/Counter64 wraps handled), ranges of indexes and labels read from OIDs.
import type { NetSnmp, Session } from 'net-snmp';
import { Source, SourceError, redact, type JsonSchema, type PluginContext, type ProbeContext, type Sample, type SourceParams } from '../../sdk/index.js';
import { portParam } from '../../sdk/params.js';
import { RateTracker, monotonicMs } from '../../sdk/rate.js';
import { parseAgent, type AgentAddress } from './agent.js';
import { getAll } from './client.js';
import { tcpModule } from './tcp.js';
import { allOids, expandMetrics, metricSchema, type Series } from './oids.js';
import { labelText, numericValue, typeName, wrapOf, type SnmpValue } from './values.js';

export type { SnmpMetricConfig } from './oids.js';

/**
 * The protocols a config may name, net-snmp's tools' spellings (`-a SHA-256`, `-x AES-256-C`)
 * among them, and the library's names for them (the compiler keeps both lists in step). The
 * tools' AES-256 is Blumenthal's key extension (aes256b), AES-256-C Reeder's (aes256r).
 */
const AUTH_PROTOCOLS = ['MD5', 'SHA', 'SHA1', 'SHA-1', 'SHA224', 'SHA-224', 'SHA256', 'SHA-256', 'SHA384', 'SHA-384', 'SHA512', 'SHA-512'] as const;
const PRIV_PROTOCOLS = ['DES', 'AES', 'AES128', 'AES-128', 'AES256', 'AES-256', 'AES256B', 'AES256C', 'AES-256-C', 'AES256R'] as const;
const AUTH: Record<(typeof AUTH_PROTOCOLS)[number], string> = {
  MD5: 'md5',
  SHA: 'sha',
  SHA1: 'sha',
  'SHA-1': 'sha',
  SHA224: 'sha224',
  'SHA-224': 'sha224',
  SHA256: 'sha256',
  'SHA-256': 'sha256',
  SHA384: 'sha384',
  'SHA-384': 'sha384',
  SHA512: 'sha512',
  'SHA-512': 'sha512',
};
const PRIV: Record<(typeof PRIV_PROTOCOLS)[number], string> = {
  DES: 'des',
  AES: 'aes',
  AES128: 'aes',
  'AES-128': 'aes',
  AES256: 'aes256b',
  'AES-256': 'aes256b',
  AES256B: 'aes256b',
  AES256C: 'aes256r',
  'AES-256-C': 'aes256r',
  AES256R: 'aes256r',
};

const schema = {
  type: 'object',
  additionalProperties: false,
  required: ['host', 'metrics'],
  properties: {
    host: {
      type: 'string',
      minLength: 1,
      description: 'Agent address as snmpget takes it: [udp:|udp6:|tcp:|tcp6:]host[:port] (IPv6 in brackets before a port); a port here wins over `port`',
    },
    port: { ...portParam, default: 161, description: 'Agent port, unless `host` names one' },
    communityString: { type: 'string', default: 'public', description: 'v1/v2c community (a secret: never logged)' },
    snmpVersion: {
      oneOf: [
        { type: 'integer', enum: [1, 2, 3] },
        { type: 'string', enum: ['1', '2', '2c', '2C', '3'] },
      ],
      default: 1,
      description: 'SNMP version: 1, 2c or 3',
    },
    username: { type: 'string', minLength: 1, description: 'v3 security name (required with v3)' },
    authPassPhrase: { type: 'string', minLength: 8, description: 'v3 authentication pass phrase (a secret); with it the level is authNoPriv' },
    authProtocol: { type: 'string', enum: AUTH_PROTOCOLS, default: 'SHA', description: 'v3 authentication protocol' },
    privacyPassPhrase: { type: 'string', minLength: 8, description: 'v3 privacy pass phrase (a secret; needs authPassPhrase); with it the level is authPriv' },
    privacyProtocol: { type: 'string', enum: PRIV_PROTOCOLS, default: 'AES', description: 'v3 privacy protocol' },
    retries: {
      type: 'integer',
      minimum: 0,
      maximum: 10,
      default: 1,
      description: 'Re-sends of an unanswered request; each try gets an equal share of 90% of the probe timeout',
    },
    maxVarbinds: { type: 'integer', minimum: 1, maximum: 1000, default: 50, description: 'Most OIDs in one GET request' },
    metrics: {
      type: 'array',
      minItems: 1,
      items: metricSchema,
      description: 'What to read. ${<range.label>} in an oid is left for the range (unless such an environment variable is set)',
    },
  },
  // SNMPv3 has no privacy without authentication, and no user-less requests.
  dependencies: { privacyPassPhrase: ['authPassPhrase'] },
  if: { required: ['snmpVersion'], properties: { snmpVersion: { enum: [3, '3'] } } },
  then: { required: ['username'] },
} as const satisfies JsonSchema;

export type SnmpGetConfig = SourceParams<typeof schema>;

export class SnmpGetSource extends Source<SnmpGetConfig> {
  static override description = 'Values and counter rates from an SNMP agent (v1, v2c, v3) by OID';
  static override schema = schema;

  private readonly version: 1 | 2 | 3;
  private readonly agent: AgentAddress;
  private readonly series: Series[];
  private readonly oids: string[];
  private readonly rates = new RateTracker();
  private session: Session | undefined;
  private sessionTimeoutMs = 0;
  /** The last packet the agent sent that net-snmp could not decode, for the timeout message. */
  private badPacket: string | undefined;
  private lastMissing = '';

  constructor(config: SnmpGetConfig, context?: PluginContext) {
    super(config, context);
    this.agent = parseAgent('host', config.host);
    this.version = config.snmpVersion === 3 || config.snmpVersion === '3' ? 3 : config.snmpVersion === 1 || config.snmpVersion === '1' ? 1 : 2;
    this.series = expandMetrics(config.metrics);
    this.oids = allOids(this.series);
  }

  private get port(): number {
    return this.agent.port ?? this.config.port;
  }

  private get target(): string {
    const { transport, host } = this.agent;
    const prefix = transport.startsWith('tcp') ? 'tcp:' : '';
    return `${prefix}${transport.endsWith('6') ? `[${host}]` : host}:${this.port}`;
  }

  private async openSession(timeoutMs: number): Promise<Session> {
    const { retries } = this.config;
    // Each try gets its share of 90% of the probe budget, so the last one ends before the probe's
    // deadline and its error says what happened.
    const perTry = Math.max(100, Math.floor((timeoutMs * 0.9) / (retries + 1)));
    if (this.session && this.sessionTimeoutMs === perTry) return this.session;
    this.closeSession();
    const mod = (await import('net-snmp')) as unknown as { default?: NetSnmp } & NetSnmp;
    const snmp = mod.default ?? mod;
    const { transport, host } = this.agent;
    const options = {
      port: this.port,
      retries,
      timeout: perTry,
      transport: transport.endsWith('6') ? ('udp6' as const) : ('udp4' as const),
      ...(transport.startsWith('tcp') && { dgramModule: tcpModule(transport === 'tcp6' ? 6 : 4) }),
    };
    const c = this.config;
    let session: Session;
    if (this.version === 3) {
      const level = c.privacyPassPhrase ? 'authPriv' : c.authPassPhrase ? 'authNoPriv' : 'noAuthNoPriv';
      session = snmp.createV3Session(
        host,
        {
          name: c.username!,
          level: snmp.SecurityLevel[level]!,
          authProtocol: c.authPassPhrase ? snmp.AuthProtocols[AUTH[c.authProtocol]] : undefined,
          authKey: c.authPassPhrase,
          privProtocol: c.privacyPassPhrase ? snmp.PrivProtocols[PRIV[c.privacyProtocol]] : undefined,
          privKey: c.privacyPassPhrase,
        },
        { ...options, version: snmp.Version3 },
      );
    } else {
      session = snmp.createSession(host, c.communityString, {
        ...options,
        version: this.version === 1 ? snmp.Version1 : snmp.Version2c,
      });
    }
    // net-snmp emits "error" for a datagram it cannot decode; unhandled, that would end the process.
    session.on('error', (err) => {
      // Redacted before it is cut, so a cut cannot leave part of a secret.
      this.badPacket = redact(String(err?.message ?? err)).slice(0, 200);
    });
    this.session = session;
    this.sessionTimeoutMs = perTry;
    return session;
  }

  private closeSession(): void {
    const s = this.session;
    this.session = undefined;
    if (s) {
      try {
        s.close();
      } catch {
        // already closed
      }
    }
  }

  /** Its `mode: rate` metrics need a previous reading (see Source.reportsChanges). */
  override get reportsChanges(): boolean {
    return this.series.some((s) => s.rate);
  }

  override shutdown(): void {
    this.closeSession();
  }

  async probe(ctx: ProbeContext): Promise<Sample[]> {
    const session = await this.openSession(ctx.timeoutMs);
    this.badPacket = undefined;
    let aborted = false;
    const onAbort = (): void => {
      aborted = true;
      // Closing the socket fails the outstanding requests at once.
      this.closeSession();
    };
    if (ctx.signal.aborted) onAbort();
    ctx.signal.addEventListener('abort', onAbort, { once: true });
    let values: Map<string, SnmpValue>;
    try {
      const stats = { requests: 0 };
      values = await getAll(session, this.oids, this.config.maxVarbinds, stats);
      ctx.log.debug(`SNMP ${this.target}: ${this.oids.length} OIDs in ${stats.requests} GET request(s)`);
    } catch (err) {
      this.closeSession();
      if (aborted) {
        const bad = this.badPacket ? `; the agent sent an invalid packet: ${this.badPacket}` : '';
        throw new SourceError(`SNMP ${this.target}: no complete answer within the probe timeout of ${ctx.timeoutMs} ms${bad}`);
      }
      throw this.describe(err);
    } finally {
      ctx.signal.removeEventListener('abort', onAbort);
    }
    return this.toSamples(values, monotonicMs(), ctx);
  }

  private describe(err: unknown): SourceError {
    const e = err as { name?: string; message?: string; code?: number };
    const where = `SNMP ${this.target}`;
    let msg: string;
    if (e.name === 'RequestTimedOutError') {
      const { retries } = this.config;
      const hint = this.version === 3 ? 'no agent, or it drops this user' : 'wrong community string, or no agent';
      msg = `${where}: no answer after ${retries + 1} tries of ${this.sessionTimeoutMs} ms (${hint})`;
      if (this.badPacket) msg += `; the agent sent an invalid packet: ${this.badPacket}`;
    } else if (e.name === 'ResponseInvalidError' && this.version === 3 && /Digest|User|Security Level|Decryption|Engine|Time Window/i.test(e.message ?? '')) {
      msg = `${where}: SNMPv3 authentication failed for user "${this.config.username}": ${e.message}`;
    } else if (e.name === 'RequestFailedError') {
      msg = `${where}: the agent answered with error ${e.message}`;
    } else {
      msg = `${where}: ${e.message ?? String(err)}`;
    }
    // Not redacted here: every error message is, on its way to a log line or a writer.
    return new SourceError(msg);
  }

  private toSamples(values: Map<string, SnmpValue>, atMs: number, ctx: ProbeContext): Sample[] {
    const out: Sample[] = [];
    const missing: string[] = [];
    let found = 0;
    for (const s of this.series) {
      let sum = 0;
      let raw = 0;
      let complete = true;
      let primed = true;
      for (const oid of s.oids) {
        const v = values.get(oid) ?? { kind: 'missing' as const, why: 'not asked' };
        if (v.kind === 'missing') {
          missing.push(`${oid} (${v.why})`);
          complete = false;
          continue;
        }
        const n = numericValue(v);
        if (n === undefined) {
          missing.push(`${oid} (${typeName(v.type)} "${labelText(v).slice(0, 40)}" is not a number)`);
          complete = false;
          continue;
        }
        found++;
        raw += Number(n);
        if (s.rate) {
          // Every OID is read each probe, so the first probe primes them all at once.
          const r = this.rates.rate(oid, n, atMs, { wrap: v.kind === 'number' ? wrapOf(v.type) : undefined });
          if (r === undefined) primed = false;
          else sum += r;
        } else {
          sum += Number(n);
        }
      }
      if (!complete) continue;
      const labels: Record<string, string> = { ...s.labels };
      for (const [name, oid] of s.labelOids) {
        const v = values.get(oid);
        labels[name] = v ? labelText(v) : '';
      }
      // Only the keys that are set: a sample reads as the agent's answer, with nothing empty.
      const sample = (value: number, unit: string | undefined): Sample => {
        const x: Sample = { name: s.metric, value };
        if (Object.keys(labels).length > 0) x.labels = labels;
        if (unit) x.unit = unit;
        return x;
      };
      if (s.rate) {
        // The rate for pollect's names, the counter itself for Prometheus' (which takes a wrap
        // for a counter reset, as it does for any exporter's SNMP counters).
        if (primed) out.push({ ...sample(sum, s.unit), naming: 'pollect' });
        out.push({ ...sample(raw, s.counterUnit), type: 'counter', naming: 'prometheus' });
      } else {
        out.push(sample(sum, s.unit));
      }
    }
    if (found === 0 && missing.length > 0) {
      throw new SourceError(
        `SNMP ${this.target}: none of the ${missing.length} OIDs has a numeric value: ${missing.slice(0, 3).join(', ')}${missing.length > 3 ? ', …' : ''}`,
      );
    }
    const key = missing.join(',');
    if (key !== this.lastMissing && missing.length > 0) {
      ctx.log.warn(
        `SNMP ${this.target}: skipped ${missing.length} OID(s) without a numeric value: ${missing.slice(0, 5).join(', ')}${missing.length > 5 ? ', …' : ''}`,
      );
    }
    this.lastMissing = key;
    return out;
  }
}
