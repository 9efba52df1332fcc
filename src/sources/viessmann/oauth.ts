// Viessmann's OAuth2 (authorization code with PKCE, then refresh tokens), with the token kept in a
// file as the Python pollect keeps it (viessmann_token.json: access_token, refresh_token,
// token_type and expires_in, which holds the expiry time in epoch seconds, not a duration).
import { createHash, randomBytes } from 'node:crypto';
import { chmod, readFile, rename, writeFile } from 'node:fs/promises';
import { SourceError, registerSecret } from '../../sdk/index.js';
import { bodyExcerpt, httpRequest, parseJsonBody, safeUrl } from '../../sdk/http.js';

export interface StoredToken {
  access_token: string;
  refresh_token: string;
  token_type: string;
  /** Epoch seconds when the access token expires. */
  expires_in: number;
}

export interface OauthOptions {
  clientId: string;
  /** The redirect URI registered for the client. */
  callbackUrl: string;
  /** Viessmann's IAM base, `https://iam.viessmann.com/idp/v2`. */
  iamUrl: string;
  file: string;
  maxBytes: number;
  /** Milliseconds since the epoch. */
  now: () => number;
}

export interface Deadline {
  signal: AbortSignal;
  timeoutMs: number;
}

/** No token yet: someone has to log in once (see authorizationRequest). */
export class NotAuthorizedError extends SourceError {
  override name = 'NotAuthorizedError';
}

/** Refresh an access token this long before it expires, so it does not expire during a probe. */
const EXPIRY_MARGIN_S = 60;

export class ViessmannOauth {
  private token: StoredToken | undefined;

  constructor(private readonly opts: OauthOptions) {}

  /** A valid access token: the cached one, refreshed when it has expired. */
  async accessToken(d: Deadline): Promise<string> {
    this.token ??= await this.load();
    if (this.token.expires_in - EXPIRY_MARGIN_S <= this.opts.now() / 1000) await this.refresh(d);
    return this.token.access_token;
  }

  /** Trades the refresh token for a new access token (also when the API refused the current one). */
  async refresh(d: Deadline): Promise<void> {
    this.token ??= await this.load();
    const refreshToken = this.token.refresh_token;
    const answer = await this.post({ grant_type: 'refresh_token', client_id: this.opts.clientId, refresh_token: refreshToken }, d, 'refresh the token');
    // Viessmann may answer a refresh without a new refresh token: the old one stays valid.
    await this.save(answer, refreshToken);
  }

  /** The login URL for a person to open, and the PKCE verifier that goes with it (RFC 7636, S256). */
  authorizationRequest(): { url: string; verifier: string } {
    const verifier = randomBytes(32).toString('base64url');
    const challenge = createHash('sha256').update(verifier).digest('base64url');
    const url = new URL(`${this.opts.iamUrl}/authorize`);
    url.search = new URLSearchParams({
      client_id: this.opts.clientId,
      redirect_uri: this.opts.callbackUrl,
      response_type: 'code',
      scope: 'IoT User offline_access',
      code_challenge: challenge,
      code_challenge_method: 'S256',
    }).toString();
    return { url: url.toString(), verifier };
  }

  /** Trades the code from the login redirect (and its verifier) for a token, and keeps it. */
  async exchangeCode(code: string, verifier: string, d: Deadline): Promise<void> {
    registerSecret(code);
    registerSecret(verifier);
    const answer = await this.post(
      { grant_type: 'authorization_code', client_id: this.opts.clientId, redirect_uri: this.opts.callbackUrl, code, code_verifier: verifier },
      d,
      'trade the authorization code for a token',
    );
    await this.save(answer, undefined);
  }

  private async post(form: Record<string, string>, d: Deadline, what: string): Promise<unknown> {
    const url = `${this.opts.iamUrl}/token`;
    const where = `POST ${safeUrl(url)}`;
    const res = await httpRequest({
      url,
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body: new URLSearchParams(form).toString(),
      timeoutMs: d.timeoutMs,
      signal: d.signal,
      maxBytes: this.opts.maxBytes,
    });
    if (res.status < 200 || res.status >= 300) {
      const again = res.status === 400 || res.status === 401 ? `; delete ${this.opts.file} and authorize again` : '';
      throw new SourceError(`Viessmann refused to ${what} (${where}: HTTP ${res.status}: ${bodyExcerpt(res.body)})${again}`);
    }
    return parseJsonBody(res, where);
  }

  private async save(answer: unknown, refreshToken: string | undefined): Promise<void> {
    const a = (answer ?? {}) as Record<string, unknown>;
    const refresh = typeof a.refresh_token === 'string' ? a.refresh_token : refreshToken;
    if (typeof a.access_token !== 'string' || !a.access_token || typeof a.expires_in !== 'number' || refresh === undefined) {
      throw new SourceError('Viessmann answered the token request without access_token, refresh_token and expires_in');
    }
    const token: StoredToken = {
      access_token: a.access_token,
      refresh_token: refresh,
      token_type: typeof a.token_type === 'string' ? a.token_type : 'Bearer',
      expires_in: Math.floor(this.opts.now() / 1000) + a.expires_in,
    };
    registerToken(token);
    this.token = token;
    // The file holds a refresh token, which gives access to the heating: only its owner may read it.
    const tmp = `${this.opts.file}.${process.pid}.tmp`;
    try {
      await writeFile(tmp, JSON.stringify(token), { mode: 0o600 });
      await chmod(tmp, 0o600);
      await rename(tmp, this.opts.file);
    } catch (err) {
      throw new SourceError(`cannot write the Viessmann token to ${this.opts.file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
  }

  private async load(): Promise<StoredToken> {
    let text: string;
    try {
      text = await readFile(this.opts.file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new NotAuthorizedError(`no Viessmann token in ${this.opts.file} yet`);
      throw new SourceError(`cannot read the Viessmann token ${this.opts.file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
    let t: Partial<StoredToken> | undefined;
    try {
      t = JSON.parse(text) as Partial<StoredToken>;
    } catch {
      // not JSON: reported below
    }
    if (typeof t?.access_token !== 'string' || typeof t.refresh_token !== 'string' || typeof t.expires_in !== 'number') {
      throw new SourceError(`${this.opts.file} is not a Viessmann token (access_token, refresh_token, expires_in): delete it and authorize again`);
    }
    const token = { token_type: 'Bearer', ...t } as StoredToken;
    registerToken(token);
    return token;
  }
}

function registerToken(t: StoredToken): void {
  registerSecret(t.access_token);
  registerSecret(t.refresh_token);
}
