// Benchmark of the Dramatiq source (run `npm run build` first): starts its own redis-server on a
// free port (temp dir, no persistence), fills BENCH_QUEUES queues (default 300) the way Dramatiq's
// broker does (each with waiting, delayed and dead-lettered messages, plus 10000 unrelated keys),
// then times BENCH_PROBES probes (default 200): wall time per probe and CPU time in pollect's process.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { DramatiqSource } = await import(join(root, 'dist/sources/dramatiq/index.js'));
const { buildSource } = await import(join(root, 'dist/config/build.js'));
const { createLogger } = await import(join(root, 'dist/log.js'));
const { Redis } = await import('ioredis');
const queues = Number(process.env.BENCH_QUEUES ?? 300);
const probes = Number(process.env.BENCH_PROBES ?? 200);

const port = await new Promise((resolve) => {
  const s = net.createServer().listen(0, '127.0.0.1', () => {
    const p = s.address().port;
    s.close(() => resolve(p));
  });
});
const dir = mkdtempSync(join(tmpdir(), 'pollect-bench-dramatiq-'));
const server = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], { stdio: 'ignore' });
try {
  const r = new Redis({ port, host: '127.0.0.1', retryStrategy: (n) => (n > 50 ? null : 100) });
  const p = r.pipeline();
  for (let q = 0; q < queues; q++) {
    for (let m = 0; m < 20; m++) {
      p.hset(`dramatiq:q${q}.msgs`, `id${m}`, '{"actor_name":"x"}');
      p.rpush(`dramatiq:q${q}`, `id${m}`);
    }
    p.hset(`dramatiq:q${q}.DQ.msgs`, 'd1', '{}');
    p.rpush(`dramatiq:q${q}.DQ`, 'd1');
    p.zadd(`dramatiq:q${q}.XQ`, Date.now(), 'x1');
    p.hset(`dramatiq:q${q}.XQ.msgs`, 'x1', '{}');
  }
  for (let k = 0; k < 10000; k++) p.set(`cache:${k}`, 'v');
  await p.exec();
  r.disconnect();

  const log = createLogger('bench', { level: 'error', write: () => {} });
  const src = await buildSource(DramatiqSource, { type: 'Dramatiq', host: '127.0.0.1', port });
  await src.init({ log, tickTime: 1, configDir: dir });
  const ctx = () => ({ signal: AbortSignal.timeout(5000), timeoutMs: 5000, tickTime: 1, log });
  const first = await src.probe(ctx());
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < probes; i++) await src.probe(ctx());
  const wallMs = Number(process.hrtime.bigint() - t0) / 1e6;
  const cpu = process.cpuUsage(cpu0);
  await src.shutdown();
  console.log(
    `${queues} queues (${first.length} samples per probe, 10000 unrelated keys): ${(wallMs / probes).toFixed(2)} ms per probe, ` +
      `${((cpu.user + cpu.system) / 1000 / probes).toFixed(2)} ms CPU per probe in pollect's process`,
  );
} finally {
  server.kill('SIGTERM');
  rmSync(dir, { recursive: true, force: true });
}
