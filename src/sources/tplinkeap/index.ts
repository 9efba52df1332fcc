// TpLinkEap (the Python pollect's TpLinkEapSource): client count and Wi-Fi traffic of a TP-Link EAP
// access point, from its web UI's JSON (`/data/monitor.ap.*.json`). The UI logs in with the MD5 of
// the password and keeps the session in a `COOKIE` cookie; an answer with `"timeout": "true"`
// means the session is gone, so the source logs in again and repeats the request once.
import { createHash } from 'node:crypto';
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
import { checkUrl, maxBytesParam } from '../../sdk/params.js';
import { type HttpRequest, httpJson, httpRequest, safeUrl } from '../../sdk/http.js';
import { WIFI_FIELDS, asAnswer, firstAp, sessionExpired, wifiCounters } from './parse.js';

const schema = {
  type: 'object',
  additionalProperties: false,
  required: ['url', 'user', 'password'],
  properties: {
    url: { type: 'string', minLength: 1, description: 'URL of the admin UI, e.g. http://192.168.0.254' },
    user: { type: 'string', minLength: 1, description: 'User name of the admin UI' },
    password: { type: 'string', minLength: 1, description: 'Password of the admin UI' },
    maxBytes: maxBytesParam(1024 * 1024),
  },
} as const satisfies JsonSchema;

export type TpLinkEapConfig = SourceParams<typeof schema>;

/** The radios: the Python pollect's label and the UI's interface name. */
const RADIOS = [
  ['2ghz', 'WIFI0'],
  ['5ghz', 'WIFI1'],
] as const;

export class TpLinkEapSource extends Source<TpLinkEapConfig> {
  static override description = 'TP-Link EAP access point: clients and Wi-Fi packets, bytes and errors per radio, from its web UI';
  static override schema = schema;

  private readonly base: string;
  /** The session cookie's value, once logged in. */
  private sid: string | undefined;

  constructor(config: TpLinkEapConfig, context?: PluginContext) {
    super(config, context);
    checkUrl('url', config.url, ['http:', 'https:']);
    this.base = config.url.replace(/\/+$/, '');
    registerSecret(config.password);
    // The UI takes the MD5, which is as good as the password: never to be logged either.
    registerSecret(md5Upper(config.password));
  }

  async probe(ctx: ProbeContext): Promise<Sample[]> {
    const aplist = '/data/monitor.ap.aplist.json?operation=load';
    const ap = firstAp(await this.get(aplist, ctx), `GET ${safeUrl(this.base + aplist)}`);
    const out: Sample[] = [{ name: 'total_clients', value: ap.clients }];
    for (const [wifi, iface] of RADIOS) {
      const path = `/data/monitor.ap.interface.json?operation=read&interface=${iface}&apMac=${encodeURIComponent(ap.mac)}`;
      const c = wifiCounters(await this.get(path, ctx), `GET ${safeUrl(this.base + path)} (${iface})`);
      for (const field of WIFI_FIELDS) {
        for (const direction of ['rx', 'tx'] as const) {
          out.push({ name: field, value: c[`${direction}_${field}`], labels: { wifi, direction }, ...(field === 'bytes' ? { unit: 'bytes' } : {}) });
        }
      }
    }
    return out;
  }

  /** GETs a data path; logs in (again) when the session is missing or gone. */
  private async get(path: string, ctx: ProbeContext): Promise<Record<string, unknown>> {
    if (this.sid === undefined) await this.login(ctx);
    let answer = await this.getOnce(path, ctx);
    if (sessionExpired(answer)) {
      await this.login(ctx);
      answer = await this.getOnce(path, ctx);
      if (sessionExpired(answer)) {
        this.sid = undefined;
        throw new SourceError(`GET ${safeUrl(this.base + path)}: the session expired and logging in again did not help (user or password wrong?)`);
      }
    }
    return answer;
  }

  private async getOnce(path: string, ctx: ProbeContext): Promise<Record<string, unknown>> {
    const url = this.base + path;
    return asAnswer(await httpJson(this.request(url, ctx)), `GET ${safeUrl(url)}`);
  }

  /** The UI's login: the index page hands out the cookie, a form POST of user and MD5 binds it. */
  private async login(ctx: ProbeContext): Promise<void> {
    this.sid = undefined;
    const index = await httpRequest(this.request(this.config.url, ctx));
    if (index.status !== 200) throw new SourceError(`GET ${safeUrl(this.config.url)}: HTTP ${index.status}: could not load the login page (is url right?)`);
    this.sid = sessionCookie(index.headers['set-cookie']);
    const form = new URLSearchParams({ username: this.config.user, password: md5Upper(this.config.password) }).toString();
    const res = await httpRequest({
      ...this.request(this.config.url, ctx),
      method: 'POST',
      body: form,
      headers: { ...this.request(this.config.url, ctx).headers, 'content-type': 'application/x-www-form-urlencoded' },
    });
    if (res.status !== 200) throw new SourceError(`POST ${safeUrl(this.config.url)}: HTTP ${res.status}: the login was refused`);
    this.sid = sessionCookie(res.headers['set-cookie']) ?? this.sid;
    if (this.sid === undefined) throw new SourceError(`POST ${safeUrl(this.config.url)}: the login handed out no session cookie (COOKIE)`);
    registerSecret(this.sid);
  }

  private request(url: string, ctx: ProbeContext): HttpRequest {
    // The UI answers nothing without a Referer of its own.
    const headers: Record<string, string> = { referer: this.config.url, accept: 'application/json, text/html' };
    if (this.sid !== undefined) headers.cookie = `COOKIE=${this.sid}`;
    return { url, headers, timeoutMs: ctx.timeoutMs, signal: ctx.signal, maxBytes: this.config.maxBytes };
  }
}

function md5Upper(text: string): string {
  return createHash('md5').update(text, 'utf8').digest('hex').toUpperCase();
}

/** The value of the `COOKIE` cookie among Set-Cookie headers (joined by ", "). */
function sessionCookie(setCookie: string | undefined): string | undefined {
  return setCookie ? /(?:^|[,;]\s*)COOKIE=([^;,\s]+)/.exec(setCookie)?.[1] : undefined;
}
