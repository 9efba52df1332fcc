// Self-signed test certificates, made by openssl in a test's own folder. EC P-256 keys: an RSA key
// takes openssl a second or more to make on a busy machine.
import { execFileSync } from 'node:child_process';

export interface SelfSignedOptions {
  /** File names in `dir`. */
  key?: string;
  cert?: string;
  /** The certificate's common name. */
  cn?: string;
  /** subjectAltName, openssl's syntax. */
  san?: string;
  days?: number;
}

/** Makes a key and a certificate in `dir`; returns their file names, relative to `dir`. */
export function selfSigned(dir: string, opts: SelfSignedOptions = {}): { key: string; cert: string } {
  const { key = 'key.pem', cert = 'cert.pem', cn = 'localhost', san = 'IP:127.0.0.1,DNS:localhost', days = 1 } = opts;
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-keyout',
      key,
      '-out',
      cert,
      '-days',
      String(days),
      '-subj',
      `/CN=${cn}`,
      '-addext',
      `subjectAltName=${san}`,
    ],
    { cwd: dir, stdio: 'pipe', timeout: 30_000 },
  );
  return { key, cert };
}
