// A local HTTP receiver for push writer tests: records each request and answers as the test says,
// including the ways a peer goes wrong: a status, garbage that is not HTTP, or no answer at all.
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface Received {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** How to answer one request: a status (and body), `garbage` (bytes that are not HTTP), or `hang` (never answer). */
export type Answer = { status: number; body?: string; headers?: Record<string, string> } | 'garbage' | 'hang';

export interface Receiver {
  url: string;
  requests: Received[];
  /** The answer to the next requests; 204 unless set. */
  answer: Answer;
  close(): Promise<void>;
}

export async function receiver(): Promise<Receiver> {
  const sockets = new Set<Socket>();
  const r: Receiver = {
    url: '',
    requests: [],
    answer: { status: 204 },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      r.requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      const a = r.answer;
      if (a === 'hang') return;
      if (a === 'garbage') {
        req.socket.end('this is not HTTP\r\n\r\n');
        return;
      }
      res.writeHead(a.status, { 'Content-Type': 'text/plain', ...a.headers });
      res.end(a.body ?? '');
    });
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  r.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return r;
}
