// Loopback helpers for the benchmarks: a free port for a server they start, one scrape of a daemon.
import http from 'node:http';
import net from 'node:net';

export function freePort() {
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
