// HTTP Digest access authentication (RFC 7616, and RFC 2617's MD5), the client side: what the
// FRITZ!Box's TR-064 interface asks for. A challenge is kept and reused with a growing nonce count,
// so a probe costs one request per action, not two; a 401 on it means a new challenge.
import { createHash, randomBytes } from 'node:crypto';

export interface DigestChallenge {
  realm: string;
  nonce: string;
  opaque?: string;
  /** `auth` when the server offers it (the only protection of the quality this client does). */
  qop?: 'auth';
  algorithm: 'MD5' | 'MD5-sess' | 'SHA-256' | 'SHA-256-sess';
  /** Requests made with this nonce so far. */
  count: number;
}

const ALGORITHMS = ['MD5', 'MD5-sess', 'SHA-256', 'SHA-256-sess'] as const;

/** The Digest challenge of a `WWW-Authenticate` header, or an error saying why it cannot be answered. */
export function parseChallenge(header: string | undefined): DigestChallenge | string {
  if (!header) return 'the server asked for credentials without a WWW-Authenticate header';
  const m = /(?:^|,\s*)Digest\s+(.*)$/i.exec(header);
  if (!m) return `the server wants "${header.split(/\s/)[0]}" authentication, not Digest`;
  const params: Record<string, string> = {};
  for (const p of m[1]!.matchAll(/([a-z0-9_-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^,\s]*))/gi)) {
    params[p[1]!.toLowerCase()] = p[2] !== undefined ? p[2].replace(/\\(.)/g, '$1') : (p[3] ?? '');
  }
  if (params.realm === undefined || !params.nonce) return 'the Digest challenge has no realm or nonce';
  const algorithm = ALGORITHMS.find((a) => a.toLowerCase() === (params.algorithm ?? 'MD5').toLowerCase());
  if (!algorithm) return `the Digest algorithm "${params.algorithm}" is not supported`;
  const qops = (params.qop ?? '').split(',').map((q) => q.trim().toLowerCase());
  if (params.qop !== undefined && !qops.includes('auth')) return `the Digest qop "${params.qop}" is not supported`;
  return { realm: params.realm, nonce: params.nonce, opaque: params.opaque, qop: params.qop !== undefined ? 'auth' : undefined, algorithm, count: 0 };
}

function hash(algorithm: DigestChallenge['algorithm'], text: string): string {
  return createHash(algorithm.startsWith('SHA-256') ? 'sha256' : 'md5')
    .update(text, 'utf8')
    .digest('hex');
}

const quote = (s: string): string => `"${s.replace(/["\\]/g, '\\$&')}"`;

/** The `Authorization` header answering `c` for one request (counts the nonce's use). */
export function digestAuthorization(c: DigestChallenge, user: string, password: string, method: string, uri: string): string {
  c.count++;
  const nc = c.count.toString(16).padStart(8, '0');
  const cnonce = randomBytes(8).toString('hex');
  let ha1 = hash(c.algorithm, `${user}:${c.realm}:${password}`);
  if (c.algorithm.endsWith('-sess')) ha1 = hash(c.algorithm, `${ha1}:${c.nonce}:${cnonce}`);
  const ha2 = hash(c.algorithm, `${method}:${uri}`);
  const response = c.qop ? hash(c.algorithm, `${ha1}:${c.nonce}:${nc}:${cnonce}:auth:${ha2}`) : hash(c.algorithm, `${ha1}:${c.nonce}:${ha2}`);
  const parts = [
    `username=${quote(user)}`,
    `realm=${quote(c.realm)}`,
    `nonce=${quote(c.nonce)}`,
    `uri=${quote(uri)}`,
    `algorithm=${c.algorithm}`,
    `response="${response}"`,
  ];
  if (c.opaque !== undefined) parts.push(`opaque=${quote(c.opaque)}`);
  if (c.qop) parts.push('qop=auth', `nc=${nc}`, `cnonce="${cnonce}"`);
  return `Digest ${parts.join(', ')}`;
}
