// DiskUsage against df on the same machine, the default mount list, odd mount paths, and a
// real hung filesystem: a FUSE mount whose daemon never answers, so statfs blocks in the kernel.
import { afterAll, describe, expect, it } from 'vitest';
import { execFileSync, spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DiskUsageSource } from '../../src/sources/diskusage/index.js';
import { SourceError, type Sample } from '../../src/sdk/index.js';
import { poolGuard } from '../../src/host/guard.js';
import { probeOnce, valueOf } from '../helpers/probe.js';
import { tempDir } from '../helpers/net.js';
import { createLogger } from '../../src/log.js';
import { build } from '../helpers/plugin.js';

const tmp = tempDir('pollect-diskusage-');
afterAll(() => tmp.remove());

/** `df -B1 <path>`: total, used, available bytes. */
function df(path: string): { total: number; used: number; free: number } {
  const line = execFileSync('df', ['-B1', '--output=size,used,avail', path], { encoding: 'utf8' }).trim().split('\n')[1]!;
  const [total, used, free] = line.trim().split(/\s+/).map(Number);
  return { total: total!, used: used!, free: free! };
}

/** Runs fn with HOST_PROC pointing at a directory holding the given /proc files. */
async function withProc<T>(files: Record<string, string>, fn: () => Promise<T>): Promise<T> {
  const root = join(tmp.dir, `proc-${Math.random().toString(36).slice(2)}`);
  for (const [rel, text] of Object.entries(files)) {
    mkdirSync(join(root, rel, '..'), { recursive: true });
    writeFileSync(join(root, rel), text, 'latin1');
  }
  process.env.HOST_PROC = root;
  try {
    return await fn();
  } finally {
    delete process.env.HOST_PROC;
  }
}

const near = (a: number, b: number, tol: number) => expect(Math.abs(a - b)).toBeLessThanOrEqual(tol);

