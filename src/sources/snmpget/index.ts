// SnmpGet: reads OIDs from an SNMP agent (v1, v2c, v3) with net-snmp, all of a source's OIDs in
// as few GET requests as the agent allows; values, sums of several OIDs, per-second rates of
// counters (Counter32/Counter64 wraps handled), ranges of indexes and labels read from OIDs.
import { isIPv6 } from 'node:net';
import type { NetSnmp, Session } from 'net-snmp';
import { Source, SourceError, type InitContext, type ProbeContext, type Sample, type SourceConfig } from '../../sdk/index.js';
import type { JsonSchema } from '../../sdk/index.js';
import { redact, registerSecret } from '../../log.js';
import { RateTracker, monotonicMs } from '../../sdk/rate.js';
import { getAll } from './client.js';
import { allOids, expandMetrics, type Series, type SnmpMetricConfig } from './oids.js';
import { labelText, numericValue, typeName, wrapOf, type SnmpValue } from './values.js';

export type { SnmpMetricConfig } from './oids.js';

export interface SnmpGetConfig extends SourceConfig {
  host: string;
  port?: number;
  /** v1/v2c community. Default `public`. */
  communityString?: string;
  /** 1, 2c or 3 (number or string). Default 1, as pollect. */
  snmpVersion?: number | string;
  username?: string;
  authPassPhrase?: string;
  authProtocol?: string;
  privacyPassPhrase?: string;
  privacyProtocol?: string;
  /** Re-sends of an unanswered request. Default 1. */
  retries?: number;
  /** Most OIDs in one GET request. Default 50. */
  maxVarbinds?: number;
  metrics: SnmpMetricConfig[];
}

const AUTH: Record<string, string> = { MD5: 'md5', SHA: 'sha', SHA1: 'sha', SHA224: 'sha224', SHA256: 'sha256', SHA384: 'sha384', SHA512: 'sha512' };
const PRIV: Record<string, string> = { DES: 'des', AES: 'aes', AES128: 'aes', AES256B: 'aes256b', AES256R: 'aes256r' };

function parseVersion(v: number | string | undefined): 1 | 2 | 3 {
  switch (String(v ?? '1').toLowerCase()) {
    case '1':
      return 1;
    case '2':
    case '2c':
      return 2;
    case '3':
      return 3;
    default:
      throw new SourceError(`snmpVersion must be 1, 2c or 3, not "${v}"`);
  }
}

const metricSchema: JsonSchema = {
  type: 'object',
  required: ['name'],
  additionalProperties: false,
  properties: {
    name: { type: 'string', minLength: 1, description: 'Value name of the metric' },
    oid: { type: 'string', minLength: 1, description: 'Numeric OID; ${<range.label>} is replaced by the range index' },
    oids: { type: 'array', minItems: 1, items: { type: 'string', minLength: 1 }, description: 'Several OIDs, summed (pollect\'s older form)' },
    mode: { type: 'string', enum: ['rate', 'raw'], description: 'rate: change per second of a counter' },
    range: {
      type: 'object',
      required: ['from', 'to', 'label'],
      additionalProperties: false,
      properties: {
        from: { type: 'integer' },
        to: { type: 'integer' },
        label: { type: 'string', pattern: '^[A-Za-z_][A-Za-z0-9_]*$' },
      },
    },
    oidLabels: { type: 'object', additionalProperties: { type: 'string', minLength: 1 }, description: 'Label name -> OID whose value is the label' },
  },
};

export class SnmpGetSource extends Source<SnmpGetConfig> {
  static override description = 'Values and counter rates from an SNMP agent (v1, v2c, v3) by OID';
  static override schema: JsonSchema = {
    type: 'object',
    required: ['host', 'metrics'],
    properties: {
      host: { type: 'string', minLength: 1, description: 'Agent host name or IP' },
      port: { type: 'integer', minimum: 1, maximum: 65535, default: 161 },
      communityString: { type: 'string', default: 'public', description: 'v1/v2c community (a secret)' },
      snmpVersion: { oneOf: [{ type: 'integer', enum: [1, 2, 3] }, { type: 'string', enum: ['1', '2', '2c', '2C', '3'] }], default: 1 },
      username: { type: 'string', minLength: 1, description: 'v3 security name' },
      authPassPhrase: { type: 'string', minLength: 8, description: 'v3 authentication pass phrase (a secret)' },
      authProtocol: { type: 'string', description: 'MD5, SHA (default), SHA224, SHA256, SHA384 or SHA512' },
      privacyPassPhrase: { type: 'string', minLength: 8, description: 'v3 privacy pass phrase (a secret)' },
      privacyProtocol: { type: 'string', description: 'DES, AES (default), AES256B or AES256R' },
      retries: { type: 'integer', minimum: 0, maximum: 10, default: 1 },
      maxVarbinds: { type: 'integer', minimum: 1, maximum: 1000, default: 50, description: 'Most OIDs in one GET request' },
      metrics: { type: 'array', minItems: 1, items: metricSchema },
    },
  };

  private version: 1 | 2 | 3 = 1;
  private series: Series[] = [];
  private oids: string[] = [];
  /** A config mistake found in the constructor, reported by init()/probe() as this source's error. */
  private readonly configError: SourceError | undefined;
  private readonly rates = new RateTracker();
  private session: Session | undefined;
  private sessionTimeoutMs = 0;
  /** The last packet the agent sent that net-snmp could not decode, for the timeout message. */
  private badPacket: string | undefined;
  private lastMissing = '';

