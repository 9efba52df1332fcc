// The host reader where there is no /proc: node's os module where it suffices (no child process),
// the systeminformation package (imported on first use) for the rest. Readings have the shapes the
// procfs parsers give, so the sources compute rates and labels the same way.
import { cpus, loadavg, uptime } from 'node:os';
import { SourceError } from '../sdk/index.js';
import { readError } from './names.js';
import type { CpuTimes, DiskCounters, MemSummary, NetCounters } from './proc-parse.js';
import type { FsUsage, FsUsageResult } from './fsusage.js';
import type { HostReader, MountUsageResult, ProcessReading, ProcessWatch } from './types.js';

type SI = typeof import('systeminformation');

export class SystemInformationReader implements HostReader {
  /** os.cpus() counts milliseconds. */
  readonly cpuTimeHz = 1000;
  private si: Promise<SI> | undefined;

  async meminfo(): Promise<undefined> {
    return undefined;
  }

  async bootTime(): Promise<number> {
    return Math.round(Date.now() / 1000 - uptime());
  }

  /** No mount table here: the `node` naming's filesystems need the procfs backend. */
  async mountUsage(): Promise<MountUsageResult | undefined> {
    return undefined;
  }

  async loadAvg(): Promise<[number, number, number]> {
    const [a, b, c] = loadavg();
    return [a ?? NaN, b ?? NaN, c ?? NaN];
  }

  async memory(): Promise<MemSummary> {
    const m = await this.ask('memory figures', (si) => si.mem());
    return {
      total: m.total,
      available: m.available,
      used: m.total - m.available,
      cached: m.cached + (m.reclaimable ?? 0),
      free: m.free,
      buffers: m.buffers,
    };
  }

  /** CPU times from os.cpus() (milliseconds; only ratios are used). Modes it lacks read as 0. */
  async cpuTimes(): Promise<CpuTimes[]> {
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
  async netCounters(): Promise<NetCounters[]> {
    const stats = await this.ask('network counters', (si) => si.networkStats('*'));
    return stats.map((s) => ({
      name: s.iface,
      rxBytes: s.rx_bytes,
      txBytes: s.tx_bytes,
      rxPackets: NaN,
      txPackets: NaN,
      rxErrs: NaN,
      rxDrop: NaN,
      txErrs: NaN,
      txDrop: NaN,
    }));
  }

  /** systeminformation has only machine-wide I/O counters: one device named `all`, no busy time. */
  async diskCounters(): Promise<DiskCounters[]> {
    const [io, fs] = await this.ask('disk counters', (si) => Promise.all([si.disksIO(), si.fsStats()]));
    if (!io && !fs) return [];
    return [{ name: 'all', major: 0, minor: 0, reads: io?.rIO ?? NaN, writes: io?.wIO ?? NaN, readBytes: fs?.rx ?? NaN, writeBytes: fs?.wx ?? NaN }];
  }

  /** Mounted filesystems as df shows them (no inode counts), each device once unless paths are named. */
  async fsUsage(paths: readonly string[] | undefined): Promise<FsUsageResult> {
    const list = await this.ask('filesystem sizes', (si) => si.fsSize());
    const all: FsUsage[] = list.map((f) => ({ path: f.mount, device: f.fs, total: f.size, used: f.used, free: f.available }));
    if (paths) return { usage: paths.flatMap((p) => all.filter((u) => u.path === p).slice(0, 1)), errors: [] };
    const seen = new Set<string | undefined>();
    return { usage: all.filter((u) => !seen.has(u.device) && seen.add(u.device)), errors: [] };
  }

  processes(pattern: RegExp): ProcessWatch {
    return {
      read: async (): Promise<ProcessReading[]> => {
        const p = await this.ask('the process list', (si) => si.processes());
        return p.list
          .filter((x) => pattern.test(x.params ? `${x.command} ${x.params}` : x.command))
          .sort((a, b) => a.pid - b.pid)
          .map((x) => ({
            pid: x.pid,
            cpuPercent: Number.isFinite(x.cpu) ? x.cpu : undefined,
            vsizeBytes: x.memVsz * 1024,
            rssBytes: x.memRss * 1024,
          }));
      },
    };
  }

  close(): void {}

  /** Runs a systeminformation call; its failure is a SourceError saying what could not be read. */
  private async ask<T>(what: string, fn: (si: SI) => Promise<T>): Promise<T> {
    this.si ??= import('systeminformation').then((m) => ((m as { default?: SI }).default ?? m) as SI);
    try {
      return await fn(await this.si);
    } catch (err) {
      throw new SourceError(readError(what, err));
    }
  }
}
