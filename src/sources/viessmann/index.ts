// Viessmann (the Python pollect's ViessmannSource): a heat pump's temperatures, compressor and pump
// states from the Viessmann IoT API, with an OAuth2 token (PKCE) kept in a file.
import type { Server } from 'node:http';
import { Source, SourceError, errorMessage, type JsonSchema, type PluginContext, type ProbeContext, type Sample, type SourceParams } from '../../sdk/index.js';
import { expectOk, httpRequest, parseJsonBody, safeUrl } from '../../sdk/http.js';
import { checkUrl, resolvePath, maxBytesParam } from '../../sdk/params.js';
import { callbackProblem, listenForCode } from './callback.js';
import { NotAuthorizedError, ViessmannOauth } from './oauth.js';
import { type DevicePath, parseFeatures, pickDevice } from './parse.js';

const schema = {
  type: 'object',
  additionalProperties: false,
  required: ['client_id'],
  properties: {
    client_id: { type: 'string', minLength: 1, description: 'Client ID of your API client at the Viessmann developer portal' },
    callback_url: {
      type: 'string',
      minLength: 1,
      default: 'http://localhost:4200/',
      description: 'Redirect URI registered for the client; pollect listens there (loopback) for the one-time login',
    },
    tokenFile: {
      type: 'string',
      minLength: 1,
      default: 'viessmann_token.json',
      description: "File (relative to the config file) where the token is kept, mode 0600; the Python pollect's file works",
    },
    user: { type: 'string', description: "Ignored: the Python README's password login, which Viessmann ended (use client_id)" },
    password: { type: 'string', description: 'Ignored, as user' },
    apiUrl: { type: 'string', minLength: 1, default: 'https://api.viessmann.com/iot', description: 'Base URL of the Viessmann IoT API' },
    iamUrl: { type: 'string', minLength: 1, default: 'https://iam.viessmann.com/idp/v2', description: 'Base URL of the Viessmann OAuth server' },
    maxBytes: maxBytesParam(8 * 1024 * 1024),
  },
} as const satisfies JsonSchema;

export type ViessmannConfig = SourceParams<typeof schema>;

export class ViessmannSource extends Source<ViessmannConfig> {
  static override description = 'Viessmann heat pump sensors and compressor statistics from the Viessmann IoT API';
  static override schema = schema;

  private readonly auth: ViessmannOauth;
  private readonly apiUrl: string;
  private readonly tokenFile: string;
  /** The device read, from the installation list (asked again after a failure: Viessmann counts every call). */
  private device: DevicePath | undefined;
  /** Waiting for the one-time login's redirect, with the message that says how to log in. */
  private login: { server?: Server; message: string } | undefined;

  constructor(config: ViessmannConfig, context?: PluginContext) {
    super(config, context);
    checkUrl('apiUrl', config.apiUrl, ['http:', 'https:']);
    checkUrl('iamUrl', config.iamUrl, ['http:', 'https:']);
    checkUrl('callback_url', config.callback_url, ['http:', 'https:']);
    this.apiUrl = config.apiUrl.replace(/\/+$/, '');
    this.tokenFile = resolvePath(this.context, config.tokenFile);
    this.auth = new ViessmannOauth({
      clientId: config.client_id,
      callbackUrl: config.callback_url,
      iamUrl: config.iamUrl.replace(/\/+$/, ''),
      file: this.tokenFile,
      maxBytes: config.maxBytes,
      now: () => Date.now(),
    });
  }

  async probe(ctx: ProbeContext): Promise<Sample[]> {
    this.device ??= pickDevice(await this.get('/v1/equipment/installations?includeGateways=true', ctx));
    const { installationId, gatewaySerial, deviceId } = this.device;
    const path = `/v1/equipment/installations/${encodeURIComponent(installationId)}/gateways/${encodeURIComponent(gatewaySerial)}/devices/${encodeURIComponent(deviceId)}/features`;
    let samples: Sample[];
    try {
      samples = parseFeatures(await this.get(path, ctx));
    } catch (err) {
      this.device = undefined;
      throw err;
    }
    if (samples.length === 0)
      throw new SourceError(`Viessmann device ${deviceId} of gateway ${gatewaySerial} has none of the heat pump features this source reads`);
    return samples;
  }

  override async shutdown(): Promise<void> {
    const server = this.login?.server;
    this.login = undefined;
    if (server) await new Promise((r) => server.close(r));
  }

  /** GETs an API path with the access token; a refused token is refreshed once and the request repeated. */
  private async get(path: string, ctx: ProbeContext): Promise<unknown> {
    const url = `${this.apiUrl}${path}`;
    const where = `GET ${safeUrl(url)}`;
    const send = async () =>
      httpRequest({
        url,
        headers: { authorization: `Bearer ${await this.accessToken(ctx)}`, accept: 'application/json' },
        timeoutMs: ctx.timeoutMs,
        signal: ctx.signal,
        maxBytes: this.config.maxBytes,
      });
    let res = await send();
    if (res.status === 401) {
      await this.auth.refresh(ctx);
      res = await send();
    }
    expectOk(res, where);
    return parseJsonBody(res, where);
  }

  private async accessToken(ctx: ProbeContext): Promise<string> {
    try {
      return await this.auth.accessToken(ctx);
    } catch (err) {
      if (err instanceof NotAuthorizedError) throw new SourceError(`${err.message}: ${await this.startLogin()}`);
      throw err;
    }
  }

  /** Starts waiting for the one-time login (once) and says how to do it. */
  private async startLogin(): Promise<string> {
    if (this.login) return this.login.message;
    const problem = callbackProblem(this.config.callback_url);
    if (problem) return problem;
    const { url, verifier } = this.auth.authorizationRequest();
    const port = new URL(this.config.callback_url).port;
    const message = `log in once: open ${url} in a browser on this host (or through an SSH tunnel to port ${port}); pollect takes the code at ${this.config.callback_url} and keeps the token in ${this.tokenFile}`;
    const login: { server?: Server; message: string } = { message };
    this.login = login;
    try {
      login.server = await listenForCode(this.config.callback_url, async (code) => {
        await this.auth.exchangeCode(code, verifier, { signal: AbortSignal.timeout(30_000), timeoutMs: 30_000 });
        if (this.login === login) this.login = undefined;
        this.context.log.info(`Viessmann login done: token kept in ${this.tokenFile}`);
      });
    } catch (err) {
      this.login = undefined;
      return `cannot listen on ${this.config.callback_url} for the login (${(err as NodeJS.ErrnoException).code ?? errorMessage(err)})`;
    }
    return message;
  }
}
