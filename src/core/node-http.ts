// node:http and node:https as require() loads them, for every HTTP client and server in pollect.
// Since Node 22, `import 'node:http'` builds the module's ES namespace by reading every export,
// which runs the lazy `WebSocket`, `MessageEvent`... getters and loads undici, TLS and crypto with
// them: on Node 24 that is 17 MB of RSS against 3.7 MB for require() (bench/README.md).
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

export const http: typeof import('node:http') = require('node:http');

/** node:https, loaded on the first call: it brings TLS and crypto, which plain HTTP does without. */
export function https(): typeof import('node:https') {
  return require('node:https');
}
