// The Prometheus endpoint under attack, in a real daemon (test/helpers/prometheus-daemon.ts):
// pipelined scrapes that are never read (issue 17 item 2); the test checks the daemon's RSS, that
// no tick was missed, and that a normal scrape still succeeds. The shared, bounded scrape bodies
// that make it hold are tested in prometheus-bodies.test.ts, slow-header sockets (item 6) in
// prometheus-slow-headers.test.ts: files of their own, so that they run beside other attacks
// (vitest.attack.config.ts). Where ticks went missing is printed, with the daemon's CPU meanwhile.
import { describe, expect, it } from 'vitest';
import {
  cpuSecondsOf,
  gaps,
  MB,
  missed,
  peakRss,
  pipeliners,
  rssOf,
  SERIES,
  scrape,
  scrapeWithin,
  startDaemon,
  TICK,
  ticks,
} from '../helpers/prometheus-daemon.js';

describe('Prometheus endpoint under attack (a real daemon, ~20k series, tickTime 1)', () => {
  it('pipelined scrapes never read: RSS bounded, no tick missed, a normal scrape succeeds', async () => {
    const { port, pid, ticksFile } = await startDaemon();
    const before = rssOf(pid);
    const cpuBefore = cpuSecondsOf(pid);
    const from = Date.now();
    // 2 x 20 sockets x 500 pipelined GETs, half of them asking for gzip, a fresh connection every
    // 2 s; and 100 sockets with 15 each (under the per-connection cap), held across ticks.
    const deep = pipeliners(port, 20, 500, false, 200, 2000);
    const deepGz = pipeliners(port, 20, 500, true, 200, 2000);
    const held: ReturnType<typeof pipeliners>[] = [];
    for (let i = 0; i < 5; i++) {
      held.push(pipeliners(port, 10, 15, false, 10), pipeliners(port, 10, 15, true, 10));
      await new Promise((r) => setTimeout(r, TICK * 1000));
    }
    const peak = await peakRss(pid, 6_000);
    for (const p of [deep, deepGz, ...held]) p.stop();
    const to = Date.now();
    const cpu = cpuSecondsOf(pid) - cpuBefore;
    await new Promise((r) => setTimeout(r, 2 * TICK * 1000));
    const stamps = ticks(ticksFile);
    const lost = missed(stamps, from, to);
    console.log(
      `pipelining: RSS ${Math.round(before / MB)} MB before, peak ${Math.round(peak / MB)} MB; ` +
        `${deep.connects() + deepGz.connects()} deep connections; daemon CPU ${cpu.toFixed(1)} s; ${Math.floor((to - from) / (TICK * 1000))} ticks due, ${lost} missed ` +
        `(${gaps(stamps, from, to)})`,
    );
    // Node still parses what the dropped connections had sent before their sockets close, so on a
    // loaded machine the first scrape after the flood may wait its turn: a normal scrape must
    // succeed within 30 s of the attack's end (recovery time is stated in the writer's README).
    const ok = await scrapeWithin(port, 30_000);
    const okGz = await scrape(port, { 'Accept-Encoding': 'gzip' });
    expect(ok.status).toBe(200);
    expect(ok.body).toContain(`pollect_prometheus_series{writer="Prometheus"} ${SERIES}`);
    expect(okGz.status).toBe(200);
    expect(lost).toBe(0);
    // Before shared bodies and their bound: +324 MB here (89 -> 412 MB); with them: +112 to +148 MB,
    // about 65 MB of it Node's own objects for the pipelined requests (the same flood on a 404 path).
    expect(peak - before).toBeLessThan(200 * MB);
  }, 60_000);
});
