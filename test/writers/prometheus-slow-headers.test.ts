// The Prometheus endpoint under a few hundred slow-header sockets (issue 17 item 6), in a real
// daemon (test/helpers/prometheus-daemon.ts): the connection cap keeps descriptors for the
// daemon's own work, a normal scrape succeeds and no tick is missed. Its own file, so that it runs
// beside the pipelining test instead of after it.
import { describe, expect, it } from 'vitest';
import { crowd, type SocketCrowd } from '../helpers/hostile-http.js';
import { missed, openFds, openSockets, SERIES, scrape, startDaemon, TICK, ticks } from '../helpers/prometheus-daemon.js';

describe('Prometheus endpoint under slow-header sockets (a real daemon, ~20k series, tickTime 1)', () => {
  it('a few hundred slow-header sockets: a normal scrape succeeds, descriptors stay bounded, no tick missed', async () => {
    const { port, pid, ticksFile } = await startDaemon();
    const fdsBefore = openFds(pid);
    const socketsBefore = openSockets(pid);
    const from = Date.now();
    const crowds: SocketCrowd[] = [];
    let maxFds = 0;
    let maxSockets = 0;
    const sample = (): void => {
      maxFds = Math.max(maxFds, openFds(pid));
      maxSockets = Math.max(maxSockets, openSockets(pid));
    };
    try {
      for (let i = 0; i < 4; i++) {
        crowds.push(await crowd(port, 150, 'GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n'));
        sample();
      }
      const ok = await scrape(port);
      sample();
      expect(ok.status).toBe(200);
      expect(ok.body).toContain(`pollect_prometheus_series{writer="Prometheus"} ${SERIES}`);
      await new Promise((r) => setTimeout(r, 4 * TICK * 1000));
      sample();
    } finally {
      for (const c of crowds) c.destroy();
    }
    const to = Date.now();
    await new Promise((r) => setTimeout(r, 2 * TICK * 1000));
    const lost = missed(ticks(ticksFile), from, to);
    console.log(
      `slow headers: ${fdsBefore} descriptors (${socketsBefore} sockets) before, at most ${maxFds} (${maxSockets} sockets) with 600 sockets; ${lost} ticks missed`,
    );
    // Connections stay within the cap (256, plus the one just accepted while the idlest is being
    // closed), so the rest of the descriptors stay the daemon's. Its own work (the Exec child's
    // pipes, the File writer) moves the total by a few, so the cap is checked on the sockets.
    expect(maxSockets - socketsBefore).toBeLessThanOrEqual(256 + 1);
    expect(lost).toBe(0);
  }, 60_000);
});
