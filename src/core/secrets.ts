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

const secrets = new Set<string>();

/** Registers a value that must never be printed. Short values are ignored to keep logs readable. */
export function registerSecret(value: string): void {
  if (value.length >= 3) secrets.add(value);
}

/** `***` in place of every registered secret, plain or URL-encoded. */
export function redact(text: string): string {
  let out = text;
  for (const s of secrets) {
    if (out.includes(s)) out = out.split(s).join('***');
    const enc = encodeURIComponent(s);
    if (enc !== s && out.includes(enc)) out = out.split(enc).join('***');
  }
  return out;
}

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
    for (const [k, v] of Object.entries(value)) registerSecretsIn(v, k);
  }
}

function registerUrlPassword(text: string): void {
  if (!text.includes('@') || !text.includes('://')) return;
  try {
    const { password } = new URL(text);
    if (!password) return;
    registerSecret(password);
    registerSecret(decodeURIComponent(password));
  } catch {
    // not a URL
  }
}
