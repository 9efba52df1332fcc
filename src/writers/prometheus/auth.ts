// HTTP Basic auth against bcrypt-hashed passwords, as the `basic_auth_users` of Prometheus'
// exporter-toolkit web config files (the same hashes work). bcrypt is slow on purpose (about
// 0.1 s of CPU per check at cost 10 in pure JavaScript, run in a child process, see
// bcrypt-process.ts), so a successful check is remembered for
// a short while, keyed by an HMAC of user and password under a key made at start: a scraper
// that sends the same credentials every 15 s costs one bcrypt check per CACHE_MS, not one per
// scrape. Checks not remembered run a few at a time; past that a request is answered 503, so a
// client guessing passwords cannot take the CPU. Neither the password nor its HMAC is ever logged.
import { createHmac, randomBytes } from 'node:crypto';
import { BcryptProcess } from './bcrypt-process.js';

// The check of the param, which --check runs, is in users.ts: this module (node:crypto, the child
// process) is loaded only when basic auth is configured.
export { checkUsers } from './users.js';

/** How long a successful check is remembered: longer than the usual scrape intervals (15 s to 1 min). */
export const CACHE_MS = 120_000;
/** Credentials remembered at most (one or two scrapers in practice). */
const CACHE_SIZE = 64;
/** bcrypt checks under way at once; a request that would need one more is answered 503 at once. */
export const MAX_CHECKS = 4;

export type Verdict = 'ok' | 'denied' | 'busy';

export interface BasicAuthOptions {
  /** Milliseconds since the epoch (tests pass their own clock). */
  now?: () => number;
  /** Whether a password matches a bcrypt hash; default: bcryptjs in a child process. */
  compare?: (password: string, hash: string) => Promise<boolean>;
}

export class BasicAuth {
  private readonly users: Map<string, string>;
  /** Checks an unknown user against, so that it takes as long as a known one. */
  private readonly decoy: string;
  private readonly key = randomBytes(32);
  /** HMAC of user and password → when the success expires; oldest first. */
  private readonly cache = new Map<string, number>();
  /** Checks running, by HMAC: the same credentials arriving again share one check. */
  private readonly running = new Map<string, Promise<boolean>>();

  private readonly now: () => number;
  private readonly compare: (password: string, hash: string) => Promise<boolean>;
  private readonly checker: BcryptProcess | undefined;

  constructor(users: Readonly<Record<string, string>>, opts: BasicAuthOptions = {}) {
    this.users = new Map(Object.entries(users));
    this.decoy = this.users.values().next().value!;
    this.now = opts.now ?? Date.now;
    if (opts.compare) {
      this.compare = opts.compare;
    } else {
      const checker = new BcryptProcess();
      this.checker = checker;
      this.compare = (password, hash) => checker.compare(password, hash);
    }
  }

  /** Ends the checking process, if one runs. */
  close(): void {
    this.checker?.close();
  }

  /** The verdict on an `Authorization` header: at once when it is malformed or remembered, else after bcrypt. */
  check(header: string | undefined): Verdict | Promise<Verdict> {
    const cred = parseBasic(header);
    if (!cred) return 'denied';
    const mac = createHmac('sha256', this.key).update(cred.user).update('\0').update(cred.password).digest();
    const id = mac.toString('base64');
    const expires = this.cache.get(id);
    if (expires !== undefined) {
      if (expires > this.now()) return 'ok';
      this.cache.delete(id);
    }
    const same = this.running.get(id);
    if (same) return same.then((ok) => (ok ? 'ok' : 'denied'));
    if (this.running.size >= MAX_CHECKS) return 'busy';
    const hash = this.users.get(cred.user);
    const check = this.compare(cred.password, hash ?? this.decoy)
      .then((match) => {
        // An unknown user is never let in, even with the password of the decoy's user.
        const ok = match && hash !== undefined;
        if (ok) this.remember(id);
        return ok;
      })
      .finally(() => this.running.delete(id));
    this.running.set(id, check);
    return check.then((ok) => (ok ? 'ok' : 'denied'));
  }

  private remember(id: string): void {
    this.cache.delete(id);
    this.cache.set(id, this.now() + CACHE_MS);
    if (this.cache.size > CACHE_SIZE) this.cache.delete(this.cache.keys().next().value!);
  }
}

/** User and password of a `Basic` Authorization header, or undefined. */
function parseBasic(header: string | undefined): { user: string; password: string } | undefined {
  const m = /^Basic +([A-Za-z0-9+/]+=*) *$/i.exec(header ?? '');
  if (!m) return undefined;
  const text = Buffer.from(m[1]!, 'base64').toString('utf8');
  const colon = text.indexOf(':');
  if (colon < 0) return undefined;
  return { user: text.slice(0, colon), password: text.slice(colon + 1) };
}