  constructor(config: SnmpGetConfig) {
    super(config);
    for (const s of [config.communityString, config.authPassPhrase, config.privacyPassPhrase]) if (s) registerSecret(s);
    try {
      this.checkConfig(config);
    } catch (err) {
      if (!(err instanceof SourceError)) throw err;
      this.configError = err;
    }
  }

  private checkConfig(config: SnmpGetConfig): void {
    this.version = parseVersion(config.snmpVersion);
    if (this.version === 3) {
      if (!config.username) throw new SourceError('snmpVersion 3 needs a username');
      if (config.authProtocol && !AUTH[config.authProtocol.toUpperCase()]) {
        throw new SourceError(`authProtocol must be one of ${Object.keys(AUTH).join(', ')}, not "${config.authProtocol}"`);
      }
      if (config.privacyProtocol && !PRIV[config.privacyProtocol.toUpperCase()]) {
        throw new SourceError(`privacyProtocol must be one of ${Object.keys(PRIV).join(', ')}, not "${config.privacyProtocol}"`);
      }
      if (config.privacyPassPhrase && !config.authPassPhrase) throw new SourceError('privacyPassPhrase needs authPassPhrase too (SNMPv3 has no privacy without authentication)');
    }
    this.series = expandMetrics(config.metrics ?? []);
    if (this.series.length === 0) throw new SourceError('metrics: at least one metric is needed');
    this.oids = allOids(this.series);
  }

  override init(_ctx?: InitContext): void {
    if (this.configError) throw this.configError;
  }

  private get target(): string {
    const host = isIPv6(this.config.host) ? `[${this.config.host}]` : this.config.host;
    return `${host}:${this.config.port ?? 161}`;
  }

  private async openSession(timeoutMs: number): Promise<Session> {
    const retries = this.config.retries ?? 1;
    // Each try gets its share of 90% of the probe budget, so the last one ends before the probe's
    // deadline and its error says what happened.
    const perTry = Math.max(100, Math.floor((timeoutMs * 0.9) / (retries + 1)));
    if (this.session && this.sessionTimeoutMs === perTry) return this.session;
    this.closeSession();
    const mod = (await import('net-snmp')) as unknown as { default?: NetSnmp } & NetSnmp;
    const snmp = mod.default ?? mod;
    const options = {
      port: this.config.port ?? 161,
      retries,
      timeout: perTry,
      transport: isIPv6(this.config.host) ? ('udp6' as const) : ('udp4' as const),
    };
    const c = this.config;
    let session: Session;
    if (this.version === 3) {
      const level = c.privacyPassPhrase ? 'authPriv' : c.authPassPhrase ? 'authNoPriv' : 'noAuthNoPriv';
      session = snmp.createV3Session(
        c.host,
        {
          name: c.username!,
          level: snmp.SecurityLevel[level]!,
          authProtocol: c.authPassPhrase ? snmp.AuthProtocols[AUTH[(c.authProtocol ?? 'SHA').toUpperCase()]!] : undefined,
          authKey: c.authPassPhrase,
          privProtocol: c.privacyPassPhrase ? snmp.PrivProtocols[PRIV[(c.privacyProtocol ?? 'AES').toUpperCase()]!] : undefined,
          privKey: c.privacyPassPhrase,
        },
        { ...options, version: snmp.Version3 },
      );
    } else {
      session = snmp.createSession(c.host, c.communityString ?? 'public', {
        ...options,
        version: this.version === 1 ? snmp.Version1 : snmp.Version2c,
      });
    }
    // net-snmp emits "error" for a datagram it cannot decode; unhandled, that would end the process.
    session.on('error', (err) => {
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

  override shutdown(): void {
    this.closeSession();
  }

  async probe(ctx: ProbeContext): Promise<Sample[]> {
    if (this.configError) throw this.configError;
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
      values = await getAll(session, this.oids, this.config.maxVarbinds ?? 50, stats);
      ctx.log.debug(`SNMP ${this.target}: ${this.oids.length} OIDs in ${stats.requests} GET request(s)`);
    } catch (err) {
      this.closeSession();
      if (aborted) {
        const bad = this.badPacket ? `; the agent sent an invalid packet: ${this.badPacket}` : '';
        throw new SourceError(redact(`SNMP ${this.target}: no complete answer within the probe timeout of ${ctx.timeoutMs} ms${bad}`));
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
      const retries = this.config.retries ?? 1;
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
    return new SourceError(redact(msg));
  }

  private toSamples(values: Map<string, SnmpValue>, atMs: number, ctx: ProbeContext): Sample[] {
    const out: Sample[] = [];
    const missing: string[] = [];
    let found = 0;
    for (const s of this.series) {
      let sum = 0;
      let complete = true;
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
        if (s.rate) {
          // Every OID is read each probe, so the first probe primes them all at once.
          const r = this.rates.rate(oid, n, atMs, { wrap: v.kind === 'number' ? wrapOf(v.type) : undefined });
          if (r === undefined) complete = false;
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
      out.push(Object.keys(labels).length > 0 ? { name: s.metric, value: sum, labels } : { name: s.metric, value: sum });
    }
    if (found === 0 && missing.length > 0) {
      throw new SourceError(`SNMP ${this.target}: none of the ${missing.length} OIDs has a numeric value: ${missing.slice(0, 3).join(', ')}${missing.length > 3 ? ', …' : ''}`);
    }
    const key = missing.join(',');
    if (key !== this.lastMissing && missing.length > 0) {
      ctx.log.warn(`SNMP ${this.target}: skipped ${missing.length} OID(s) without a numeric value: ${missing.slice(0, 5).join(', ')}${missing.length > 5 ? ', …' : ''}`);
    }
    this.lastMissing = key;
    return out;
  }
}
