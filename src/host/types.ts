// What a host reader offers, apart from the readers themselves (reader.ts picks one), so the
// readers can name these types without importing the module that imports them.
import type { CpuTimes, DiskCounters, MemSummary, NetCounters } from './proc-parse.js';
import type { FsUsage, FsUsageResult } from './fsusage.js';

export type HostBackend = 'auto' | 'procfs' | 'systeminformation';

/** The `backend` param every host source accepts. */
export const backendSchema = {
  type: 'string',
  enum: ['auto', 'procfs', 'systeminformation'],
  default: 'auto',
  description: 'Where readings come from: auto (procfs on Linux, systeminformation elsewhere), procfs or systeminformation',
} as const;

/** A filesystem's sizes with its mount, as node_exporter labels them. */
export interface MountUsage extends FsUsage {
  device: string;
  fsType: string;
  readOnly: boolean;
}

export interface MountUsageResult {
  usage: MountUsage[];
  /** Mounts that gave no answer (node_exporter's device_error). */
  errors: (Omit<MountUsage, 'total' | 'used' | 'free'> & { message: string })[];
}

export interface HostReader {
  /** Units of cpuTimes() per second. */
  readonly cpuTimeHz: number;
  /** The 1, 5 and 15 minute load averages. */
  loadAvg(): Promise<[number, number, number]>;
  memory(): Promise<MemSummary>;
  /** Every field of /proc/meminfo (`kB` ones in bytes), or undefined where there is no such file. */
  meminfo(): Promise<Map<string, number> | undefined>;
  /** Seconds since the epoch at boot. */
  bootTime(): Promise<number>;
  /** CPU time per mode: the machine (`cpu: 'all'`) first, then each core. */
  cpuTimes(): Promise<CpuTimes[]>;
  netCounters(): Promise<NetCounters[]>;
  diskCounters(): Promise<DiskCounters[]>;
  /**
   * Sizes of the filesystems mounted at `paths`, or of every local data filesystem (each device
   * once, with its device) when no paths are given. Waits at most `deadlineMs` for a filesystem
   * that may hang (network, FUSE); what gave no answer is in `errors`.
   */
  fsUsage(paths: readonly string[] | undefined, deadlineMs: number): Promise<FsUsageResult>;
  /**
   * Sizes of the mounts node_exporter reports by default (see nodeExporterMounts), or of the
   * mount points among `paths`, with device, type and read-only flag; undefined without a mount table.
   */
  mountUsage(paths: readonly string[] | undefined, deadlineMs: number): Promise<MountUsageResult | undefined>;
  /** The processes whose command line matches `pattern`, followed from one read to the next. */
  processes(pattern: RegExp): ProcessWatch;
  /** Releases what the reader keeps open. */
  close(): void;
}

export interface ProcessWatch {
  /** The matching processes in pid order; waits at most `deadlineMs` for a read that may block. */
  read(deadlineMs: number): Promise<ProcessReading[]>;
}

export interface ProcessReading {
  pid: number;
  /** CPU use since the previous read, in percent of one core; undefined while it cannot be known yet. */
  cpuPercent?: number;
  /** User and system CPU time since the process started (undefined where the backend cannot tell). */
  cpuSeconds?: number;
  vsizeBytes: number;
  rssBytes: number;
}
