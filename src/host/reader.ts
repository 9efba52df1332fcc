// What the host sources read from the machine, whatever reads it: /proc on Linux (procfs.ts), the
// systeminformation package elsewhere (systeminformation.ts). A source is handed a reader and never
// asks which one it has.
import { ProcfsReader } from './procfs.js';
import { SystemInformationReader } from './systeminformation.js';
import type { HostBackend, HostReader } from './types.js';

export type { CpuTimes, DiskCounters, MemSummary, NetCounters } from './proc-parse.js';
export type { FsUsage, FsUsageResult } from './fsusage.js';
export { backendSchema, type HostBackend, type HostReader, type MountUsage, type MountUsageResult, type ProcessReading, type ProcessWatch } from './types.js';

/** The reader for a `backend` setting: procfs on Linux unless told otherwise. */
export function hostReader(backend: HostBackend, platform: NodeJS.Platform = process.platform): HostReader {
  const procfs = backend === 'procfs' || (backend === 'auto' && platform === 'linux');
  return procfs ? new ProcfsReader() : new SystemInformationReader();
}
