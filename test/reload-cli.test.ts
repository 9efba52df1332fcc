// SIGHUP to the real process (as `systemctl reload` sends it): the config is read again and the
// daemon goes on with it; a broken config is logged with its paths and the running one stays.
// Before, SIGHUP ended pollect with exit 129.
import { afterEach, describe, expect, it } from 'vitest';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { tempDir } from './helpers/net.js';
import { startCli } from './helpers/cli.js';

const cleanups: (() => void)[] = [];
afterEach(() => {
  while (cleanups.length) cleanups.pop()!();
});

/** Waits in real time until `cond()` holds (the daemon is another process). */
async function until(cond: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('SIGHUP (through the launcher)', () => {
  it('reloads a changed config, keeps running on a broken one, and still stops with exit 0', async () => {
    const t = tempDir();
    cleanups.push(t.remove);
    const file = path.join(t.dir, 'pollect.json');
    const out = path.join(t.dir, 'out.jsonl');
    const cfg = (value: unknown) => ({
      tickTime: 0.2,
      selfMetrics: false,
      writer: { type: 'File', path: 'out.jsonl' },
      executors: [{ collection: 'c', sources: [{ type: 'Dummy', value }] }],
    });
    const values = (): number[] =>
      existsSync(out)
        ? readFileSync(out, 'utf8')
            .split('\n')
            .filter(Boolean)
            .map((l) => (JSON.parse(l) as { value: number }).value)
        : [];
    writeFileSync(file, JSON.stringify(cfg(1)));
    const { child, io, exit } = startCli(['-c', file]);
    cleanups.push(() => child.kill('SIGKILL'));
    await until(() => values().includes(1), 'the first samples');

    writeFileSync(file, JSON.stringify(cfg(2)));
    child.kill('SIGHUP');
    // The file and the daemon's stderr are two channels: the samples may be read before the log lines.
    await until(() => values().includes(2) && io.err.includes('reload: done'), 'samples of the new config, and the reload logged');
    expect(io.err).toContain(`SIGHUP: reloading ${file}`);
    expect(io.err).toContain('reload: done: executors 0 kept, 1 started, 1 stopped; writers 1 kept, 0 restarted, 0 started, 0 stopped');

    writeFileSync(file, JSON.stringify(cfg('high')));
    child.kill('SIGHUP');
    await until(() => io.err.includes('reload: invalid config, the running one stays') && io.err.includes('reload: executors['), 'the reload error');
    expect(io.err).toContain('reload: executors[0].sources[0].value: ');
    // Still running the config that was good: more samples of value 2 arrive.
    const seen = values().length;
    await until(() => values().length > seen + 2, 'more samples after the broken reload');
    expect(new Set(values().slice(seen))).toEqual(new Set([2]));

    child.kill('SIGTERM');
    expect(await exit).toBe(0);
  });
});
