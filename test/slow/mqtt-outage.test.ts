// Mqtt: a 30 s mosquitto outage at a 1 s tick, and the same with pollect killed (SIGKILL) and
// restarted halfway through it (diskQueue): every sample pollect made reached a subscriber. The
// broker keeps the subscriber's session across its restart (persistence), so what is published
// before the subscriber is back waits for it; QoS 1, as a setup that must lose nothing has it.
import { describe, expect, it } from 'vitest';
import { needs } from '../helpers/servers.js';
import { mosquitto, PASSWORD, subscribe, USER, type Message } from '../helpers/mosquitto.js';
import { outage, type Backend } from '../helpers/outage.js';
import { report } from './report.js';

describe.skipIf(!needs('mosquitto'))('Mqtt through a 30 s mosquitto outage', () => {
  for (const kill of [false, true]) {
    it.concurrent(kill ? 'pollect killed and restarted during it (diskQueue): nothing lost' : 'nothing lost', async () => {
      const broker = await mosquitto({ persistence: true });
      const session = `outage-${kill}-${process.pid}`;
      const received: Message[] = [];
      let sub: Awaited<ReturnType<typeof subscribe>> | undefined;
      const backend: Backend = {
        async start() {
          await broker.start();
          sub = await subscribe(broker.port, session);
        },
        async stop() {
          received.push(...sub!.messages);
          sub!.close();
          await broker.stop();
        },
        // Live messages only: a retained one is the last value again, replayed at each subscribe.
        values: async () => [...received, ...(sub?.messages ?? [])].filter((m) => m.topic === 'out.exec/t.v' && !m.retain).map((m) => Number(m.payload)),
      };
      try {
        const r = await outage({ writer: { type: 'Mqtt', host: '127.0.0.1', port: broker.port, user: USER, password: PASSWORD, qos: 1 }, backend, kill });
        report('Mqtt', kill, r);
        expect(r.missing).toEqual([]);
        expect(r.made).toBeGreaterThanOrEqual(35);
      } finally {
        sub?.close();
        await broker.remove();
      }
    });
  }
});
