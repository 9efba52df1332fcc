// The host reader on Linux: the kernel's own files under /proc, and statfs.
import { SourceError } from '../sdk/index.js';
import { MountTable, nodeExporterMounts } from './mounts.js';
import { readError } from './names.js';
import { ProcFiles } from './proc-files.js';
import {
  CLOCK_TICKS,
  type MountInfo,
  parseDiskstats,
  parseLoadavg,
  memSummary,
  parseMeminfo,
  parseNetDev,
  parseStatCpu,
  readMemSummary,
} from './proc-parse.js';
import { ProcfsProcessWatch } from './processes.js';
import { statPaths, type FsUsageResult } from './fsusage.js';
import type { HostReader, MountUsageResult, ProcessWatch } from './types.js';

const NONE: ReadonlySet<string> = new Set();

export class ProcfsReader implements HostReader {
  readonly cpuTimeHz = CLOCK_TICKS;
  private readonly files = new ProcFiles();
  private readonly mounts = new MountTable(() => this.files.read('/proc/self/mountinfo'));

  async loadAvg(): Promise<[number, number, number]> {
    return this.parse('/proc/loadavg', parseLoadavg);
  }

  async memory() {
    return this.parse('/proc/meminfo', readMemSummary);
  }

  async meminfo() {
    return this.parse('/proc/meminfo', (text) => {
      const fields = parseMeminfo(text);
      // Checks the fields every summary needs are there.
      memSummary(fields);
      return fields;
    });
  }

  async bootTime(): Promise<number> {
    return this.parse('/proc/stat', (text) => {
      const m = /^btime (\d+)$/m.exec(text);
      if (!m) throw new Error('no btime line');
      return Number(m[1]);
    });
  }

  async cpuTimes() {
    return this.parse('/proc/stat', parseStatCpu);
  }

  async netCounters() {
    return this.parse('/proc/net/dev', parseNetDev);
  }

  async diskCounters() {
    return this.parse('/proc/diskstats', parseDiskstats);
  }

  async fsUsage(paths: readonly string[] | undefined, deadlineMs: number): Promise<FsUsageResult> {
    // Mount points under another root (HOST_PROC) are not ours to stat directly.
    const ours = this.files.root === '/proc';
    let devices: Map<string, string> | undefined;
    let direct = NONE;
    try {
      if (!paths) devices = new Map(this.mounts.localMounts().map((m) => [m.mountPoint, m.source]));
      if (ours) direct = this.mounts.directPaths();
    } catch (err) {
      throw new SourceError(readError('/proc/self/mountinfo', err));
    }
    const res = await statPaths(paths ?? [...devices!.keys()], direct, deadlineMs);
    if (devices) for (const u of res.usage) u.device = devices.get(u.path);
    return res;
  }

  async mountUsage(paths: readonly string[] | undefined, deadlineMs: number): Promise<MountUsageResult> {
    let mounts: MountInfo[];
    let direct = NONE;
    try {
      const all = this.mounts.mounts();
      if (paths) {
        // The mount visible at each listed mount point (the last one mounted there).
        const listed = new Set(paths);
        const at = new Map(all.filter((m) => listed.has(m.mountPoint)).map((m) => [m.mountPoint, m]));
        mounts = [...at.values()];
      } else {
        mounts = nodeExporterMounts(all);
      }
      if (this.files.root === '/proc') direct = this.mounts.directPaths();
    } catch (err) {
      throw new SourceError(readError('/proc/self/mountinfo', err));
    }
    const res = await statPaths(
      mounts.map((m) => m.mountPoint),
      direct,
      deadlineMs,
    );
    const byPath = new Map(mounts.map((m) => [m.mountPoint, m]));
    const labels = (path: string) => {
      const m = byPath.get(path)!;
      return { path, device: m.source, fsType: m.fsType, readOnly: m.readOnly };
    };
    return {
      usage: res.usage.map((u) => ({ ...u, ...labels(u.path) })),
      errors: res.errors.map((e) => ({ ...labels(e.path), message: e.message })),
    };
  }

  processes(pattern: RegExp): ProcessWatch {
    return new ProcfsProcessWatch(this.files, pattern);
  }

  close(): void {
    this.files.close();
  }

  /** Reads a file read every tick and parses it; either failure is a SourceError naming the file. */
  private parse<T>(path: string, parse: (text: string) => T): T {
    try {
      return parse(this.files.readKept(path));
    } catch (err) {
      throw new SourceError(readError(path, err));
    }
  }
}
