// ZodiacPool (the Python pollect's ZodiacPoolSource): the state of Zodiac pool cleaning robots
// (tested by the Python pollect with an Alpha 63 IQ) from the iAqualink cloud: a login at
// prod.zodiac-io.com, the account's devices from prm.iaqualink.net, then each device's shadow.
import { createHmac } from 'node:crypto';
import {
  Source,
  SourceError,
  registerSecret,
  type JsonSchema,
  type PluginContext,
  type ProbeContext,
  type Sample,
  type SourceParams,
} from '../../sdk/index.js';
import { checkUrl, clientTlsParam, readClientTls, maxBytesParam } from '../../sdk/params.js';
import { type HttpRequest, type TlsOptions, httpJson, safeUrl } from '../../sdk/http.js';
import { type Login, parseDevices, parseLogin, parseRobot, remainingSeconds } from './parse.js';

const schema = {
  type: 'object',
  additionalProperties: false,
  required: ['user', 'password'],
  properties: {
    user: { type: 'string', minLength: 1, description: 'E-mail address of the iAqualink account' },
    password: { type: 'string', minLength: 1, description: 'Password of the iAqualink account' },
    shadowUrl: { type: 'string', minLength: 1, default: 'https://prod.zodiac-io.com', description: 'Base URL of the Zodiac API (login and device shadows)' },
    devicesUrl: { type: 'string', minLength: 1, default: 'https://prm.iaqualink.net', description: 'Base URL of the iAqualink API that lists the devices' },
    tls: clientTlsParam('TLS towards those APIs (a CA of a proxy in between; default: the system CAs)', 'server'),
    maxBytes: maxBytesParam(1024 * 1024),
  },
} as const satisfies JsonSchema;

export type ZodiacPoolConfig = SourceParams<typeof schema>;

/** The iAqualink app's key and signing secret: constants of the app, not of the account. */
const API_KEY = 'EOOEMOW4YR6QNB07';
const SIGNING_KEY = 'cj7iYKjiKxOqiLcN65PffA';

/** A 401 from an API: the tokens are no longer taken. */
class AuthError extends SourceError {}

export class ZodiacPoolSource extends Source<ZodiacPoolConfig> {
  static override description = 'Zodiac pool cleaner robots (iAqualink cloud): state, program cycle, error code and time left';
  static override schema = schema;

  private readonly shadowUrl: string;
  private readonly devicesUrl: string;
  private readonly tls: TlsOptions | undefined;
  private login: Login | undefined;

  constructor(config: ZodiacPoolConfig, context?: PluginContext) {
    super(config, context);
    checkUrl('shadowUrl', config.shadowUrl, ['https:', 'http:']);
    checkUrl('devicesUrl', config.devicesUrl, ['https:', 'http:']);
    this.shadowUrl = config.shadowUrl.replace(/\/+$/, '');
    this.devicesUrl = config.devicesUrl.replace(/\/+$/, '');
    this.tls = config.tls ? readClientTls(this.context, config.tls) : undefined;
    registerSecret(config.password);
  }

  async probe(ctx: ProbeContext): Promise<Sample[]> {
    try {
      return await this.read(ctx);
    } catch (err) {
      if (!(err instanceof AuthError) || this.login === undefined) throw err;
      // Tokens revoked before their time: log in afresh, once.
      this.login = undefined;
      return this.read(ctx);
    }
  }

  private async read(ctx: ProbeContext): Promise<Sample[]> {
    const login = await this.session(ctx);
    const now = Math.round(Date.now() / 1000);
    const signature = sign(`${login.userId},${now}`);
    const listUrl = `${this.devicesUrl}/v2/devices.json?user_id=${encodeURIComponent(login.userId)}&signature=${signature}&timestamp=${now}`;
    const serials = parseDevices(await this.call(ctx, listUrl, { api_key: API_KEY, authorization: login.idToken }), `GET ${safeUrl(listUrl)}`);
    const out: Sample[] = [];
    for (const serial of serials) {
      const url = `${this.shadowUrl}/devices/v2/${encodeURIComponent(serial)}/shadow?signature=${sign(`${serial.toUpperCase()},${login.userId}`)}`;
      const where = `GET ${safeUrl(url)}`;
      const robot = parseRobot(await this.call(ctx, url, { authorization: login.idToken }), where);
      if (!robot) {
        ctx.reportProblem(`device ${serial}: its shadow has no robot (not a pool cleaner of the kind this source reads)`);
        continue;
      }
      const labels = { device_serial: serial };
      out.push({ name: 'state', value: robot.state, labels });
      out.push({ name: 'program_cycle', value: robot.prCyc, labels });
      out.push({ name: 'error_code', value: robot.errorCode, labels });
      const remaining = remainingSeconds(robot, Date.now() / 1000);
      if (remaining === undefined) ctx.reportProblem(`device ${serial}: no duration known for program cycle ${robot.prCyc}`);
      else out.push({ name: 'remaining_time', value: remaining, labels, unit: 'seconds' });
    }
    return out;
  }

  /** A valid login: the kept one, refreshed once its id token has expired, or a new one. */
  private async session(ctx: ProbeContext): Promise<Login> {
    const current = this.login;
    if (current?.expiresAt !== undefined && Date.now() / 1000 >= current.expiresAt - 60 && current.refreshToken) {
      try {
        const url = `${this.shadowUrl}/users/v1/refresh`;
        const fresh = parseLogin(await this.call(ctx, url, {}, { email: current.email, refresh_token: current.refreshToken }), `POST ${safeUrl(url)}`);
        // The refresh answer leaves the refresh token out: keep the one we have.
        this.login = this.keep({ ...fresh, refreshToken: fresh.refreshToken || current.refreshToken });
      } catch (err) {
        if (ctx.signal.aborted) throw err;
        ctx.log.info(`ZodiacPool: refreshing the token failed (${(err as Error).message}), logging in again`);
        this.login = undefined;
      }
    }
    if (this.login === undefined) {
      const url = `${this.shadowUrl}/users/v1/login`;
      this.login = this.keep(
        parseLogin(await this.call(ctx, url, {}, { apiKey: API_KEY, email: this.config.user, password: this.config.password }), `POST ${safeUrl(url)}`),
      );
    }
    return this.login;
  }

  private keep(login: Login): Login {
    registerSecret(login.idToken);
    if (login.refreshToken) registerSecret(login.refreshToken);
    return login;
  }

  /** GET (or, with a body, POST JSON) and parse the JSON of a 2xx answer; a 401 is an AuthError. */
  private call(ctx: ProbeContext, url: string, headers: Record<string, string>, body?: object): Promise<unknown> {
    const request: HttpRequest = {
      url,
      method: body ? 'POST' : 'GET',
      headers: { accept: 'application/json', ...headers, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
      timeoutMs: ctx.timeoutMs,
      signal: ctx.signal,
      maxBytes: this.config.maxBytes,
      tls: this.tls,
    };
    return httpJson(request, (res, where) => {
      if (res.status !== 401 && res.status !== 403) return undefined;
      const what = url.endsWith('/users/v1/login') ? 'the account (user or password) was refused' : 'the login is no longer accepted';
      return new AuthError(`${where}: HTTP ${res.status}: ${what}`);
    });
  }
}

/** The iAqualink app's request signature: HMAC-SHA1 of the text, hex. */
function sign(text: string): string {
  return createHmac('sha1', SIGNING_KEY).update(text, 'utf8').digest('hex');
}
