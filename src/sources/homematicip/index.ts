// HomematicIp (the Python pollect's HomematicIpSource): temperature, target temperature and
// humidity per room from the Homematic IP cloud. The access point's id names the cloud host
// (the lookup service's `getHost`); the home's state comes from `hmip/home/getCurrentState` with
// the auth token (from the homematicip library's hmip_generate_auth_token) and the client token
// derived from the id, as the homematicip library sends them.
import { createHash } from 'node:crypto';
import {
  ParamError,
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
import { type TlsOptions, httpJson, safeUrl } from '../../sdk/http.js';
import { parseCurrentState } from './parse.js';

const schema = {
  type: 'object',
  additionalProperties: false,
  required: ['authToken', 'accessPoint'],
  properties: {
    authToken: { type: 'string', minLength: 1, description: "Auth token of this client (made with the homematicip library's hmip_generate_auth_token)" },
    accessPoint: { type: 'string', minLength: 1, description: 'Access point id (SGTIN), e.g. 3014-F711-A000-0000-0000-0000' },
    lookupUrl: {
      type: 'string',
      minLength: 1,
      default: 'https://lookup.homematic.com:48335/getHost',
      description: 'The lookup service that names the cloud host of the access point',
    },
    tls: clientTlsParam('TLS towards the lookup service and the cloud (a CA of a proxy in between; default: the system CAs)', 'server'),
    maxBytes: maxBytesParam(16 * 1024 * 1024, 'Largest answer accepted, in bytes (the state lists every device)'),
  },
} as const satisfies JsonSchema;

export type HomematicIpConfig = SourceParams<typeof schema>;

/** The homematicip library's salt of the client token. */
const CLIENT_TOKEN_SALT = 'jiLpVitHvWnIGD1yo7MA';

export class HomematicIpSource extends Source<HomematicIpConfig> {
  static override description = 'Homematic IP cloud: temperature, target temperature and humidity per room';
  static override schema = schema;

  private readonly accessPoint: string;
  private readonly clientAuth: string;
  private readonly tls: TlsOptions | undefined;
  /** The REST host the lookup named; looked up again after a failure. */
  private restUrl: string | undefined;

  constructor(config: HomematicIpConfig, context?: PluginContext) {
    super(config, context);
    // As the library: the id's hex digits, upper case (the dashes of its printed form dropped).
    this.accessPoint = config.accessPoint.replace(/[^a-fA-F0-9]/g, '').toUpperCase();
    if (this.accessPoint.length !== 24)
      throw new ParamError('accessPoint', `"${config.accessPoint}" is not an access point id (24 hex digits, e.g. 3014-F711-A000-0000-0000-0000)`);
    checkUrl('lookupUrl', config.lookupUrl, ['https:', 'http:']);
    this.tls = config.tls ? readClientTls(this.context, config.tls) : undefined;
    this.clientAuth = createHash('sha512')
      .update(this.accessPoint + CLIENT_TOKEN_SALT, 'utf8')
      .digest('hex')
      .toUpperCase();
    registerSecret(config.authToken);
    registerSecret(this.clientAuth);
  }

  async probe(ctx: ProbeContext): Promise<Sample[]> {
    const restUrl = (this.restUrl ??= await this.lookup(ctx));
    const url = `${restUrl}/hmip/home/getCurrentState`;
    const where = `POST ${safeUrl(url)}`;
    let state: unknown;
    try {
      state = await this.post(ctx, url, {
        VERSION: '12',
        AUTHTOKEN: this.config.authToken,
        CLIENTAUTH: this.clientAuth,
        'ACCESSPOINT-ID': this.accessPoint,
      });
    } catch (err) {
      this.restUrl = undefined;
      throw err;
    }
    const out: Sample[] = [];
    for (const r of parseCurrentState(state, where)) {
      const labels = { room: r.room };
      if (r.setPointTemperature !== undefined) out.push({ name: 'temperature_target', value: r.setPointTemperature, labels, unit: 'celsius' });
      if (r.actualTemperature !== undefined) out.push({ name: 'temperature', value: r.actualTemperature, labels, unit: 'celsius' });
      if (r.humidity !== undefined) out.push({ name: 'humidity', value: r.humidity, labels, unit: 'percent' });
    }
    return out;
  }

  /** The REST URL of the access point's cloud host. */
  private async lookup(ctx: ProbeContext): Promise<string> {
    const where = `POST ${safeUrl(this.config.lookupUrl)}`;
    const answer = await this.post(ctx, this.config.lookupUrl, {});
    const rest = (answer as { urlREST?: unknown } | null)?.urlREST;
    if (typeof rest !== 'string' || !/^https?:\/\/[^/]/.test(rest)) {
      throw new SourceError(`${where}: the lookup answer has no urlREST (is accessPoint right?)`);
    }
    return rest.replace(/\/+$/, '');
  }

  private post(ctx: ProbeContext, url: string, headers: Record<string, string>): Promise<unknown> {
    const request = {
      url,
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json', ...headers },
      body: JSON.stringify(this.clientCharacteristics()),
      timeoutMs: ctx.timeoutMs,
      signal: ctx.signal,
      maxBytes: this.config.maxBytes,
      tls: this.tls,
    };
    return httpJson(request, (res, where) =>
      headers.AUTHTOKEN !== undefined && (res.status === 403 || res.status === 401)
        ? new SourceError(`${where}: HTTP ${res.status}: the cloud refused the auth token (or the access point id)`)
        : undefined,
    );
  }

  /** What the homematicip library says about its client, with the access point's id. */
  private clientCharacteristics(): object {
    return {
      clientCharacteristics: {
        apiVersion: '10',
        applicationIdentifier: 'pollect',
        applicationVersion: '1.0',
        deviceManufacturer: 'none',
        deviceType: 'Computer',
        language: 'en_US',
        osType: process.platform === 'linux' ? 'Linux' : process.platform,
        osVersion: '',
      },
      id: this.accessPoint,
    };
  }
}
