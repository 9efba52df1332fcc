// TR-064, AVM's SOAP interface of the FRITZ!Box (port 49000): the device description that lists
// each service's control URL, and one action call with HTTP digest authentication.
import { SourceError, errorMessage, redact } from '../../sdk/index.js';
import { xmlParser } from '../../sdk/xml.js';
import { bodyExcerpt, expectOk, httpRequest, safeUrl } from '../../sdk/http.js';
import { type DigestChallenge, digestAuthorization, parseChallenge } from './digest.js';

export interface Service {
  serviceType: string;
  controlURL: string;
}

export interface CallOptions {
  timeoutMs: number;
  signal: AbortSignal;
  maxBytes: number;
}

type Node = Record<string, unknown>;

const parse = xmlParser({
  removeNSPrefix: true,
  ignoreAttributes: true,
  // Values stay strings: the caller checks each for its type.
  parseTagValue: false,
  isArray: (name: string) => name === 'service' || name === 'device',
});

async function parseXml(text: string, where: string): Promise<Node> {
  try {
    return await parse(text);
  } catch (err) {
    throw new SourceError(`${where}: ${errorMessage(err)}`);
  }
}

const asNode = (v: unknown): Node | undefined => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Node) : undefined);
const asList = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

/** Every service of a device description (`tr64desc.xml`, `igddesc.xml`), the embedded devices' too. */
export async function parseServices(text: string, where: string): Promise<Service[]> {
  const root = asNode((await parseXml(text, where)).root);
  if (!root) throw new SourceError(`${where}: not a UPnP device description (no <root>)`);
  const out: Service[] = [];
  const walk = (device: unknown): void => {
    const d = asNode(device);
    if (!d) return;
    for (const s of asList(asNode(d.serviceList)?.service)) {
      const n = asNode(s);
      if (typeof n?.serviceType === 'string' && typeof n.controlURL === 'string')
        out.push({ serviceType: n.serviceType.trim(), controlURL: n.controlURL.trim() });
    }
    for (const child of asList(asNode(d.deviceList)?.device)) walk(child);
  };
  for (const d of asList(root.device)) walk(d);
  return out;
}

/** The output arguments of a SOAP action's answer (`<u:ActionResponse><NewX>1</NewX>...`), as strings. */
export async function parseActionResponse(text: string, action: string, where: string): Promise<Record<string, string>> {
  const body = asNode(asNode((await parseXml(text, where)).Envelope)?.Body);
  const response = body?.[`${action}Response`];
  if (response === '') return {};
  const node = asNode(response);
  if (!node) throw new SourceError(`${where}: the SOAP answer has no ${action}Response`);
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(node)) if (typeof v === 'string') out[k] = v;
  return out;
}

const envelope = (serviceType: string, action: string): string =>
  '<?xml version="1.0" encoding="utf-8"?>\n' +
  '<s:Envelope s:encodingStyle="http://schemas.xmlsoap.org/soap/encoding/" xmlns:s="http://schemas.xmlsoap.org/soap/envelope/">' +
  `<s:Body><u:${action} xmlns:u="${serviceType}"></u:${action}></s:Body></s:Envelope>`;

/** One FRITZ!Box: plain GETs of its descriptions and SOAP calls, answering its digest challenges. */
export class Tr064Client {
  private challenge: DigestChallenge | undefined;

  constructor(
    private readonly base: string,
    private readonly password: string | undefined,
  ) {}

  /** The user the digest answers name; settled once (see FritzSource). */
  user = '';

  async get(path: string, opts: CallOptions): Promise<string> {
    const url = this.base + path;
    const res = await httpRequest({ url, ...opts });
    expectOk(res, `GET ${safeUrl(url)}`);
    return res.body.toString('utf8');
  }

  /** Calls `action` of the service; rejects with a SourceError naming the action. */
  async call(service: Service, action: string, opts: CallOptions): Promise<Record<string, string>> {
    const url = this.base + service.controlURL;
    const where = `${action} at ${safeUrl(url)}`;
    const body = envelope(service.serviceType, action);
    const headers: Record<string, string> = { 'content-type': 'text/xml; charset="utf-8"', soapaction: `${service.serviceType}#${action}` };
    const send = (authorization?: string) =>
      httpRequest({ url, method: 'POST', body, headers: authorization ? { ...headers, authorization } : headers, ...opts });
    let res = await send(this.authorization(service.controlURL));
    if (res.status === 401 && this.password !== undefined) {
      // A first call, or the kept nonce went stale: answer the new challenge, once.
      const challenge = parseChallenge(res.headers['www-authenticate']);
      if (typeof challenge === 'string') throw new SourceError(`${where}: HTTP 401: ${challenge}`);
      const retry = this.challenge === undefined || challenge.nonce !== this.challenge.nonce;
      this.challenge = challenge;
      if (retry) res = await send(this.authorization(service.controlURL));
    }
    if (res.status === 401) {
      this.challenge = undefined;
      throw new SourceError(
        `${where}: HTTP 401: ${this.password === undefined ? 'the FRITZ!Box wants a password ("pass")' : `user "${redact(this.user)}" or its password refused`}`,
      );
    }
    if (res.status === 500) {
      // A SOAP fault: its UPnP error names the problem (401 Invalid Action, 606 Action Not Authorized).
      throw new SourceError(`${where}: SOAP fault: ${bodyExcerpt(res.body)}`);
    }
    expectOk(res, where);
    return parseActionResponse(res.body.toString('utf8'), action, where);
  }

  private authorization(uri: string): string | undefined {
    if (!this.challenge || this.password === undefined) return undefined;
    return digestAuthorization(this.challenge, this.user, this.password, 'POST', uri);
  }
}
