// The Prometheus endpoint under a few hundred slow-header sockets (issue 17 item 6), in a real
// daemon (test/helpers/prometheus-daemon.ts): the connection cap keeps descriptors for the
// daemon's own work, a normal scrape succeeds and no tick is missed. Its own file, so that it
// runs beside the pipelining test instead of after it.
import { describe, expect, it } from 'vitest';
import { crowd, type SocketCrowd } from '../helpers/hostile-http.js';
import { missed, openFds, SERIES, scrape, startDaemon, TICK, ticks } from '../helpers/prometheus-daemon.js';

describe('Prometheus endpoint under slow-header sockets (a real daemon, ~20k series, tickTime 1)', () => {
  it('a few hundred slow-header sockets: a normal scrape succeeds, descriptors stay bounded, no tick missed', async () => {
    const { port, pid, ticksFile } = await startDaemon();
    const fdsBefore = openFds(pid);
    const from = Date.now();
    const crowds: SocketCrowd[] = [];
    let maxFds = 0;
    try {
      for (let i = 0; i < 4; i++) {
        crowds.push(await crowd(port, 150, 'GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n'));
        maxFds = Math.max(maxFds, openFds(pid));
      }
      const ok = await scrape(port);
      maxFds = Math.max(maxFds, openFds(pid));
      expect(ok.status).toBe(200);
      expect(ok.body).toContain(`pollect_prometheus_series{writer="Prometheus"} ${SERIES}`);
      await new Promise((r) => setTimeout(r, 4 * TICK * 1000));
      maxFds = Math.max(maxFds, openFds(pid));
    } finally {
      for (const c of crowds) c.destroy();
    }
    const to = Date.now();
    await new Promise((r) => setTimeout(r, 2 * TICK * 1000));
    const lost = missed(ticks(ticksFile), from, to);
    console.log(`slow headers: ${fdsBefore} descriptors before, at most ${maxFds} with 600 sockets; ${lost} ticks missed`);
    // The connection cap (256) and a few for the daemon's own work.
    expect(maxFds - fdsBefore).toBeLessThanOrEqual(256 + 8);
    expect(lost).toBe(0);
  }, 60_000);
});
