// A plugin that throws from its own timer or leaves a rejected promise unawaited must not end the
// daemon: the error is counted as that source's failure and everything else keeps running.
import { afterAll, describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { spawnDaemon, tempDir } from '../helpers/net.js';

const BIN = path.resolve(import.meta.dirname, '../../bin/pollect.js');
const tmp = tempDir();
afterAll(() => tmp.remove());

const WILD = `import { Source } from 'pollect';
export class WildSource extends Source {
  n = 0;
  probe() {
    this.n++;
    if (this.n === 1) setTimeout(() => { throw new Error('thrown from a timer'); }, 5);
    if (this.n === 2) Promise.reject(new Error('never awaited'));
    if (this.n === 3) {
      const e = new Error('hostile');
      e.toString = () => { throw new Error('no toString either'); };
      Object.defineProperty(e, 'message', { get() { throw new Error('no message'); } });
      setTimeout(() => { throw e; }, 5);
    }
    if (this.n === 4) setTimeout(() => { throw Object.create(null); }, 5);
    return this.n;
  }
}
`;

describe('errors a plugin leaves uncaught', () => {
  it('are counted as its failures; the daemon and its other sources keep running', async () => {
    writeFileSync(path.join(tmp.dir, 'WildSource.mjs'), WILD);
    const config = path.join(tmp.dir, 'c.json');
    writeFileSync(
      config,
      JSON.stringify({
        tickTime: 0.2,
        executors: [{ collection: 'c', maxBackoff: 0.2, sources: [{ type: './WildSource.mjs' }, { type: 'Dummy', name: 'steady', value: 7 }] }],
      }),
    );
    const d = spawnDaemon(process.execPath, [BIN, '-c', config, '--dry-run', '--self-metrics']);
    const deadline = Date.now() + 15_000;
    // Until the wild source has been probed past its last trick and ticked on after it.
    while (Date.now() < deadline && !/^c\.Wild 6 /m.test(d.output())) await new Promise((r) => setTimeout(r, 50));
    await d.stop();
    const out = d.output();
    expect(d.child.exitCode).toBe(0);
    expect(out).toMatch(/^c\.Wild 6 /m);
    expect(out).toMatch(/^c\.Dummy\.steady 7 /m);
    expect(out).toContain('ERROR c.Wild: thrown from a timer');
    expect(out).toContain('ERROR c.Wild: never awaited');
    // An error whose message getter throws has no readable stack either (V8 formats the stack
    // from the message), and Object.create(null) has none: both are logged, once, not attributed.
    expect(out.match(/an error no source caught: an error that cannot be shown as text/g)).toHaveLength(1);
    expect(out).not.toMatch(/^\s+at /m);
    const errors = [...out.matchAll(/^pollect\.source\.errors_total\{collection="c",source="c\.Wild",type="Wild"\} (\d+) /gm)].map((m) => Number(m[1]));
    expect(Math.max(...errors)).toBe(2);
  });
});
