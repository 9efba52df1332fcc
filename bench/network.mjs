// Benchmark of the network sources (run `npm run build` first), all on loopback:
// - HttpIngress: pushes per second from BENCH_CLIENTS concurrent keep-alive clients (default 8),
//   each push one counter increment for one of 1000 label sets, then the cost of a probe;
// - Http: one probe of BENCH_URLS URLs (default 500) of a local server answering after 20 ms,
//   at the default concurrency of 16 and at 64;
// - TcpTime: probes per second against a local listener.
import http from 'node:http';
import net from 'node:net';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { HttpIngressSource } = await import(join(root, 'dist/sources/httpingress/index.js'));
const { HttpSource } = await import(join(root, 'dist/sources/http/index.js'));
const { TcpTimeSource } = await import(join(root, 'dist/sources/tcptime/index.js'));
const { buildSource } = await import(join(root, 'dist/config/build.js'));
const { createLogger } = await import(join(root, 'dist/log.js'));
const log = createLogger('bench', { level: 'error', write: () => {} });
const ctx = () => ({ signal: AbortSignal.timeout(120_000), timeoutMs: 120_000, tickTime: 10, log });

// HttpIngress
{
  const clients = Number(process.env.BENCH_CLIENTS ?? 8);
  const pushes = 20_000;
  const src = await buildSource(HttpIngressSource, { type: 'HttpIngress', port: 0, metrics: { jobs: { type: 'counter', labels: ['worker'] } } });
  await src.init({ log, tickTime: 10, configDir: root });
  const agent = new http.Agent({ keepAlive: true, maxSockets: clients });
  let next = 0;
  const push = (i) =>
    new Promise((resolve, reject) => {
      const body = JSON.stringify({ metrics: { jobs: { value: 1, labels: { worker: `w${i % 1000}` } } } });
      const req = http.request(
        {
          host: '127.0.0.1',
          port: src.boundPort,
          method: 'POST',
          agent,
          headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
        },
        (res) => {
          res.resume();
          res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`status ${res.statusCode}`))));
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  const t0 = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (next < pushes) await push(next++);
    }),
  );
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  const p0 = process.hrtime.bigint();
  const samples = src.probe(ctx());
  const pms = Number(process.hrtime.bigint() - p0) / 1e6;
  const total = samples.reduce((a, s) => a + s.value, 0);
  console.log(
    `HttpIngress: ${pushes} pushes from ${clients} clients in ${ms.toFixed(0)} ms, ${Math.round(pushes / (ms / 1000)).toLocaleString('en')} pushes/s; probe of ${samples.length} label sets ${pms.toFixed(2)} ms (sum ${total})`,
  );
  agent.destroy();
  await src.shutdown();
}

// Http
{
  const urls = Number(process.env.BENCH_URLS ?? 500);
  const server = http.createServer((req, res) => setTimeout(() => res.end('ok'), 20));
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${server.address().port}`;
  for (const concurrency of [16, 64]) {
    const src = await buildSource(HttpSource, { type: 'Http', url: Array.from({ length: urls }, (_, i) => `${base}/u${i}`), concurrency });
    await src.init({ log, tickTime: 10, configDir: root });
    const t0 = process.hrtime.bigint();
    const samples = await src.probe(ctx());
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    const ok = samples.filter((s) => s.name === 'success' && s.value === 1).length;
    console.log(`Http: ${urls} URLs (20 ms each) at concurrency ${concurrency}: ${ms.toFixed(0)} ms per probe, ${ok} ok`);
  }
  server.closeAllConnections();
  server.close();
}

// TcpTime
{
  const server = net.createServer((s) => s.destroy());
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const src = await buildSource(TcpTimeSource, { type: 'TcpTime', host: '127.0.0.1', port: server.address().port });
  const n = 2000;
  const values = [];
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) values.push((await src.probe(ctx()))[0].value);
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  values.sort((a, b) => a - b);
  console.log(
    `TcpTime: ${n} probes in ${ms.toFixed(0)} ms; connect time median ${values[n >> 1].toFixed(3)} ms, p99 ${values[Math.floor(n * 0.99)].toFixed(3)} ms`,
  );
  server.close();
}
