// The one-time login: a listener on the OAuth redirect URI (http://localhost:<port>/...) that takes
// the authorization code the browser brings back and hands it on at once (Viessmann's codes are
// valid for seconds, too short to copy by hand into a config).
import type { Server } from 'node:http';
import { http } from '../../core/node-http.js';

const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]']);

/** Why `callbackUrl` cannot be listened on, or undefined when it can. */
export function callbackProblem(callbackUrl: string): string | undefined {
  const u = new URL(callbackUrl);
  if (u.protocol !== 'http:' || !LOOPBACK.has(u.hostname) || !u.port) {
    return `callback_url ${callbackUrl} is not http://localhost:<port>/...: register such a redirect URI for your client at Viessmann and set it here, so pollect can take the code`;
  }
  return undefined;
}

/**
 * Listens on the callback URL's port (loopback only) until `onCode` resolves for a code; a
 * request without a code, on another path, or whose code fails is answered with an error and the
 * listener waits for the next.
 */
export async function listenForCode(callbackUrl: string, onCode: (code: string) => Promise<void>): Promise<Server> {
  const u = new URL(callbackUrl);
  const server = http.createServer((req, res) => {
    const got = new URL(req.url ?? '/', callbackUrl);
    const code = got.searchParams.get('code');
    const reply = (status: number, text: string): void => void res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8' }).end(`${text}\n`);
    if (req.method !== 'GET' || got.pathname !== u.pathname) return reply(404, 'not the pollect Viessmann callback');
    if (!code)
      return reply(
        400,
        `no code: ${got.searchParams.get('error_description') ?? got.searchParams.get('error') ?? 'open the login URL pollect logged'}`.slice(0, 300),
      );
    onCode(code).then(
      () => {
        reply(200, 'pollect is authorized at Viessmann; you can close this page.');
        server.close();
      },
      (err: Error) => reply(502, `pollect could not get a token: ${err.message}`),
    );
  });
  server.headersTimeout = 10_000;
  server.requestTimeout = 60_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(Number(u.port), u.hostname === 'localhost' ? '127.0.0.1' : u.hostname.replace(/^\[|\]$/g, ''), () => {
      server.off('error', reject);
      resolve();
    });
  });
  return server;
}
