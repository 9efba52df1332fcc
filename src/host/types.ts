// What a host reader offers, apart from the readers themselves (reader.ts picks one), so the
// readers can name these types without importing the module that imports them.
import type { CpuTimes, DiskCounters, MemSummary, NetCounters } from './proc-parse.js';
import type { FsUsageResult } from './fsusage.js';

export type HostBackend = 'auto' | 'procfs' | 'systeminformation';

/** The `backend` param every host source accepts. */
export const backendSchema = {
  type: 'string',
  enum: ['auto', 'procfs', 'systeminformation'],
  default: 'auto',
  description: 'Where readings come from: auto (procfs on Linux, systeminformation elsewhere), procfs or systeminformation',
} as const;

export interface HostReader {
  /** The 1, 5 and 15 minute load averages. */
  loadAvg(): Promise<[number, number, number]>;
  memory(): Promise<MemSummary>;
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
  vsizeBytes: number;
  rssBytes: number;
}
