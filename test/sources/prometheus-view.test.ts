// What the host sources report for writers with Prometheus names (Sample.naming 'prometheus'): the
// raw readings behind pollect's rates and percentages, as counters in base units, from fake /proc
// files with known contents; and that writers with pollect's names never see them.
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { CpuSource } from '../../src/sources/cpu/index.js';
import { InterfaceSource } from '../../src/sources/interface/index.js';
import { IOSource } from '../../src/sources/io/index.js';
import { MemoryUsageSource } from '../../src/sources/memoryusage/index.js';
import { HostSource } from '../../src/sources/host/index.js';
import { ProcessSource } from '../../src/sources/process/index.js';
import type { Sample } from '../../src/sdk/index.js';
import { probeOnce, valueOf } from '../helpers/probe.js';
import { fakeProc } from '../helpers/hostproc.js';
import { build } from '../helpers/plugin.js';

const fake = fakeProc();
afterEach(() => fake.restore());
afterAll(() => fake.remove());

const prom = (s: Parameters<typeof probeOnce>[0]) => probeOnce(s, { naming: 'prometheus' });
const names = (out: readonly Sample[]) => [...new Set(out.map((x) => x.name))];

const STAT = 'cpu  100 1 200 800 4 0 7 3 0 0\ncpu0 60 1 120 400 4 0 7 3 0 0\ncpu1 40 0 80 400 0 0 0 0 0 0\nintr 1 2 3\nbtime 1796067309\n';

