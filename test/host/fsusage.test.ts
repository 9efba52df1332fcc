// The statfs guard: a call that never returns (a dead NFS server) costs the caller at most its
// deadline, is never started twice for one path, and hung calls cannot take the whole pool.
import { afterEach, describe, expect, it } from 'vitest';
import { statfsSync } from 'node:fs';
import { fsUsage, statPaths, type StatfsLike } from '../../src/host/fsusage.js';
import { maxHung, poolGuard } from '../../src/host/guard.js';

const hungCalls = (): number => poolGuard.hungCalls;

const OK: StatfsLike = { bsize: 4096, blocks: 1000, bfree: 400, bavail: 300, files: 64, ffree: 10 };

/** A statfs stand-in per path: 'hang' never settles until released, 'ok' answers, else fails with that code. */
function fakeStatfs(behaviour: Record<string, 'hang' | 'ok' | string>) {
  const calls: string[] = [];
  const pending: (() => void)[] = [];
  const fn = (path: string): Promise<StatfsLike> => {
    calls.push(path);
    const b = behaviour[path];
    if (b === 'ok') return Promise.resolve(OK);
    if (b === 'hang') return new Promise((resolve) => pending.push(() => resolve(OK)));
    return Promise.reject(Object.assign(new Error(`${b}: no such file or directory, statfs '${path}'`), { code: b }));
  };
  return { fn, calls, behaviour, release: () => pending.splice(0).forEach((r) => r()) };
}

const releases: (() => void)[] = [];
afterEach(async () => {
  releases.splice(0).forEach((r) => r());
  await new Promise((r) => setImmediate(r));
});

describe('fsUsage', () => {
  it('computes sizes as df does', async () => {
    const f = fakeStatfs({ '/a': 'ok' });
    const r = await fsUsage(['/a'], 1000, undefined, f.fn);
    expect(r.errors).toEqual([]);
    expect(r.usage).toEqual([{ path: '/a', total: 4096000, used: 600 * 4096, free: 300 * 4096, inodesTotal: 64, inodesFree: 10 }]);
  });

  it('answers the other paths when one hangs, within the deadline', async () => {
    const f = fakeStatfs({ '/ok': 'ok', '/nfs': 'hang', '/gone': 'ENOENT' });
    releases.push(f.release);
    const r = await fsUsage(['/ok', '/nfs', '/gone'], 50, undefined, f.fn);
    expect(r.usage.map((u) => u.path)).toEqual(['/ok']);
    expect(r.errors).toEqual([
      { path: '/nfs', message: 'statfs(/nfs) gave no answer within 50 ms' },
      { path: '/gone', message: "statfs(/gone) failed: ENOENT ENOENT: no such file or directory, statfs '/gone'" },
    ]);
    expect(hungCalls()).toBe(1);
  });

  it('never starts a second statfs on a path whose first is still hanging', async () => {
    const f = fakeStatfs({ '/nfs': 'hang', '/ok': 'ok' });
    releases.push(f.release);
    await fsUsage(['/nfs'], 20, undefined, f.fn);
    const second = await fsUsage(['/nfs', '/ok'], 5000, undefined, f.fn);
    // Skipped at once, not after another 5 s deadline.
    expect(second.errors[0]!.message).toMatch(/^statfs\(\/nfs\): an earlier call has not returned for \d+ s; skipped$/);
    expect(second.usage.map((u) => u.path)).toEqual(['/ok']);
    expect(f.calls.filter((p) => p === '/nfs')).toHaveLength(1);
    // Once the kernel answers (the server is back), the path is asked again.
    f.behaviour['/nfs'] = 'ok';
    f.release();
    await new Promise((r) => setImmediate(r));
    expect(hungCalls()).toBe(0);
    const third = await fsUsage(['/nfs'], 20, undefined, f.fn);
    expect(third.usage).toHaveLength(1);
    expect(f.calls.filter((p) => p === '/nfs')).toHaveLength(2);
  });

  it('stops starting calls once maxHung() calls hang, so the thread pool keeps free threads', async () => {
    const paths = Array.from({ length: maxHung() + 2 }, (_, i) => `/dead${i}`);
    const f = fakeStatfs(Object.fromEntries(paths.map((p) => [p, 'hang'])));
    releases.push(f.release);
    for (const p of paths.slice(0, maxHung())) await fsUsage([p], 10, undefined, f.fn);
    expect(hungCalls()).toBe(maxHung());
    const r = await fsUsage(paths.slice(maxHung()), 10, undefined, f.fn);
    expect(r.errors.map((e) => e.message)).toEqual(paths.slice(maxHung()).map((p) => `statfs(${p}): ${maxHung()} calls are hanging; not starting another`));
    expect(f.calls).toEqual(paths.slice(0, maxHung()));
    f.release();
    await new Promise((r) => setImmediate(r));
    expect(hungCalls()).toBe(0);
  });

  it('shares one call between callers asking for the same path at the same time', async () => {
    const f = fakeStatfs({ '/': 'ok' });
    const [a, b] = await Promise.all([fsUsage(['/'], 1000, undefined, f.fn), fsUsage(['/'], 1000, undefined, f.fn)]);
    expect(a.usage).toEqual(b.usage);
    expect(f.calls).toEqual(['/']);
  });

  it('ends the wait when the probe is aborted', async () => {
    const f = fakeStatfs({ '/nfs': 'hang' });
    releases.push(f.release);
    const ac = new AbortController();
    const p = fsUsage(['/nfs'], 60_000, ac.signal, f.fn);
    ac.abort();
    const r = await p;
    expect(r.errors).toHaveLength(1);
  });
});

describe('statPaths', () => {
  it('asks direct paths with statfsSync, the others through the guarded pool, and keeps the order asked', async () => {
    const f = fakeStatfs({ '/proc': 'ok', '/sys': 'ok', '/nonexistent-pollect': 'ENOENT' });
    const { usage, errors } = await statPaths(['/proc', '/', '/nonexistent-pollect', '/sys'], new Set(['/']), 1000, undefined, f.fn);
    expect(f.calls).toEqual(['/proc', '/nonexistent-pollect', '/sys']);
    expect(usage.map((u) => u.path)).toEqual(['/proc', '/', '/sys']);
    const s = statfsSync('/');
    expect(usage[1]!.total).toBe(s.blocks * s.bsize);
    expect(errors.map((e) => e.path)).toEqual(['/nonexistent-pollect']);
  });

  it('reports a direct path that fails', async () => {
    const { usage, errors } = await statPaths(['/nonexistent-pollect'], new Set(['/nonexistent-pollect']), 1000);
    expect(usage).toEqual([]);
    expect(errors).toEqual([{ path: '/nonexistent-pollect', message: expect.stringMatching(/^statfs\(\/nonexistent-pollect\) failed: ENOENT/) }]);
  });
});
