// What a pipelining flood costs the shared HTTP server (src/core/http-server.ts) that the
// Prometheus writer and HttpIngress listen on: clients that send 500 GETs on a connection without
// waiting for an answer (and drop what comes back). pollect answers 16 per connection and closes it;
// Node still parses what the connection had sent. Compared in the same run with a plain node:http
// server that answers every request (what such a client costs without the cap; a client that never
// reads would hold that server's connection forever). Each server runs in a child process
// of its own, so the CPU figure is the server's alone; the longest stall is how late a 10 ms timer
// in the server fired, the wait a tick would see.
// Run: npm run bench:pipelining   (ROUNDS=5 CONNECTIONS=40 PIPELINED=500)
import { fork } from 'node:child_process';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { statCpuMs } from './procstat.mjs';

const ROUNDS = Number(process.env.ROUNDS ?? 5);
const CONNECTIONS = Number(process.env.CONNECTIONS ?? 40);
const PIPELINED = Number(process.env.PIPELINED ?? 500);

if (process.argv[2] === 'serve') {
  // The server side: prints its port, then its longest stall when asked.
  const body = 'up 1\n';
  const handler = (_req, res) => res.end(body);
  let server;
  if (process.argv[3] === 'pollect') {
    const { createHttpServer } = await import('../dist/core/http-server.js');
    server = createHttpServer(handler);
  } else {
    server = (await import('node:http')).createServer(handler);
  }
  let last = performance.now();
  let stall = 0;
  setInterval(() => {
    const now = performance.now();
    stall = Math.max(stall, now - last - 10);
    last = now;
  }, 10);
  server.listen(0, '127.0.0.1', () => process.send({ port: server.address().port }));
  process.on('message', () => process.send({ stall }));
} else {
  const request = 'GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: flood\r\n\r\n';
  const payload = request.repeat(PIPELINED);

  /** One round: CONNECTIONS connections at once, each sending PIPELINED requests, answers dropped. */
  function round(port) {
    return Promise.all(
      Array.from(
        { length: CONNECTIONS },
        () =>
          new Promise((resolve) => {
            const c = net.connect(port, '127.0.0.1', () => c.write(payload, () => c.end()));
            c.resume();
            c.on('error', () => {});
            c.on('close', resolve);
          }),
      ),
    );
  }

  async function run(kind) {
    const child = fork(fileURLToPath(import.meta.url), ['serve', kind], { stdio: 'inherit' });
    const { port } = await new Promise((resolve) => child.once('message', resolve));
    await round(port); // warm
    const before = statCpuMs(child.pid);
    const t0 = performance.now();
    for (let i = 0; i < ROUNDS; i++) await round(port);
    const wall = performance.now() - t0;
    const cpu = statCpuMs(child.pid) - before;
    child.send('stall?');
    const { stall } = await new Promise((resolve) => child.once('message', resolve));
    child.kill();
    return { cpu, wall, stall };
  }

  const requests = ROUNDS * CONNECTIONS * PIPELINED;
  console.log(`${ROUNDS} rounds of ${CONNECTIONS} connections at once, ${PIPELINED} pipelined GETs each, answers dropped`);
  for (let i = 0; i < 2; i++) {
    for (const kind of ['pollect', 'node:http']) {
      const { cpu, wall, stall } = await run(kind);
      console.log(
        `${kind.padEnd(9)}: ${(cpu / (requests / 1000)).toFixed(1)} ms CPU per 1,000 requests (${Math.round(cpu)} ms, ${Math.round(wall)} ms wall), longest stall ${Math.round(stall)} ms`,
      );
    }
  }
}
