// Host (chouette-iot's HostStats) against free, df and /proc on this machine, a device mounted
// twice (bind mounts), and the systeminformation path.
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { HostSource, type HostConfig } from '../../src/sources/host/index.js';
import { SourceError, type Sample } from '../../src/sdk/index.js';
import { probeOnce, quietLog, valueOf } from '../helpers/probe.js';
import { fakeProc, GARBAGE } from '../helpers/hostproc.js';
import { tempDir } from '../helpers/net.js';
import { build } from '../helpers/plugin.js';

const fake = fakeProc();
const tmp = tempDir('pollect-host-');
afterEach(() => fake.restore());
afterAll(() => {
  fake.remove();
  tmp.remove();
});

const make = (cfg: Partial<HostConfig> = {}) => build(HostSource, { type: 'Host', ...cfg });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const names = (s: Sample[]) => s.map((x) => x.name);

function rootDevice(): string {
  const line = readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .find((l) => l.split(' ')[4] === '/')!;
  const f = line.split(' ');
  return f[f.indexOf('-') + 2]!;
}
function df(path: string): { used: number; free: number } {
  const [used, free] = execFileSync('df', ['-B1', '--output=used,avail', path], { encoding: 'utf8' }).trim().split('\n')[1]!.trim().split(/\s+/).map(Number);
  return { used: used!, free: free! };
}

describe('Host on this machine', () => {
  it('emits the default metrics with chouette names and labels', async () => {
    const s = make();
    const first = await probeOnce(s);
    // cpu.percentage needs two readings.
    expect(names(first).includes('cpu.percentage')).toBe(false);
    await sleep(100);
    const out = await probeOnce(s);
    const set = new Set(names(out));
    expect([...set]).toEqual(['cpu.percentage', 'fs.used', 'fs.free', 'la', 'memory.used', 'memory.available']);
    const cpu = valueOf(out, 'cpu.percentage');
    expect(cpu).toBeGreaterThanOrEqual(0);
    expect(cpu).toBeLessThanOrEqual(100);
    expect(out.filter((x) => x.name === 'la').map((x) => x.labels!.period)).toEqual(['1m', '5m', '15m']);
    const la = readFileSync('/proc/loadavg', 'utf8').split(' ').map(Number);
    expect(Math.abs(valueOf(out, 'la', { period: '1m' }) - la[0]!)).toBeLessThan(1);
    const dev = rootDevice();
    const d = df('/');
    const slack = 64 * 1024 * 1024;
    expect(Math.abs(valueOf(out, 'fs.used', { device: dev }) - d.used)).toBeLessThan(slack);
    expect(Math.abs(valueOf(out, 'fs.free', { device: dev }) - d.free)).toBeLessThan(slack);
    const free = execFileSync('free', ['-b'], { encoding: 'utf8' })
      .split('\n')
      .find((l) => l.startsWith('Mem:'))!
      .split(/\s+/)
      .map(Number);
    expect(Math.abs(valueOf(out, 'memory.available') - free[6]!)).toBeLessThan(slack);
    expect(Math.abs(valueOf(out, 'memory.used') - free[2]!)).toBeLessThan(slack);
  });

  it('sends network byte counters for every interface but lo', async () => {
    const out = await probeOnce(make({ metrics: ['network'] }));
    const dev = readFileSync('/proc/net/dev', 'utf8')
      .split('\n')
      .slice(2)
      .filter(Boolean)
      .map((l) => l.slice(0, l.lastIndexOf(':')).trim());
    const ifaces = [...new Set(out.map((x) => x.labels!.iface))];
    expect(ifaces).toEqual(dev.filter((n) => n !== 'lo'));
    expect(names(out).slice(0, 2)).toEqual(['network.bytes.sent', 'network.bytes.recv']);
    expect(out.every((x) => x.type === 'counter')).toBe(true);
  });

  it('reports a device once even when it is mounted twice', async () => {
    if (process.getuid?.() !== 0) return;
    const a = join(tmp.dir, 'again');
    const b = join(tmp.dir, 'sub');
    mkdirSync(a);
    mkdirSync(b);
    // The root filesystem a second time (its own root) and a bind mount of a subdirectory.
    execFileSync('mount', ['--bind', '/', a]);
    execFileSync('mount', ['--bind', tmp.dir, b]);
    try {
      const out = await probeOnce(make({ metrics: ['fs'] }));
      const dev = rootDevice();
      expect(out.filter((x) => x.name === 'fs.used' && x.labels!.device === dev)).toHaveLength(1);
      const devices = out.filter((x) => x.name === 'fs.used').map((x) => x.labels!.device);
      expect(new Set(devices).size).toBe(devices.length);
    } finally {
      execFileSync('umount', ['-l', b]);
      execFileSync('umount', ['-l', a]);
    }
  });

  it('runs the non-Linux path (systeminformation, os)', async () => {
    const s = make({ metrics: ['cpu', 'fs', 'la', 'ram', 'network'], backend: 'systeminformation' });
    await probeOnce(s);
    await sleep(100);
    const out = await probeOnce(s);
    expect([...new Set(names(out))]).toEqual([
      'cpu.percentage',
      'fs.used',
      'fs.free',
      'la',
      'memory.used',
      'memory.available',
      'network.bytes.sent',
      'network.bytes.recv',
    ]);
    const d = df('/');
    expect(Math.abs(valueOf(out, 'fs.free', { device: rootDevice() }) - d.free)).toBeLessThan(64 * 1024 * 1024);
    expect(out.some((x) => x.labels?.iface === 'lo')).toBe(false);
  });
});

describe('Host on broken files', () => {
  it('keeps the parts that work and warns; fails when every part fails', async () => {
    fake.write({ loadavg: GARBAGE, meminfo: 'MemTotal: 1000 kB\nMemFree: 500 kB\nMemAvailable: 600 kB\n', stat: GARBAGE, 'self/mountinfo': '' });
    fake.use();
    const warnings: string[] = [];
    const s = make();
    const out = await s.probe({
      signal: AbortSignal.timeout(1000),
      timeoutMs: 1000,
      tickTime: 1,
      log: quietLog,
      reportProblem: (m) => void warnings.push(m),
      notify: () => {},
      wants: () => true,
    });
    expect(out).toEqual([
      { name: 'memory.used', value: 400 * 1024, unit: 'bytes' },
      { name: 'memory.available', value: 600 * 1024, unit: 'bytes' },
    ]);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(
      /^cannot read \/proc\/stat: no cpu lines in \/proc\/stat: .*; cannot read \/proc\/loadavg: unexpected \/proc\/loadavg content: /,
    );
    fake.write({ meminfo: GARBAGE });
    const err = await probeOnce(make({ metrics: ['la', 'ram'] })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SourceError);
    expect((err as Error).message).toMatch(/^cannot read \/proc\/loadavg: .*; cannot read \/proc\/meminfo: \/proc\/meminfo has no MemTotal or MemFree$/);
  });
});
