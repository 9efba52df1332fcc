// Params several plugins share: schema pieces (spread them into a schema written `as const`) and
// the checks a constructor makes on what a schema cannot say: a regex that must compile, a file
// that must be readable, a host name that must not carry a port. Each throws a ParamError, which
// `pollect --check` reports at the param's path.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ParamError, registerSecret, type PluginContext } from './index.js';
import { translatePythonRegex } from './regex.js';

/** A TCP or UDP port: `port: { ...portParam, default: 8080, description: '...' }`. */
export const portParam = { type: 'integer', minimum: 1, maximum: 65535 } as const;

/**
 * A push writer's opt-in disk queue: the core keeps the writer's buffer in this folder too
 * (src/executors/disk-queue.ts). `diskQueue: diskQueueParam` in the writer's schema offers it.
 */
export const diskQueueParam = {
  type: 'string',
  minLength: 1,
  description: 'A folder (relative to the config file; one per writer) where the buffer is kept too, so a restart sends what an outage left',
} as const;

/** A list of names, such as interfaces or devices to include. */
export const namesParam = { type: 'array', items: { type: 'string' } } as const;

/**
 * The regex `source` compiled, or a ParamError naming `param`. The Python pollect's syntax
 * (`(?i)`, `(?P<name>...)`, `\Z`) is translated (see regex.ts) or refused here, at --check.
 */
export function compileRegex(param: string, source: string, flags?: string): RegExp {
  try {
    const js = translatePythonRegex(source);
    return new RegExp(js.source, [...new Set((flags ?? '') + js.flags)].join(''));
  } catch (err) {
    throw new ParamError(param, `invalid regex ${JSON.stringify(source)}: ${(err as Error).message.replace(/^Invalid regular expression: \/.*\/\w*: /s, '')}`);
  }
}

/** A path param resolved against the config file's directory. */
export function resolvePath(context: PluginContext, file: string): string {
  return path.resolve(context.configDir, file);
}

/** Reads a file a param names (relative to the config file): one that cannot be read is a config error. */
export function readParamFile(context: PluginContext, param: string, file: string): Buffer {
  const full = resolvePath(context, file);
  try {
    return readFileSync(full);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new ParamError(param, `cannot read ${full}: ${e.code === 'ENOENT' ? 'no such file' : e.code === 'EACCES' ? 'permission denied' : e.message}`);
  }
}

/**
 * Checks a host param: a name or an address, without a scheme, path or `:port` (a port has a
 * param of its own). Returns the host as it goes into a URL (an IPv6 address in brackets).
 */
export function checkHost(param: string, host: string): string {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(host) || host.includes('/')) {
    throw new ParamError(param, `"${host}" is not a host name or address (no scheme or path)`);
  }
  const withPort = /^(\[[^\]]*\]|[^:]*):(\d*)$/.exec(host);
  if (withPort) throw new ParamError(param, `"${host}" carries a port: give the host alone and the port in "port"`);
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
}

/** Parses a URL param whose scheme must be one of `protocols` (`['http:', 'https:']`). */
export function checkUrl(param: string, url: string, protocols: readonly string[]): URL {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new ParamError(param, 'not a valid URL');
  }
  if (!protocols.includes(parsed.protocol)) {
    throw new ParamError(param, `the URL must start with ${protocols.map((p) => `${p}//`).join(' or ')}`);
  }
  return parsed;
}

/**
 * The largest answer a network source accepts, in bytes: `maxBytes: maxBytesParam(1024 * 1024)` in
 * a schema. A larger one is that probe's error, never a daemon that reads without bound.
 */
export function maxBytesParam(defaultBytes: number, description = 'Largest answer accepted, in bytes') {
  return { type: 'integer', minimum: 1024, default: defaultBytes, description } as const;
}

/**
 * A client's TLS (PEM files, relative to the config file): the CA to verify the `peer` with and a
 * client certificate. `tls: clientTlsParam('...', 'server')` in a schema; readClientTls() reads it.
 */
export function clientTlsParam(description: string, peer: string) {
  return {
    type: 'object',
    description,
    properties: {
      ca: { type: 'string', minLength: 1, description: `CA certificate(s) to verify the ${peer} with, instead of the system ones` },
      cert: { type: 'string', minLength: 1, description: 'Client certificate (with key)' },
      key: { type: 'string', minLength: 1, description: 'Client private key (with cert)' },
      insecureSkipVerify: { type: 'boolean', default: false, description: `Accept any ${peer} certificate (testing only)` },
    },
    additionalProperties: false,
  } as const;
}

export interface ClientTls {
  ca?: string;
  cert?: string;
  key?: string;
  insecureSkipVerify: boolean;
}

/** The TLS options of clientTlsParam's files, read now (so --check finds one that cannot be read); the key is a secret. */
export function readClientTls(context: PluginContext, tls: ClientTls): { ca?: Buffer; cert?: Buffer; key?: Buffer; rejectUnauthorized: boolean } {
  if ((tls.cert === undefined) !== (tls.key === undefined)) {
    throw new ParamError(tls.cert ? 'tls.key' : 'tls.cert', 'a client certificate needs both cert and key');
  }
  const read = (which: 'ca' | 'cert' | 'key') => (tls[which] ? readParamFile(context, `tls.${which}`, tls[which]) : undefined);
  const key = read('key');
  if (key) registerSecret(key.toString('utf8').trim());
  return { ca: read('ca'), cert: read('cert'), key, rejectUnauthorized: !tls.insecureSkipVerify };
}
