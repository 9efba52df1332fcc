// The host sources' path for systems without /proc: node's os module where it suffices (no child
// process), systeminformation (imported lazily) for the rest. Each function returns the same
// shapes as the procfs parsers, so the sources compute rates and labels the same way.
import { cpus, loadavg } from 'node:os';
import type { CpuTimes, DiskCounters, MemSummary, NetCounters } from './procfs.js';
import type { FsUsage } from './fsusage.js';
import type { JsonSchema } from '../../sdk/index.js';

export type HostBackend = 'auto' | 'procfs' | 'systeminformation';

/** The `backend` param every host source accepts. */
export const backendSchema: JsonSchema = {
  type: 'string',
  enum: ['auto', 'procfs', 'systeminformation'],
  description: 'Where readings come from: auto (procfs on Linux, systeminformation elsewhere), procfs or systeminformation',
};

/** Whether to read /proc directly for this backend setting on this platform. */
export function useProcfs(backend: HostBackend | undefined, platform: NodeJS.Platform = process.platform): boolean {
  if (backend === 'procfs') return true;
  if (backend === 'systeminformation') return false;
  return platform === 'linux';
}

type SI = typeof import('systeminformation');
let si: Promise<SI> | undefined;
function load(): Promise<SI> {
  si ??= import('systeminformation').then((m) => ((m as { default?: SI }).default ?? m) as SI);
  return si;
}

export function osLoadavg(): [number, number, number] {
  const [a, b, c] = loadavg();
  return [a ?? NaN, b ?? NaN, c ?? NaN];
}

export async function siMemory(): Promise<MemSummary> {
  const m = await (await load()).mem();
  return { total: m.total, available: m.available, used: m.total - m.available, cached: m.cached + (m.reclaimable ?? 0), free: m.free };
}

/** CPU times from os.cpus() (milliseconds; only ratios are used). Modes it lacks read as 0. */
export function osCpuTimes(): CpuTimes[] {
  const zero = () => ({ user: 0, nice: 0, system: 0, idle: 0, iowait: 0, irq: 0, softirq: 0, steal: 0 });
  const all = { cpu: 'all', times: zero() };
  const out: CpuTimes[] = [all];
  cpus().forEach((c, i) => {
    const t = { ...zero(), user: c.times.user, nice: c.times.nice, system: c.times.sys, idle: c.times.idle, irq: c.times.irq };
    for (const k of Object.keys(t) as (keyof typeof t)[]) all.times[k] += t[k];
    out.push({ cpu: String(i), times: t });
  });
  return out;
}

/** Byte counters per interface; systeminformation has no packet counters (NaN: not emitted). */
export async function siNetCounters(): Promise<NetCounters[]> {
  const stats = await (await load()).networkStats('*');
  return stats.map((s) => ({ name: s.iface, rxBytes: s.rx_bytes, txBytes: s.tx_bytes, rxPackets: NaN, txPackets: NaN }));
}

/** systeminformation has only machine-wide I/O counters: one device named `all`, no busy time. */
export async function siDiskCounters(): Promise<DiskCounters[]> {
  const s = await load();
  const [io, fs] = await Promise.all([s.disksIO(), s.fsStats()]);
  if (!io && !fs) return [];
  return [{ name: 'all', major: 0, minor: 0, reads: io?.rIO ?? NaN, writes: io?.wIO ?? NaN, readBytes: fs?.rx ?? NaN, writeBytes: fs?.wx ?? NaN }];
}

export interface SiMount extends FsUsage {
  device: string;
  fsType: string;
}

/** Mounted filesystems with sizes (df on Unix); inode counts are not available. */
export async function siFsUsage(): Promise<SiMount[]> {
  const list = await (await load()).fsSize();
  return list.map((f) => ({ path: f.mount, device: f.fs, fsType: f.type, total: f.size, used: f.used, free: f.available }));
}

export interface SiProcess {
  pid: number;
  cmdline: string;
  cpuPercent: number;
  vsizeBytes: number;
  rssBytes: number;
}

export async function siProcesses(): Promise<SiProcess[]> {
  const p = await (await load()).processes();
  return p.list.map((x) => ({
    pid: x.pid,
    cmdline: x.params ? `${x.command} ${x.params}` : x.command,
    cpuPercent: x.cpu,
    vsizeBytes: x.memVsz * 1024,
    rssBytes: x.memRss * 1024,
  }));
}
