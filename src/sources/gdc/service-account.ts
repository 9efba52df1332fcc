// A Google service account's access token: a JWT signed with the key file's private key (RS256),
// traded at the key file's token_uri (the OAuth2 JWT bearer grant, RFC 7523), kept until shortly
// before it expires.
import { ParamError, SourceError, registerSecret } from '../../sdk/index.js';
import { expectOk, httpRequest, parseJsonBody, safeUrl } from '../../sdk/http.js';

export interface ServiceAccountKey {
  client_email: string;
  private_key: string;
  private_key_id?: string;
  token_uri: string;
}

/** The fields of a service-account key file (JSON) that are needed, or a ParamError naming `param`. */
export function parseServiceAccountKey(param: string, text: string): ServiceAccountKey {
  let key: Record<string, unknown>;
  try {
    key = JSON.parse(text) as Record<string, unknown>;
  } catch {
    throw new ParamError(param, 'not a service-account key file (not JSON)');
  }
  if (key === null || typeof key !== 'object' || typeof key.client_email !== 'string' || typeof key.private_key !== 'string') {
    throw new ParamError(param, 'not a service-account key file (no client_email and private_key): create a JSON key for the service account');
  }
  registerSecret(key.private_key.trim());
  if (!key.private_key.includes('BEGIN PRIVATE KEY')) throw new ParamError(param, 'its private_key is not a PKCS#8 PEM key');
  const tokenUri = typeof key.token_uri === 'string' ? key.token_uri : 'https://oauth2.googleapis.com/token';
  if (!/^https?:\/\//.test(tokenUri)) throw new ParamError(param, `its token_uri "${tokenUri}" is not an http(s) URL`);
  return {
    client_email: key.client_email,
    private_key: key.private_key,
    private_key_id: typeof key.private_key_id === 'string' ? key.private_key_id : undefined,
    token_uri: tokenUri,
  };
}

export interface Deadline {
  signal: AbortSignal;
  timeoutMs: number;
}

/** Ask for a new token this long before the current one expires. */
const EXPIRY_MARGIN_MS = 60_000;

export class ServiceAccountAuth {
  private token: { value: string; expiresAt: number } | undefined;

  constructor(
    private readonly key: ServiceAccountKey,
    private readonly scope: string,
    private readonly now: () => number = Date.now,
  ) {}

  async accessToken(d: Deadline): Promise<string> {
    if (this.token && this.token.expiresAt - EXPIRY_MARGIN_MS > this.now()) return this.token.value;
    const where = `POST ${safeUrl(this.key.token_uri)}`;
    const res = await httpRequest({
      url: this.key.token_uri,
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body: new URLSearchParams({ grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer', assertion: await this.assertion() }).toString(),
      timeoutMs: d.timeoutMs,
      signal: d.signal,
      maxBytes: 64 * 1024,
    });
    try {
      expectOk(res, where);
    } catch (err) {
      throw new SourceError(`the service account ${this.key.client_email} got no token: ${(err as Error).message}`);
    }
    const a = parseJsonBody(res, where) as Record<string, unknown> | null;
    if (typeof a?.access_token !== 'string' || !a.access_token || typeof a.expires_in !== 'number') {
      throw new SourceError(`${where}: the answer has no access_token and expires_in`);
    }
    registerSecret(a.access_token);
    this.token = { value: a.access_token, expiresAt: this.now() + a.expires_in * 1000 };
    return a.access_token;
  }

  /** Forgets the token (the server refused it). */
  forget(): void {
    this.token = undefined;
  }

  private async assertion(): Promise<string> {
    // Loaded on first use: only configs with a Google source pay for it.
    const { SignJWT, importPKCS8 } = await import('jose');
    let key: Awaited<ReturnType<typeof importPKCS8>>;
    try {
      key = await importPKCS8(this.key.private_key, 'RS256');
    } catch (err) {
      throw new SourceError(`the service account's private_key cannot sign RS256: ${(err as Error).message}`);
    }
    const iat = Math.floor(this.now() / 1000);
    return new SignJWT({ scope: this.scope })
      .setProtectedHeader({ alg: 'RS256', typ: 'JWT', ...(this.key.private_key_id ? { kid: this.key.private_key_id } : {}) })
      .setIssuer(this.key.client_email)
      .setAudience(this.key.token_uri)
      .setIssuedAt(iat)
      .setExpirationTime(iat + 3600)
      .sign(key);
  }
}
