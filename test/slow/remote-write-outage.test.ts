// PrometheusRemoteWrite: a 30 s VictoriaMetrics outage at a 1 s tick, and the same with pollect
// killed (SIGKILL) and restarted halfway through it (diskQueue): every sample pollect made is in
// VictoriaMetrics after (its export API lists the raw samples).
import { describe, expect, it } from 'vitest';
import { needs } from '../helpers/servers.js';
import { victoriaMetrics } from '../helpers/tsdb.js';
import { outage, type Backend } from '../helpers/outage.js';
import { report } from './report.js';

describe.skipIf(!needs('victoria-metrics'))('PrometheusRemoteWrite through a 30 s VictoriaMetrics outage', () => {
  for (const kill of [false, true]) {
    it.concurrent(kill ? 'pollect killed and restarted during it (diskQueue): nothing lost' : 'nothing lost', async () => {
      const vm = await victoriaMetrics();
      const backend: Backend = {
        start: () => vm.start(),
        stop: () => vm.stop(),
        async values() {
          const res = await fetch(`${vm.url}/api/v1/export?${new URLSearchParams({ 'match[]': '{__name__!=""}' })}`).catch(() => undefined);
          if (!res?.ok) return [];
          return (await res.text())
            .split('\n')
            .filter(Boolean)
            .flatMap((l) => (JSON.parse(l) as { values: number[] }).values);
        },
      };
      try {
        const r = await outage({ writer: { type: 'PrometheusRemoteWrite', url: vm.writeUrl, timeout: 2 }, backend, kill });
        report('PrometheusRemoteWrite', kill, r);
        expect(r.missing).toEqual([]);
        expect(r.made).toBeGreaterThanOrEqual(35);
      } finally {
        await vm.remove();
      }
    });
  }
});
