// Otel: a 30 s outage of an OTLP/HTTP receiver at a 1 s tick, and the same with pollect killed
// (SIGKILL) and restarted halfway through it (diskQueue): every sample pollect made reached the
// receiver, which decodes the requests with the official OTLP definitions.
import { describe, expect, it } from 'vitest';
import http from 'node:http';
import { freePort } from '../helpers/net.js';
import { decodeRequest } from '../helpers/otlp.js';
import { outage, type Backend } from '../helpers/outage.js';
import { report } from './report.js';

interface Request {
  resourceMetrics: { scopeMetrics: { metrics: { gauge?: { dataPoints: { asDouble: number }[] } }[] }[] }[];
}

async function receiver(): Promise<{ backend: Backend; url: string }> {
  const port = await freePort();
  const got: number[] = [];
  let server: http.Server | undefined;
  const backend: Backend = {
    async start() {
      server = http.createServer((req, res) => {
        const chunks: Buffer[] = [];
        req.on('data', (d: Buffer) => chunks.push(d));
        req.on('end', () => {
          const r = decodeRequest(Buffer.concat(chunks)) as Request;
          for (const rm of r.resourceMetrics)
            for (const sm of rm.scopeMetrics) for (const m of sm.metrics) for (const dp of m.gauge?.dataPoints ?? []) got.push(dp.asDouble);
          res.writeHead(200, { 'Content-Type': 'application/x-protobuf' });
          res.end();
        });
      });
      await new Promise<void>((resolve) => server!.listen(port, '127.0.0.1', resolve));
    },
    async stop() {
      const s = server!;
      s.closeAllConnections();
      await new Promise<void>((resolve) => s.close(() => resolve()));
    },
    values: async () => got,
  };
  return { backend, url: `http://127.0.0.1:${port}/v1/metrics` };
}

describe('Otel through a 30 s receiver outage', () => {
  for (const kill of [false, true]) {
    it.concurrent(kill ? 'pollect killed and restarted during it (diskQueue): nothing lost' : 'nothing lost', async () => {
      const { backend, url } = await receiver();
      try {
        const r = await outage({ writer: { type: 'Otel', endpoint: url, timeout: 2 }, backend, kill });
        report('Otel', kill, r);
        expect(r.missing).toEqual([]);
        expect(r.made).toBeGreaterThanOrEqual(35);
      } finally {
        await backend.stop().catch(() => {});
      }
    });
  }
});
