// Self-signed test certificates, made by openssl in a test's own folder. EC P-256 keys: an RSA key
// takes openssl a second or more to make on a busy machine.
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';

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

const EC = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

/** A test CA in `dir` (`<name>.key`, `<name>.pem`), for certificates made with signedBy(). */
export function certificateAuthority(dir: string, name = 'ca'): { key: string; cert: string } {
  const key = `${name}.key`;
  const cert = `${name}.pem`;
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      ...EC,
      '-keyout',
      key,
      '-out',
      cert,
      '-days',
      '1',
      '-subj',
      `/CN=pollect test ${name}`,
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
    ],
    { cwd: dir, stdio: 'pipe', timeout: 30_000 },
  );
  return { key, cert };
}

/**
 * A key and a certificate signed by `ca` (from certificateAuthority), in `dir` as `<name>.key` and
 * `<name>.pem`: a server's (for 127.0.0.1 and localhost) or, with `client`, a client's.
 */
export function signedBy(dir: string, ca: { key: string; cert: string }, name: string, opts: { client?: boolean } = {}): { key: string; cert: string } {
  const key = `${name}.key`;
  const cert = `${name}.pem`;
  const ext = `${name}.ext`;
  writeFileSync(
    path.join(dir, ext),
    opts.client ? 'extendedKeyUsage=clientAuth\n' : 'extendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1,DNS:localhost\n',
  );
  const run = (args: string[]): void => void execFileSync('openssl', args, { cwd: dir, stdio: 'pipe', timeout: 30_000 });
  run(['req', '-new', ...EC, '-keyout', key, '-out', `${name}.csr`, '-subj', `/CN=${name}`]);
  run(['x509', '-req', '-in', `${name}.csr`, '-CA', ca.cert, '-CAkey', ca.key, '-CAcreateserial', '-out', cert, '-days', '1', '-extfile', ext]);
  return { key, cert };
}
