// The Prometheus endpoint with 200 concurrent scrapes beside a client that sends its request
// headers a byte at a time (issue 11), in a real daemon (test/helpers/prometheus-daemon.ts): every
// scrape is answered, the trickle is cut off at the headers timeout, no tick is missed. Its own
// file, so that its wait for the headers timeout runs beside the other attacks, not after them.
import { describe, expect, it } from 'vitest';
import net from 'node:net';
import { HTTP_LIMITS } from '../../src/core/http-server.js';
import { statuses } from '../helpers/hostile-http.js';
import { missed, SERIES, scrape, startDaemon, TICK, ticks } from '../helpers/prometheus-daemon.js';

describe('Prometheus endpoint under a byte-by-byte client (a real daemon, ~20k series, tickTime 1)', () => {
  it('200 concurrent scrapes beside a client sending its headers byte by byte: all answered, the trickle cut off at the headers timeout, no tick missed', async () => {
    const { port, ticksFile } = await startDaemon();
    const from = Date.now();
    // One byte every 100 ms, never finishing its headers: each byte is activity, so only a deadline
    // on the whole head (headersTimeout), not an idle timeout, ends it.
    const head = Buffer.from(`GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ${'a'.repeat(4000)}`);
    const trickle = net.connect({ port, host: '127.0.0.1' });
    let sent = 0;
    let answer = '';
    trickle.on('error', () => {});
    trickle.on('data', (d: Buffer) => (answer += d.toString('latin1')));
    const drip = setInterval(() => {
      if (sent < head.length && !trickle.destroyed) trickle.write(head.subarray(sent, ++sent));
    }, 100);
    const closed = new Promise<number>((resolve) => trickle.once('close', () => resolve(Date.now())));
    try {
      // Two rounds of 200 scrapes at once, while the trickle goes on.
      const rounds: { status: number; series: boolean }[][] = [];
      for (let round = 0; round < 2; round++) {
        const answers = await Promise.all(Array.from({ length: 200 }, () => scrape(port).catch(() => ({ status: 0, body: '' }))));
        rounds.push(answers.map((a) => ({ status: a.status, series: a.body.includes(`pollect_prometheus_series{writer="Prometheus"} ${SERIES}`) })));
        await new Promise((r) => setTimeout(r, TICK * 1000));
      }
      expect(trickle.destroyed, 'the trickle was still sending during the scrapes').toBe(false);
      const end = await Promise.race([closed, new Promise<number>((r) => setTimeout(() => r(0), 3 * HTTP_LIMITS.headersTimeout * 1000))]);
      const to = Date.now();
      await new Promise((r) => setTimeout(r, 2 * TICK * 1000));
      const lost = missed(ticks(ticksFile), from, to);
      const took = end - from;
      console.log(
        `byte by byte: ${sent} bytes sent; ${end ? `closed after ${(took / 1000).toFixed(1)} s` : 'never closed'}, answered ${statuses(answer).join(',') || 'nothing'}; 2 x 200 scrapes: ${rounds.map((r) => r.filter((a) => a.status === 200 && a.series).length).join(' and ')} answered whole; ${lost} ticks missed`,
      );
      for (const r of rounds) expect(r.filter((a) => a.status === 200 && a.series)).toHaveLength(200);
      // Closed with 408 at the deadline (checked every headersTimeout / 2 s), not before, not never.
      expect(end, 'the daemon never closed the trickling connection').toBeGreaterThan(0);
      expect(statuses(answer)).toEqual([408]);
      expect(took).toBeGreaterThanOrEqual(HTTP_LIMITS.headersTimeout * 1000 - 500);
      expect(took).toBeLessThan(HTTP_LIMITS.headersTimeout * 1500 + 3000);
      expect(sent).toBeLessThan(head.length);
      expect(lost).toBe(0);
    } finally {
      clearInterval(drip);
      trickle.destroy();
    }
  }, 60_000);
});
