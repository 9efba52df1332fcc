// Certificate: days until the peer certificate of a TLS endpoint expires. Reads the certificate
// with node:tls (pollect ran `openssl s_client`); verification is off for the handshake so an
// expired or self-signed certificate is still measured, and cert_valid says whether it verified.
import tls from 'node:tls';
import net from 'node:net';
import { requestTimeout, requestTimeoutParam } from '../../sdk/timeout.js';
import { ParamError, Source, SourceError, type JsonSchema, type PluginContext, type ProbeContext, type Sample, type SourceParams } from '../../sdk/index.js';
import { checkHost, portParam, readParamFile } from '../../sdk/params.js';

const schema = {
  type: 'object',
  additionalProperties: false,
  anyOf: [{ required: ['url'] }, { required: ['host'] }],
  properties: {
    url: {
      type: 'string',
      minLength: 1,
      description:
        'e.g. https://example.org; host and port are taken from it (default port by scheme: https 443, ldaps 636, imaps 993, pop3s 995, smtps 465, ftps 990)',
    },
    host: { type: 'string', minLength: 1, description: 'Host name or IP address, instead of url (one of the two is required)' },
    port: { ...portParam, description: "TCP port; overrides the url's (default: the url's, else 443)" },
    servername: { type: 'string', minLength: 1, description: 'SNI name, also the name checked for cert_valid (default: the host; none for an IP address)' },
    ca: { type: 'string', minLength: 1, description: 'PEM file of extra CAs trusted for cert_valid (relative to the config file)' },
    timeout: requestTimeoutParam,
  },
} as const satisfies JsonSchema;

export type CertificateConfig = SourceParams<typeof schema>;

const DAY_MS = 86_400_000;
const DEFAULT_PORTS: Record<string, number> = { 'https:': 443, 'ldaps:': 636, 'imaps:': 993, 'pop3s:': 995, 'smtps:': 465, 'ftps:': 990 };

export interface PeerCertificate {
  notAfterMs: number;
  notBeforeMs: number;
  /** Chain verified against the trusted CAs and the name matches. */
  verified: boolean;
  verifyError?: string;
  subject: string;
}

export interface Endpoint {
  host: string;
  port: number;
  /** SNI name; undefined for an IP address without an explicit servername. */
  servername?: string;
}

/** host, port and SNI name from the config; throws a ParamError when they are incomplete. */
export function endpointOf(config: Pick<CertificateConfig, 'url' | 'host' | 'port' | 'servername'>): Endpoint {
  let host = config.host;
  let port = config.port;
  if (config.url) {
    let u: URL;
    try {
      u = new URL(config.url);
    } catch {
      throw new ParamError('url', `invalid url "${config.url}"`);
    }
    host ??= u.hostname.replace(/^\[|\]$/g, '');
    port ??= u.port ? Number(u.port) : DEFAULT_PORTS[u.protocol];
    if (port === undefined) throw new ParamError('url', `"${config.url}" has no port and ${u.protocol} has no default TLS port; set "port"`);
  } else if (host) checkHost('host', host);
  if (!host) throw new ParamError('host', 'set "url" or "host"');
  port ??= 443;
  const servername = config.servername ?? (net.isIP(host) ? undefined : host);
  return { host, port, servername };
}

/** Connects, completes the TLS handshake and returns the peer certificate's dates. */
export function fetchPeerCertificate(ep: Endpoint, opts: { timeoutMs: number; signal?: AbortSignal; ca?: Buffer }): Promise<PeerCertificate> {
  const where = `${ep.host}:${ep.port}${ep.servername && ep.servername !== ep.host ? ` (SNI ${ep.servername})` : ''}`;
  return new Promise((resolve, reject) => {
    let settled = false;
    const socket = tls.connect({
      host: ep.host,
      port: ep.port,
      servername: ep.servername,
      rejectUnauthorized: false,
      ca: opts.ca ? [...tls.rootCertificates, opts.ca.toString('utf8')] : undefined,
    });
    const done = (err: Error | undefined, cert?: PeerCertificate): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
      socket.destroy();
      if (err) reject(err);
      else resolve(cert!);
    };
    const timer = setTimeout(() => done(new SourceError(`${where}: no TLS handshake within ${opts.timeoutMs} ms`)), opts.timeoutMs);
    const onAbort = (): void => done(new SourceError(`${where}: aborted at the probe timeout`));
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    socket.once('error', (err: NodeJS.ErrnoException) => {
      const code = err.code && !err.message.includes(err.code) ? ` (${err.code})` : '';
      done(new SourceError(`${where}: TLS connection failed: ${err.message}${code}`));
    });
    socket.once('secureConnect', () => {
      // getPeerCertificate only: on Node 20, calling getPeerX509Certificate first drops
      // subjectaltname from this object, which checkServerIdentity needs.
      const peer = socket.getPeerCertificate();
      if (!peer?.valid_to) return done(new SourceError(`${where}: the server sent no certificate`));
      const notAfterMs = Date.parse(peer.valid_to);
      const notBeforeMs = Date.parse(peer.valid_from);
      if (!Number.isFinite(notAfterMs)) return done(new SourceError(`${where}: unreadable notAfter "${peer.valid_to}"`));
      let verifyError = socket.authorized ? undefined : String(socket.authorizationError ?? 'not authorized');
      if (!verifyError) {
        // rejectUnauthorized false also skips the name check: do it here.
        const idErr = tls.checkServerIdentity(ep.servername ?? ep.host, peer);
        if (idErr) verifyError = idErr.message;
      }
      done(undefined, { notAfterMs, notBeforeMs, verified: !verifyError, verifyError, subject: String(peer.subject?.CN ?? '') });
    });
  });
}

export class CertificateSource extends Source<CertificateConfig> {
  static override description = 'Days until the TLS certificate of an endpoint expires, its notAfter and whether it verifies';
  static override schema = schema;

  private readonly endpoint: Endpoint;
  private readonly ca: Buffer | undefined;

  constructor(config: CertificateConfig, context?: PluginContext) {
    super(config, context);
    this.endpoint = endpointOf(config);
    // Read now: a file that cannot be read is a config error (`pollect --check`).
    this.ca = config.ca === undefined ? undefined : readParamFile(this.context, 'ca', config.ca);
  }

  async probe(ctx: ProbeContext): Promise<Sample[]> {
    const timeoutMs = requestTimeout(this.config.timeout, ctx.timeoutMs).ms;
    const cert = await fetchPeerCertificate(this.endpoint, { timeoutMs, signal: ctx.signal, ca: this.ca });
    if (cert.verifyError) ctx.reportProblem(`${this.endpoint.host}:${this.endpoint.port}: certificate does not verify: ${cert.verifyError}`);
    const now = Date.now();
    const valid = cert.verified && now >= cert.notBeforeMs && now <= cert.notAfterMs;
    return [
      {
        name: 'cert_expire_days',
        value: Math.floor((cert.notAfterMs - now) / DAY_MS),
        unit: 'days',
        help: 'Whole days until the certificate expires (negative: expired)',
      },
      { name: 'cert_not_after', value: Math.round(cert.notAfterMs / 1000), unit: 'seconds', help: 'notAfter of the certificate, Unix time' },
      { name: 'cert_valid', value: valid ? 1 : 0, help: '1 when the chain verifies, the name matches and it is within its validity' },
    ];
  }
}
