// Graphite: a 30 s carbon-cache outage at a 1 s tick, and the same with pollect killed (SIGKILL)
// and restarted halfway through it (diskQueue): every sample pollect made is in whisper after.
import { describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/net.js';
import { needs } from '../helpers/servers.js';
import { makeCarbon, whisperValues } from '../helpers/carbon.js';
import { outage, type Backend } from '../helpers/outage.js';
import { report } from './report.js';

async function carbonBackend(): Promise<{ backend: Backend; port: number; remove: () => Promise<void> }> {
  const tmp = tempDir('pollect-carbon-');
  const carbon = await makeCarbon(tmp.dir);
  const from = Math.floor(Date.now() / 1000);
  const backend: Backend = {
    start: () => carbon.start(),
    stop: () => carbon.stop(),
    values: async () => [...whisperValues(carbon, 'out.Exec.t.v', from, Math.ceil(Date.now() / 1000) + 1).values()].filter((v): v is number => v !== null),
  };
  // The carbon the outage started again is stopped with its folder (it ran on, orphaned, before).
  const remove = async (): Promise<void> => {
    await carbon.stop();
    tmp.remove();
  };
  return { backend, port: carbon.pickle, remove };
}

describe.skipIf(!needs('carbon-cache', 'whisper-fetch'))('Graphite through a 30 s carbon outage', () => {
  for (const kill of [false, true]) {
    it.concurrent(kill ? 'pollect killed and restarted during it (diskQueue): nothing lost' : 'nothing lost', async () => {
      const { backend, port, remove } = await carbonBackend();
      try {
        const r = await outage({ writer: { type: 'Graphite', host: '127.0.0.1', port }, backend, kill });
        report('Graphite', kill, r);
        expect(r.missing).toEqual([]);
        expect(r.made).toBeGreaterThanOrEqual(35);
      } finally {
        await remove();
      }
    });
  }
});
