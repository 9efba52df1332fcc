// Keystone v3 password authentication: a project-scoped token and the compute endpoint from its
// catalog. The password travels only in the request body (the config loader registers it as a secret).
import { SourceError } from '../../sdk/index.js';
import { bodyExcerpt, httpRequest, safeUrl } from '../../sdk/http.js';

export interface KeystoneCredentials {
  authUrl: string;
  username: string;
  password: string;
  projectName: string;
  userDomain: string;
  projectDomain: string;
}

export interface KeystoneSession {
  token: string;
  /** ms since the epoch; undefined when Keystone did not say. */
  expiresAt?: number;
  projectId: string;
  computeUrl: string;
}

export interface EndpointChoice {
  region?: string;
  interface: string;
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The token URL for an auth URL given with or without its /v3 suffix. */
export function tokenUrl(authUrl: string): string {
  const base = authUrl.replace(/\/+$/, '');
  return /\/v3$/.test(base) ? `${base}/auth/tokens` : `${base}/v3/auth/tokens`;
}

/**
 * The message of an OpenStack error document ({"error": {"message": ...}} from Keystone,
 * {"itemNotFound": {"message": ...}} and the like from Nova), else an excerpt of the body.
 */
export function apiMessage(body: Buffer, max = 200): string {
  try {
    const doc = JSON.parse(body.toString('utf8')) as unknown;
    if (isObj(doc)) {
      for (const v of Object.values(doc)) {
        if (isObj(v) && typeof v.message === 'string') return bodyExcerpt(Buffer.from(v.message), max);
      }
    }
  } catch {
    // not JSON: an HTML page from a proxy, or garbage
  }
  return bodyExcerpt(body, max);
}

export async function authenticate(
  cred: KeystoneCredentials,
  choice: EndpointChoice,
  opts: { timeoutMs: number; signal?: AbortSignal },
): Promise<KeystoneSession> {
  const url = tokenUrl(cred.authUrl);
  const who = `user "${cred.username}" (domain "${cred.userDomain}"), project "${cred.projectName}" (domain "${cred.projectDomain}")`;
  const where = `Keystone POST ${safeUrl(url)}`;
  const body = JSON.stringify({
    auth: {
      identity: {
        methods: ['password'],
        password: { user: { name: cred.username, domain: { name: cred.userDomain }, password: cred.password } },
      },
      scope: { project: { name: cred.projectName, domain: { name: cred.projectDomain } } },
    },
  });
  const res = await httpRequest({
    url,
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
    body,
    timeoutMs: opts.timeoutMs,
    signal: opts.signal,
    maxBytes: 8 * 1024 * 1024,
    // Logins are hours apart: a pooled connection would long be closed by then.
    keepAlive: false,
  });
  if (res.status === 401 || res.status === 403) {
    throw new SourceError(`${where}: authentication failed for ${who}: HTTP ${res.status}: ${apiMessage(res.body)}`);
  }
  if (res.status < 200 || res.status >= 300) {
    const msg = apiMessage(res.body);
    throw new SourceError(`${where}: HTTP ${res.status}${res.statusText ? ' ' + res.statusText : ''}${msg ? ': ' + msg : ''}`);
  }
  const token = res.headers['x-subject-token'];
  if (!token) throw new SourceError(`${where}: HTTP ${res.status} but no X-Subject-Token header (is this Keystone v3?)`);
  let doc: unknown;
  try {
    doc = JSON.parse(res.body.toString('utf8'));
  } catch {
    const start = bodyExcerpt(res.body, 60);
    throw new SourceError(`${where}: the token answer is not JSON (${start ? `body starts "${start}"` : `${res.body.length} bytes, not text`})`);
  }
  const t = isObj(doc) && isObj(doc.token) ? doc.token : undefined;
  if (!t) throw new SourceError(`${where}: the answer has no "token" object`);
  const projectId = isObj(t.project) && typeof t.project.id === 'string' ? t.project.id : undefined;
  if (!projectId) throw new SourceError(`${where}: the token is not scoped to a project`);
  const expires = typeof t.expires_at === 'string' ? Date.parse(t.expires_at) : NaN;
  let computeUrl: string;
  try {
    computeUrl = findEndpoint(t.catalog, 'compute', choice);
  } catch (err) {
    throw new SourceError(`${where}: ${(err as Error).message}`);
  }
  return { token, projectId, computeUrl, expiresAt: Number.isFinite(expires) ? expires : undefined };
}

/** The URL of a service's endpoint in a v3 catalog, for one interface and (optionally) region. */
export function findEndpoint(catalog: unknown, type: string, choice: EndpointChoice): string {
  if (!Array.isArray(catalog)) throw new SourceError('the token has no service catalog (the user may lack a role on the project)');
  const service = catalog.find((s) => isObj(s) && s.type === type) as Obj | undefined;
  if (!service || !Array.isArray(service.endpoints)) throw new SourceError(`no "${type}" service in the catalog`);
  const endpoints = service.endpoints.filter(isObj);
  const regionOf = (e: Obj): string => String(e.region_id ?? e.region ?? '');
  const fitting = endpoints.filter(
    (e) =>
      e.interface === choice.interface &&
      typeof e.url === 'string' &&
      (choice.region === undefined || regionOf(e) === choice.region || e.region === choice.region),
  );
  if (fitting.length === 0) {
    const have = endpoints.map((e) => `${String(e.interface)}@${regionOf(e) || 'no region'}`).join(', ');
    throw new SourceError(
      `no ${choice.interface} "${type}" endpoint${choice.region ? ` in region "${choice.region}"` : ''} in the catalog (it has: ${have || 'none'})`,
    );
  }
  const regions = [...new Set(fitting.map(regionOf))];
  if (choice.region === undefined && regions.length > 1) {
    throw new SourceError(`the catalog has ${choice.interface} "${type}" endpoints in several regions (${regions.join(', ')}); set "region"`);
  }
  return (fitting[0]!.url as string).replace(/\/+$/, '');
}
