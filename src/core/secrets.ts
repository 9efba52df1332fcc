// The one secret policy. A value is secret when its key says so (a param, an Exec environment
// variable or an HTTP header named like a password, token or key), or when it is the password of
// a URL. The config loader registers every such value of the config once; the logger and error
// messages pass their text through redact(). A plugin registers a value itself only when it
// derives one at run time (a token it fetched).

/**
 * Key names whose values are secret: `password`, `authPassPhrase`, `DB_PASS`, `token`,
 * `communityString`, `API_KEY`, `Authorization`, `Cookie` ... (not `key`, `cert` or `ca`: those
 * name files).
 */
const SECRET_KEY = /pass(word|wd|phrase)?$|secret|token|credential|community|api[-_]?key|access[-_]?key|authorization|cookie|session/i;

export function isSecretKey(key: string): boolean {
  return SECRET_KEY.test(key);
}

/** Longest first: a secret that contains another (a token containing `secret`) is replaced whole, not around the shorter one. */
let secrets: string[] = [];

/** Registers a value that must never be printed. Short values are ignored to keep logs readable. */
export function registerSecret(value: string): void {
  if (value.length < 3 || secrets.includes(value)) return;
  secrets = [...secrets, value].sort((a, b) => b.length - a.length);
}

/** Forgets every registered secret, as a new process starts: for test files that share a process. */
export function forgetSecrets(): void {
  secrets = [];
}

/** `***` in place of every registered secret: plain, URL-encoded, or escaped in a JSON string (a server echoing the request body). */
export function redact(text: string): string {
  let out = text;
  for (const s of secrets) {
    for (const form of spellings(s)) if (out.includes(form)) out = out.split(form).join('***');
  }
  return out;
}

function spellings(s: string): Set<string> {
  return new Set([s, encodeURIComponent(s), JSON.stringify(s).slice(1, -1)]);
}

/** A user and password as an HTTP Basic credential (`dXNlcjpwYXNz`), which a server may echo. */
function registerBasic(user: string, password: string): void {
  if (password.length >= 3) registerSecret(Buffer.from(`${user}:${password}`).toString('base64'));
}

const USER_KEY = /^(user(name)?|login|auth_?user)$/i;

/**
 * Registers the secrets of a config (or any part of it): every string under a secret key, the
 * credential of an `Authorization`-style value (`Bearer abc`: `abc` too), and the password of
 * every URL.
 */
export function registerSecretsIn(value: unknown, key = ''): void {
  if (typeof value === 'string') {
    if (isSecretKey(key)) {
      registerSecret(value);
      const credential = /^\S+\s+(\S.*)$/.exec(value)?.[1];
      if (credential) registerSecret(credential);
    }
    registerUrlPassword(value);
  } else if (Array.isArray(value)) {
    for (const v of value) registerSecretsIn(v, key);
  } else if (value && typeof value === 'object') {
    const entries = Object.entries(value);
    for (const [k, v] of entries) registerSecretsIn(v, k);
    // A user and a password side by side may travel as a Basic credential.
    const user = entries.find(([k, v]) => USER_KEY.test(k) && typeof v === 'string')?.[1] as string | undefined;
    if (user !== undefined) {
      for (const [k, v] of entries) if (typeof v === 'string' && isSecretKey(k)) registerBasic(user, v);
    }
  }
}

function registerUrlPassword(text: string): void {
  if (!text.includes('@') || !text.includes('://')) return;
  try {
    const { username, password } = new URL(text);
    if (!password) return;
    registerSecret(password);
    registerSecret(decodeURIComponent(password));
    registerBasic(decodeURIComponent(username), decodeURIComponent(password));
  } catch {
    // not a URL
  }
}

/** The daemon's variables a child sees: where to find programs, who and where it is, its locale. */
const CHILD_ENV = /^(PATH|HOME|USER|LOGNAME|SHELL|LANG|LANGUAGE|TZ|TMPDIR|LC_\w+)$/;

/**
 * The environment of a child process (Exec): a minimal part of the daemon's own, the variables
 * the config names in `pass`, then `extra`. Never the whole environment: the daemon's may hold
 * secrets (OS_PASSWORD) that any script could read in /proc/<pid>/environ.
 */
export function childEnvironment(
  extra: Record<string, string | undefined>,
  pass: readonly string[] = [],
  env: NodeJS.ProcessEnv = process.env,
): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(env)) if (CHILD_ENV.test(k) || pass.includes(k)) out[k] = v;
  return { ...out, ...extra };
}