describe('DiskUsage', () => {
  it('matches df -B1 for / (default mount list)', async () => {
    const s = build(DiskUsageSource, { type: 'DiskUsage' });
    const before = df('/');
    const samples = await probeOnce(s);
    const after = df('/');
    expect(valueOf(samples, undefined, { disk: '_', type: 'total' })).toBe(before.total);
    // Other processes write meanwhile: the value must lie within what df saw around it (+ slack).
    const slack = 64 * 1024 * 1024;
    const used = valueOf(samples, undefined, { disk: '_', type: 'used' });
    expect(used).toBeGreaterThanOrEqual(Math.min(before.used, after.used) - slack);
    expect(used).toBeLessThanOrEqual(Math.max(before.used, after.used) + slack);
    near(valueOf(samples, undefined, { disk: '_', type: 'free' }), after.free, slack);
    const inodes = execFileSync('df', ['--output=itotal,iavail', '/'], { encoding: 'utf8' }).trim().split('\n')[1]!.trim().split(/\s+/).map(Number);
    expect(valueOf(samples, undefined, { disk: '_', type: 'inodes_total' })).toBe(inodes[0]);
    near(valueOf(samples, undefined, { disk: '_', type: 'inodes_free' }), inodes[1]!, 10_000);
    // Pseudo filesystems (proc, sysfs, tmpfs, cgroup) are not in the default list.
    const disks = new Set(samples.map((x) => x.labels!.disk));
    for (const pseudo of ['_proc', '_sys', '_dev', '_dev_shm', '_sys_fs_cgroup']) expect(disks.has(pseudo)).toBe(false);
    for (const x of samples) expect(['total', 'used', 'free', 'inodes_total', 'inodes_free']).toContain(x.labels!.type);
  });

  it('reports listed paths, including pseudo filesystems and paths with spaces', async () => {
    const spaced = join(tmp.dir, 'my disk');
    mkdirSync(spaced, { recursive: true });
    const s = build(DiskUsageSource, { type: 'DiskUsage', disks: ['/', '/dev/shm', spaced] });
    const samples = await probeOnce(s);
    expect(valueOf(samples, undefined, { disk: '_dev_shm', type: 'total' })).toBe(df('/dev/shm').total);
    expect(valueOf(samples, undefined, { disk: spaced.replace(/\//g, '_'), type: 'total' })).toBe(df(spaced).total);
  });

  it('reads the mount list from mountinfo, unescaping \\040', async () => {
    const spaced = join(tmp.dir, 'USB Stick');
    mkdirSync(spaced, { recursive: true });
    const esc = spaced.replace(/ /g, '\\040');
    const mountinfo = `27 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw\n62 27 8:17 / ${esc} rw,relatime shared:40 - vfat /dev/sdb1 rw\n22 27 0:21 / /proc rw - proc proc rw\n`;
    const samples = await withProc({ 'self/mountinfo': mountinfo }, () => probeOnce(build(DiskUsageSource, { type: 'DiskUsage' })));
    expect([...new Set(samples.map((x) => x.labels!.disk))]).toEqual(['_', spaced.replace(/\//g, '_')]);
  });

  it('gives a SourceError for garbage mountinfo, a missing /proc and paths that all fail', async () => {
    await withProc({ 'self/mountinfo': '\x00\xff<html>502</html>' }, async () => {
      // Garbage has no mounts: nothing to report, no crash.
      expect(await probeOnce(build(DiskUsageSource, { type: 'DiskUsage' }))).toEqual([]);
    });
    await withProc({}, async () => {
      await expect(probeOnce(build(DiskUsageSource, { type: 'DiskUsage' }))).rejects.toThrow(/^cannot read \/proc\/self\/mountinfo: ENOENT$/);
    });
    const err = await probeOnce(build(DiskUsageSource, { type: 'DiskUsage', disks: ['/no/such/dir', '/nor/this'] })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SourceError);
    expect((err as Error).message).toBe("statfs(/no/such/dir) failed: ENOENT ENOENT: no such file or directory, statfs '/no/such/dir' (and 1 more)");
  });

  it('runs the systeminformation path (non-Linux fallback)', async () => {
    const s = build(DiskUsageSource, { type: 'DiskUsage', disks: ['/'], backend: 'systeminformation' });
    const samples = await probeOnce(s);
    const d = df('/');
    expect(valueOf(samples, undefined, { disk: '_', type: 'total' })).toBe(d.total);
    near(valueOf(samples, undefined, { disk: '_', type: 'free' }), d.free, 64 * 1024 * 1024);
    expect(samples.some((x) => x.labels!.type === 'inodes_total')).toBe(false);
  });
});

// A FUSE filesystem whose daemon (this test) never answers: every statfs on it blocks in the
// kernel until /dev/fuse is closed, exactly like a dead NFS server.
const canFuse = process.getuid?.() === 0 && existsSync('/dev/fuse') && existsSync('/usr/bin/mount');
describe.runIf(canFuse)('DiskUsage with a hung filesystem', () => {
  it('answers for the other paths within the timeout and never stacks statfs calls', async () => {
    const dir = join(tmp.dir, 'hung');
    mkdirSync(dir);
    const fd = openSync('/dev/fuse', 'r+');
    // The source name has a colon so df -l elsewhere takes it for remote and leaves it alone.
    const code = await new Promise<number | null>((resolve) => {
      const c = spawn('mount', ['-t', 'fuse', '-o', 'fd=3,rootmode=40000,user_id=0,group_id=0', 'pollect:hang', dir], {
        stdio: ['ignore', 'ignore', 'ignore', fd],
        timeout: 5000,
      });
      c.on('exit', resolve);
    });
    let closed = false;
    const release = () => {
      if (!closed) closeSync(fd);
      closed = true;
    };
    try {
      expect(code).toBe(0);
      // The problems each probe reports as data (the core logs them once, not every tick).
      const warnings: string[] = [];
      const log = createLogger('t', { level: 'warn', write: () => {} });
      const s = build(DiskUsageSource, { type: 'DiskUsage', disks: ['/', dir] });
      let all: Sample[] = [];
      // The samples for pollect's names; `all` keeps those for Prometheus' too.
      const probe = async () => {
        all = (await s.probe({
          signal: AbortSignal.timeout(400),
          timeoutMs: 400,
          tickTime: 1,
          log,
          reportProblem: (m) => void warnings.push(m),
          notify: () => {},
          wants: () => true,
        })) as Sample[];
        return all.filter((x) => x.naming !== 'prometheus');
      };
      const t0 = Date.now();
      const first = await probe();
      // node_exporter's view of the hung mount: an error, no sizes.
      const mount = (name: string, mp: string) => all.filter((x) => x.name === name && x.labels?.mountpoint === mp).map((x) => x.value);
      expect(mount('device_error', dir)).toEqual([1]);
      expect(mount('size_bytes', dir)).toEqual([]);
      expect(mount('device_error', '/')).toEqual([0]);
      const waited = Date.now() - t0;
      expect(waited).toBeLessThan(5000); // it did not wait for the dead mount (generous: a loaded CI box)
      expect(first.map((x) => x.labels!.disk).every((d) => d === '_')).toBe(true);
      expect(first).toHaveLength(5);
      expect(warnings.join('\n')).toContain(`statfs(${dir}) gave no answer within 200 ms`);
      expect(poolGuard.hungCalls).toBe(1);
      // Next tick: the hung call is still outstanding, so no second one is started.
      const second = await probe();
      expect(second).toHaveLength(5);
      expect(warnings.join('\n')).toMatch(new RegExp(`statfs\\(${dir}\\): an earlier call has not returned for \\d+ s; skipped`));
      expect(poolGuard.hungCalls).toBe(1);
      // The "server" goes away for good: the kernel fails the hung call, the thread is free again.
      release();
      for (let i = 0; i < 100 && poolGuard.hungCalls > 0; i++) await new Promise((r) => setTimeout(r, 20));
      expect(poolGuard.hungCalls).toBe(0);
      const third = await probe();
      expect(third).toHaveLength(5);
      expect(warnings.at(-1)).toMatch(/ENOTCONN/);
    } finally {
      release();
      execFileSync('umount', ['-l', dir]);
    }
  });
});
