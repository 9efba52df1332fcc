// The `basicAuthUsers` param, checked when the writer is built (so `pollect --check` finds a bad
// hash) without loading what checks passwords (auth.ts: node:crypto and a child process), which
// the writer loads at start only when basic auth is configured.
import { ParamError } from '../../sdk/index.js';

/** `$2y$10$` (or `$2a$`, `$2b$`), then 22 characters of salt and 31 of hash, in bcrypt's base64. */
const BCRYPT_HASH = /^\$2[aby]\$(0[4-9]|[12]\d|3[01])\$[./A-Za-z0-9]{53}$/;

/** Checks the `basicAuthUsers` param: user names without `:`, values in bcrypt's form. */
export function checkUsers(users: Readonly<Record<string, string>>, param: string): void {
  for (const [user, hash] of Object.entries(users)) {
    if (user.includes(':')) throw new ParamError(`${param}.${user}`, 'a user name cannot contain ":" (HTTP Basic auth separates user and password with it)');
    if (!BCRYPT_HASH.test(hash)) {
      throw new ParamError(`${param}.${user}`, 'not a bcrypt hash ("$2y$10$" and 53 more characters); make one with `htpasswd -nBC 10 "" | tr -d \':\\n\'`');
    }
  }
}
