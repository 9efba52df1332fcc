// Interface against /proc/net/dev, real traffic on lo, and fake counter files for exact rates,
// resets and odd names.
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { createServer, connect } from 'node:net';
import { readFileSync } from 'node:fs';
import { InterfaceSource, type InterfaceConfig } from '../../src/sources/interface/index.js';
import { SourceError, type Sample } from '../../src/sdk/index.js';
import { probeOnce, valueOf } from '../helpers/probe.js';
import { fakeProc, GARBAGE } from '../helpers/hostproc.js';
import { build } from '../helpers/plugin.js';

const fake = fakeProc();
afterEach(() => fake.restore());
afterAll(() => fake.remove());

const HEAD = `Inter-|   Receive                                                |  Transmit
 face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
`;
/** A /proc/net/dev line as the kernel prints it. */
const line = (name: string, rxB: number, rxP: number, txB: number, txP: number) =>
  `${name.padStart(6)}:${String(rxB).padStart(8)} ${String(rxP).padStart(7)}    0    0    0     0          0         0 ${String(txB).padStart(8)} ${String(txP).padStart(7)}    0    0    0     0       0          0\n`;

/** Probes and returns the samples with the monotonic times just before and after. */
async function timed(s: InterfaceSource): Promise<{ samples: Sample[]; a: number; b: number }> {
  const a = performance.now();
  const samples = await probeOnce(s);
  return { samples, a, b: performance.now() };
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function netdevLo(): { rxBytes: number; txBytes: number } {
  const l = readFileSync('/proc/net/dev', 'utf8')
    .split('\n')
    .find((x) => x.trim().startsWith('lo:'))!;
  const f = l
    .slice(l.indexOf(':') + 1)
    .trim()
    .split(/\s+/)
    .map(Number);
  return { rxBytes: f[0]!, txBytes: f[8]! };
}

describe('Interface on this machine', () => {
  it('primes on the first probe, then reports lo traffic; totals match /proc/net/dev', async () => {
    const s = build(InterfaceSource, { type: 'Interface', include: ['lo'], includeTotal: true });
    const before = netdevLo();
    const first = await timed(s);
    const after = netdevLo();
    expect(first.samples.map((x) => x.name)).toEqual(['total_bytes_sent', 'total_packets_sent', 'total_bytes_recv', 'total_packets_recv']);
    const total = valueOf(first.samples, 'total_bytes_recv', { interface: 'lo' });
    expect(total).toBeGreaterThanOrEqual(before.rxBytes);
    expect(total).toBeLessThanOrEqual(after.rxBytes);
    expect(first.samples.find((x) => x.name === 'total_bytes_sent')!.type).toBe('counter');

    // Send 4 MiB through lo.
    const N = 4 * 1024 * 1024;
    const server = createServer((sock) => sock.resume());
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    await new Promise<void>((resolve, reject) => {
      const c = connect(port, '127.0.0.1', () => c.end(Buffer.alloc(N)));
      c.on('close', () => resolve());
      c.on('error', reject);
    });
    server.close();
    const second = await timed(s);
    const rate = valueOf(second.samples, 'recv_bytes_sec', { interface: 'lo' });
    // rate * (real elapsed) >= N, and the real elapsed is at most b2 - a1.
    expect(rate * ((second.b - first.a) / 1000)).toBeGreaterThanOrEqual(N);
    expect(valueOf(second.samples, 'sent_packets_sec', { interface: 'lo' })).toBeGreaterThan(0);
  });

  it('runs the non-Linux path (systeminformation): bytes only', async () => {
    const s = build(InterfaceSource, { type: 'Interface', include: ['lo'], includeTotal: true, backend: 'systeminformation' });
    const samples = await probeOnce(s);
    const lo = netdevLo();
    expect(samples.map((x) => x.name)).toEqual(['total_bytes_sent', 'total_bytes_recv']);
    expect(valueOf(samples, 'total_bytes_recv', { interface: 'lo' })).toBeLessThanOrEqual(lo.rxBytes);
    await sleep(50);
    const again = await probeOnce(s);
    expect(again.map((x) => x.name)).toEqual(['total_bytes_sent', 'sent_bytes_sec', 'total_bytes_recv', 'recv_bytes_sec']);
  });
});

describe('Interface on fake counters', () => {
  const make = (cfg: Partial<InterfaceConfig> = {}) => build(InterfaceSource, { type: 'Interface', ...cfg });

  it('divides by the real elapsed time; names with dots and colons; pollect labels', async () => {
    fake.use();
    fake.write({ 'net/dev': HEAD + line('lo', 100, 1, 100, 1) + line('eth0.100', 1000, 10, 5000, 50) + line('eth0:1', 7, 1, 7, 1) });
    const s = make({ exclude: ['lo'] });
    const p1 = await timed(s);
    expect(p1.samples).toEqual([]);
    await sleep(200);
    fake.write({
      'net/dev': HEAD + line('lo', 100, 1, 100, 1) + line('eth0.100', 1000 + 300_000, 10 + 300, 5000 + 60_000, 50 + 60) + line('eth0:1', 7, 1, 7, 1),
    });
    const p2 = await timed(s);
    const labels = [...new Set(p2.samples.map((x) => x.labels!.interface))];
    expect(labels).toEqual(['eth0_100', 'eth0:1']);
    const r = valueOf(p2.samples, 'recv_bytes_sec', { interface: 'eth0_100' });
    expect(r).toBeGreaterThanOrEqual(300_000 / ((p2.b - p1.a) / 1000));
    expect(r).toBeLessThanOrEqual(300_000 / ((p2.a - p1.b) / 1000));
    const sentPackets = valueOf(p2.samples, 'sent_packets_sec', { interface: 'eth0_100' });
    expect(sentPackets / r).toBeCloseTo(60 / 300_000, 10);
    expect(valueOf(p2.samples, 'sent_bytes_sec', { interface: 'eth0:1' })).toBe(0);
    expect(Number.isInteger(r)).toBe(false); // a float, not pollect's int(seconds)
  });

  it('gives no negative rate when counters reset (interface re-created) and resumes after', async () => {
    fake.use();
    const s = make({ include: ['veth0'] });
    fake.write({ 'net/dev': HEAD + line('veth0', 9_000_000, 9000, 9_000_000, 9000) });
    await probeOnce(s);
    await sleep(20);
    fake.write({ 'net/dev': HEAD + line('veth0', 500, 5, 9_000_100, 9001) });
    const reset = await probeOnce(s);
    // Received counters went back: no rate for them; sent ones still moved forward.
    expect(reset.map((x) => x.name)).toEqual(['sent_bytes_sec', 'sent_packets_sec']);
    expect(reset.every((x) => x.value >= 0)).toBe(true);
    await sleep(20);
    fake.write({ 'net/dev': HEAD + line('veth0', 1500, 15, 9_000_200, 9002) });
    const resumed = await probeOnce(s);
    expect(resumed.map((x) => x.name)).toEqual(['sent_bytes_sec', 'sent_packets_sec', 'recv_bytes_sec', 'recv_packets_sec']);
    expect(resumed.every((x) => x.value > 0)).toBe(true);
  });

  it('keeps per-instance state: two executors at different tick times do not disturb each other', async () => {
    fake.use();
    const fast = make({ include: ['eth0'] });
    const slow = make({ include: ['eth0'] });
    fake.write({ 'net/dev': HEAD + line('eth0', 0, 0, 0, 0) });
    const f0 = await timed(fast);
    const s0 = await timed(slow);
    await sleep(100);
    fake.write({ 'net/dev': HEAD + line('eth0', 10_000, 10, 0, 0) });
    const f1 = await timed(fast); // the fast one probes in between
    await sleep(100);
    fake.write({ 'net/dev': HEAD + line('eth0', 20_000, 20, 0, 0) });
    const f2 = await timed(fast);
    const s2 = await timed(slow);
    const slowRate = valueOf(s2.samples, 'recv_bytes_sec', { interface: 'eth0' });
    // The slow one's rate covers its own interval (20 000 bytes), not the fast one's last (10 000).
    expect(slowRate).toBeGreaterThanOrEqual(20_000 / ((s2.b - s0.a) / 1000));
    expect(slowRate).toBeLessThanOrEqual(20_000 / ((s2.a - s0.b) / 1000));
    const fastRate = valueOf(f2.samples, 'recv_bytes_sec', { interface: 'eth0' });
    expect(fastRate).toBeGreaterThanOrEqual(10_000 / ((f2.b - f1.a) / 1000));
    expect(fastRate).toBeLessThanOrEqual(10_000 / ((f2.a - f1.b) / 1000));
    expect(f0.samples).toEqual([]);
  });

  it('fails clearly on garbage, an empty file and a missing file', async () => {
    fake.use();
    for (const text of [GARBAGE, '', HEAD]) {
      fake.write({ 'net/dev': text });
      const err = await probeOnce(make()).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(SourceError);
      expect((err as Error).message).toMatch(/^cannot read \/proc\/net\/dev: no interfaces in \/proc\/net\/dev: /);
    }
    process.env.HOST_PROC = '/nonexistent';
    await expect(probeOnce(make())).rejects.toThrow(/^cannot read \/proc\/net\/dev: ENOENT$/);
  });
});
