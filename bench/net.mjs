// Loopback helpers for the benchmarks: a free port for a server they start, one scrape of a daemon.
import http from 'node:http';
import net from 'node:net';

/** Ports already handed out in this process. */
const handedOut = new Set();

/**
 * A loopback port that was free a moment ago, never one handed out before in this process: the
 * kernel's pick for listen(0) can repeat a port just closed (two named of one test once got one
 * port; side-by-side starts two named the same way).
 */
export async function freePort() {
  for (let tries = 0; tries < 100; tries++) {
    const port = await kernelPort();
    if (!handedOut.has(port)) {
      handedOut.add(port);
      return port;
    }
  }
  throw new Error('listen(0) kept giving ports already handed out');
}

function kernelPort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/**
 * One scrape of a daemon's /metrics as Prometheus asks (gzip; a kept-alive connection with `agent`),
 * the body read and dropped. A failure (not listening yet, 5 s without an answer) is not an error here.
 */
export function scrape(port, agent) {
  return new Promise((resolve) => {
    const req = http.get({ agent, host: '127.0.0.1', port, path: '/metrics', headers: { 'Accept-Encoding': 'gzip' } }, (r) => {
      r.resume();
      r.on('end', resolve);
    });
    req.setTimeout(5000, () => req.destroy());
    req.on('error', resolve);
  });
}
