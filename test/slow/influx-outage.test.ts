// Influx: a 30 s InfluxDB outage at a 1 s tick, and the same with pollect killed (SIGKILL) and
// restarted halfway through it (diskQueue): every sample pollect made is in InfluxDB after.
import { describe, expect, it } from 'vitest';
import { needs } from '../helpers/servers.js';
import { influxd } from '../helpers/influxd.js';
import { outage, type Backend } from '../helpers/outage.js';
import { report } from './report.js';

describe.skipIf(!needs('influxd'))('Influx through a 30 s InfluxDB outage', () => {
  for (const kill of [false, true]) {
    it.concurrent(kill ? 'pollect killed and restarted during it (diskQueue): nothing lost' : 'nothing lost', async () => {
      const db = await influxd();
      let created = false;
      const backend: Backend = {
        async start() {
          await db.start();
          if (!created) await db.query('', 'CREATE DATABASE pollect');
          created = true;
        },
        stop: () => db.stop(),
        async values() {
          const series = await db.query('pollect', 'SELECT "value" FROM /.*/').catch(() => []);
          return series.flatMap((s) => s.values.map((row) => Number(row[1])));
        },
      };
      try {
        const r = await outage({ writer: { type: 'Influx', url: db.url, database: 'pollect', timeout: 2 }, backend, kill });
        report('Influx', kill, r);
        expect(r.missing).toEqual([]);
        expect(r.made).toBeGreaterThanOrEqual(35);
      } finally {
        await db.remove();
      }
    });
  }
});