describe('host sources for Prometheus names', () => {
  it('Cpu: CPU seconds per cpu and mode, a counter from the first probe; no percent', async () => {
    fake.write({ stat: STAT });
    fake.use();
    const s = build(CpuSource, { type: 'Cpu' });
    const out = await prom(s);
    expect(names(out)).toEqual(['seconds_total']);
    expect(out).toHaveLength(3 * 8);
    expect(out[0]).toEqual({ name: 'seconds_total', value: 1, labels: { cpu: 'all', mode: 'user' }, type: 'counter', unit: 'seconds', naming: 'prometheus' });
    expect(valueOf(out, 'seconds_total', { cpu: '0', mode: 'system' })).toBe(1.2);
    expect(valueOf(out, 'seconds_total', { cpu: '1', mode: 'idle' })).toBe(4);
    // The second probe: pollect's names get percentages, Prometheus' still only the counters.
    fake.write({ stat: STAT.replace('cpu0 60', 'cpu0 70').replace('cpu  100', 'cpu  110') });
    const p2 = await probeOnce(s, { naming: 'all' });
    expect(p2.filter((x) => x.naming === 'pollect').every((x) => x.name === undefined && x.unit === 'percent')).toBe(true);
    expect(valueOf(p2, 'seconds_total', { cpu: '0', mode: 'user' })).toBe(0.7);
  });

  it('Interface: byte, packet, error and drop counters under the kernel name; pollect names keep rates only', async () => {
    const netdev = (rx: number) =>
      'Inter-|   Receive                                                |  Transmit\n' +
      ' face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed\n' +
      `eth0.100: ${rx} 20 1 2 0 0 0 0 3000 30 3 4 0 0 0 0\n`;
    fake.write({ 'net/dev': netdev(1000) });
    fake.use();
    const s = build(InterfaceSource, { type: 'Interface' });
    // Writers of both namings: the first probe reads the counters and starts the rates.
    const out = (await probeOnce(s, { naming: 'all' })).filter((x) => x.naming === 'prometheus');
    expect(out.map((x) => [x.name, x.value, x.type, x.unit])).toEqual([
      ['receive_bytes_total', 1000, 'counter', 'bytes'],
      ['receive_packets_total', 20, 'counter', undefined],
      ['receive_errs_total', 1, 'counter', undefined],
      ['receive_drop_total', 2, 'counter', undefined],
      ['transmit_bytes_total', 3000, 'counter', 'bytes'],
      ['transmit_packets_total', 30, 'counter', undefined],
      ['transmit_errs_total', 3, 'counter', undefined],
      ['transmit_drop_total', 4, 'counter', undefined],
    ]);
    expect(out[0]!.labels).toEqual({ interface: 'eth0.100' });
    fake.write({ 'net/dev': netdev(2000) });
    const pollect = await probeOnce(s);
    expect(names(pollect)).toEqual(['sent_bytes_sec', 'sent_packets_sec', 'recv_bytes_sec', 'recv_packets_sec']);
    expect(pollect[0]!.labels).toEqual({ interface: 'eth0_100' });
    // With Prometheus-named writers only, no rate is computed: the next pollect probe has none yet.
    fake.write({ 'net/dev': netdev(3000) });
    await prom(s);
    fake.write({ 'net/dev': netdev(4000) });
    expect(await probeOnce(s)).toEqual([]);
  });

  it("IO: operation, byte and time counters in bytes and seconds, of node_exporter's devices", async () => {
    // reads, merged, sectors read, ms reading, writes, merged, sectors written, ms writing, in flight, ms doing I/O, weighted ms.
    const line = (name: string) => `   8       0 ${name} 100 0 8 250 50 0 16 750 2 900 1000 0 0 0 0 0 0\n`;
    fake.write({ diskstats: line('sda') + line('sda1') + line('loop0') + line('zram0') + line('dm-0') + line('nvme0n1') + line('nvme0n1p2') });
    fake.use();
    const out = await prom(build(IOSource, { type: 'IO' }));
    expect([...new Set(out.map((x) => x.labels!.disk))]).toEqual(['sda', 'dm-0', 'nvme0n1']);
    const sda = out.filter((x) => x.labels!.disk === 'sda').map((x) => [x.name, x.value, x.type ?? 'gauge', x.unit]);
    expect(sda).toEqual([
      ['reads_completed_total', 100, 'counter', undefined],
      ['writes_completed_total', 50, 'counter', undefined],
      ['read_bytes_total', 8 * 512, 'counter', 'bytes'],
      ['written_bytes_total', 16 * 512, 'counter', 'bytes'],
      ['io_time_seconds_total', 0.9, 'counter', 'seconds'],
      ['read_time_seconds_total', 0.25, 'counter', 'seconds'],
      ['write_time_seconds_total', 0.75, 'counter', 'seconds'],
      ['io_time_weighted_seconds_total', 1, 'counter', 'seconds'],
      ['io_now', 2, 'gauge', undefined],
    ]);
    // A listed device is reported whatever node_exporter would do.
    const listed = await prom(build(IOSource, { type: 'IO', include: ['sda1'] }));
    expect([...new Set(listed.map((x) => x.labels!.disk))]).toEqual(['sda1']);
  });

  it('MemoryUsage: every /proc/meminfo field by name, kB ones in bytes; the summary for every writer', async () => {
    fake.write({ meminfo: 'MemTotal: 1000 kB\nMemFree: 500 kB\nMemAvailable: 600 kB\nActive(anon): 7 kB\nHugePages_Total: 3\n' });
    fake.use();
    const s = build(MemoryUsageSource, { type: 'MemoryUsage' });
    const out = await prom(s);
    expect(out.filter((x) => x.name === 'meminfo').map((x) => [x.labels!.field, x.value, x.unit])).toEqual([
      ['MemTotal', 1024 * 1000, 'bytes'],
      ['MemFree', 1024 * 500, 'bytes'],
      ['MemAvailable', 1024 * 600, 'bytes'],
      ['Active(anon)', 1024 * 7, 'bytes'],
      ['HugePages_Total', 3, undefined],
    ]);
    expect(valueOf(out, undefined, { type: 'available' })).toBe(600 * 1024);
    expect(names(await probeOnce(s))).toEqual([undefined]);
  });

  it('Host: machine-wide CPU seconds, boot time, clock and uname', async () => {
    fake.write({ stat: STAT });
    fake.use();
    const before = Date.now() / 1000;
    const out = await prom(build(HostSource, { type: 'Host', metrics: ['cpu', 'system'] }));
    expect(valueOf(out, 'cpu.seconds_total', { mode: 'softirq' })).toBe(0.07);
    expect(valueOf(out, 'boot_time_seconds')).toBe(1796067309);
    expect(valueOf(out, 'time_seconds')).toBeGreaterThanOrEqual(before);
    const uname = out.find((x) => x.name === 'uname_info')!;
    expect(Object.keys(uname.labels!).sort()).toEqual(['domainname', 'machine', 'nodename', 'release', 'sysname', 'version']);
    expect(uname.labels!.sysname).toBe('Linux');
    // None of it reaches pollect's names (the percent needs a second probe).
    expect(await probeOnce(build(HostSource, { type: 'Host', metrics: ['system'] }))).toEqual([]);
  });

  it("Process: the processes' CPU seconds as a counter, from the first probe", async () => {
    const tag = `pollect-prom-view-${process.pid}`;
    // The child spins until it has used 0.3 s of CPU (however long a loaded machine takes), then says so.
    const spin = "for (;;) { const u = process.cpuUsage(); if (u.user + u.system >= 300000) break; } console.log('ready'); setTimeout(() => {}, 60000)";
    const child = spawn(process.execPath, ['-e', spin, tag], { stdio: ['ignore', 'pipe', 'ignore'] });
    try {
      await new Promise((resolve) => child.stdout.once('data', resolve));
      const out = await prom(build(ProcessSource, { type: 'Process', procRegex: tag }));
      const cpu = valueOf(out, 'cpu_seconds_total', { pidx: '0' });
      // /proc counts whole clock ticks (10 ms) of user and system time.
      expect(cpu).toBeGreaterThanOrEqual(0.28);
      expect(cpu).toBeLessThan(5);
      expect(out.some((x) => x.name === 'load_percent')).toBe(false);
    } finally {
      child.kill();
    }
  });
});
