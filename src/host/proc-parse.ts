// Parsers of the Linux /proc files the host sources use: pure functions of a file's text (tested
// on real contents), each throwing when the text is not what the kernel writes there.

/** Kernel clock ticks per second for /proc/<pid>/stat and /proc/stat (USER_HZ is 100 on every Linux ABI). */
export const CLOCK_TICKS = 100;
/** /proc/diskstats counts 512-byte sectors whatever the device's real sector size. */
export const SECTOR_BYTES = 512;

function num(s: string | undefined): number {
  // Number('') is 0; a missing field must not read as a zero counter.
  if (s === undefined || s === '') return NaN;
  return Number(s);
}

// ---------------------------------------------------------------- /proc/loadavg

/** `/proc/loadavg`: the 1, 5 and 15 minute load averages. */
export function parseLoadavg(text: string): [number, number, number] {
  const f = text.trim().split(/\s+/);
  const out: [number, number, number] = [num(f[0]), num(f[1]), num(f[2])];
  if (!(Number.isFinite(out[0]) && Number.isFinite(out[1]) && Number.isFinite(out[2]))) throw new Error(`unexpected /proc/loadavg content: ${excerpt(text)}`);
  return out;
}

// ---------------------------------------------------------------- /proc/meminfo

/** `/proc/meminfo` as bytes by key (`kB` values multiplied by 1024; unitless ones as is). */
export function parseMeminfo(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const rest = line
      .slice(colon + 1)
      .trim()
      .split(/\s+/);
    const v = num(rest[0]);
    if (!Number.isFinite(v)) continue;
    out.set(line.slice(0, colon), rest[1] === 'kB' ? v * 1024 : v);
  }
  return out;
}

/** Only the named keys of `/proc/meminfo`, found with indexOf instead of parsing every line. */
export function meminfoValues(text: string, keys: readonly string[]): Map<string, number> {
  const out = new Map<string, number>();
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i]!;
    const at = text.startsWith(key + ':') ? 0 : text.indexOf('\n' + key + ':') + 1;
    if (at <= 0 && !text.startsWith(key + ':')) continue;
    const eol = text.indexOf('\n', at);
    const rest = text
      .slice(at + key.length + 1, eol < 0 ? text.length : eol)
      .trim()
      .split(/\s+/);
    const v = num(rest[0]);
    if (Number.isFinite(v)) out.set(key, rest[1] === 'kB' ? v * 1024 : v);
  }
  return out;
}

export interface MemSummary {
  total: number;
  available: number;
  /** As free(1) of procps-ng 4 computes it: total - available. */
  used: number;
  /** Page cache plus reclaimable slab, as psutil (and so pollect) reports `cached`. */
  cached: number;
  free: number;
  /** Block device buffers (`Buffers`). */
  buffers: number;
}

/** The figures free(1) shows, from parsed /proc/meminfo. */
export function memSummary(m: Map<string, number>): MemSummary {
  const total = m.get('MemTotal');
  const free = m.get('MemFree');
  if (total === undefined || free === undefined) throw new Error('/proc/meminfo has no MemTotal or MemFree');
  const cached = (m.get('Cached') ?? 0) + (m.get('SReclaimable') ?? 0);
  // Kernels before 3.14 have no MemAvailable; estimate it as procps does for them.
  const available = m.get('MemAvailable') ?? Math.min(total, free + cached + (m.get('Buffers') ?? 0));
  return { total, available, used: total - available, cached, free, buffers: m.get('Buffers') ?? 0 };
}

const SUMMARY_KEYS = ['MemTotal', 'MemFree', 'MemAvailable', 'Buffers', 'Cached', 'SReclaimable'] as const;

/** memSummary of a `/proc/meminfo` text. */
export function readMemSummary(text: string): MemSummary {
  return memSummary(meminfoValues(text, SUMMARY_KEYS));
}

// ---------------------------------------------------------------- /proc/stat

export const CPU_MODES = ['user', 'nice', 'system', 'idle', 'iowait', 'irq', 'softirq', 'steal'] as const;
export type CpuMode = (typeof CPU_MODES)[number];

/** Jiffies per mode of one cpu line; guest time is already inside user/nice, so it is left out. */
export interface CpuTimes {
  /** `all` for the aggregate line, else the core number. */
  cpu: string;
  times: Record<CpuMode, number>;
}

/** The `cpu` lines of `/proc/stat`. Missing trailing columns (old kernels) read as 0. */
export function parseStatCpu(text: string): CpuTimes[] {
  const out: CpuTimes[] = [];
  // The cpu lines come first; the rest (a long intr line) is not even split.
  let pos = 0;
  while (text.startsWith('cpu', pos)) {
    let end = text.indexOf('\n', pos);
    if (end < 0) end = text.length;
    const line = text.slice(pos, end);
    pos = end + 1;
    const f = line.split(/\s+/);
    const id = f[0]!.slice(3);
    if (id !== '' && !/^\d+$/.test(id)) continue;
    const t = {} as Record<CpuMode, number>;
    for (let i = 0; i < CPU_MODES.length; i++) {
      const v = f[i + 1] === undefined ? 0 : num(f[i + 1]);
      if (!Number.isFinite(v)) throw new Error(`unexpected /proc/stat line: ${excerpt(line)}`);
      t[CPU_MODES[i]!] = v;
    }
    out.push({ cpu: id === '' ? 'all' : id, times: t });
  }
  if (out.length === 0) throw new Error(`no cpu lines in /proc/stat: ${excerpt(text)}`);
  return out;
}

/** Percent of time per mode between two readings of one cpu; undefined on a counter reset. */
export function cpuPercents(prev: CpuTimes['times'], cur: CpuTimes['times']): Record<CpuMode, number> | undefined {
  const deltas = CPU_MODES.map((m) => cur[m] - prev[m]);
  const total = deltas.reduce((sum, d) => sum + d, 0);
  if (total <= 0 || deltas.some((d) => d < 0)) return undefined;
  return Object.fromEntries(CPU_MODES.map((m, i) => [m, (deltas[i]! / total) * 100])) as Record<CpuMode, number>;
}

// ---------------------------------------------------------------- /proc/net/dev

export interface NetCounters {
  name: string;
  rxBytes: number;
  rxPackets: number;
  txBytes: number;
  txPackets: number;
  /** Errors and dropped packets (NaN where the backend cannot tell). */
  rxErrs: number;
  rxDrop: number;
  txErrs: number;
  txDrop: number;
}

/**
 * `/proc/net/dev`. The name ends at the LAST colon of the line (the counters have none, an old
 * alias name may), and a long name or counter can leave no space after that colon.
 */
export function parseNetDev(text: string): NetCounters[] {
  const out: NetCounters[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const colon = line.lastIndexOf(':');
    if (colon <= 0 || line.includes('|')) continue;
    const f = line
      .slice(colon + 1)
      .trim()
      .split(/\s+/);
    if (f.length < 16) continue;
    const c: NetCounters = {
      name: line.slice(0, colon).trim(),
      rxBytes: num(f[0]),
      rxPackets: num(f[1]),
      txBytes: num(f[8]),
      txPackets: num(f[9]),
      rxErrs: num(f[2]),
      rxDrop: num(f[3]),
      txErrs: num(f[10]),
      txDrop: num(f[11]),
    };
    if (!c.name || !(Number.isFinite(c.rxBytes) && Number.isFinite(c.rxPackets) && Number.isFinite(c.txBytes) && Number.isFinite(c.txPackets))) continue;
    out.push(c);
  }
  // Every network namespace has lo: no interface at all means the file is not what it should be.
  if (out.length === 0) throw new Error(`no interfaces in /proc/net/dev: ${excerpt(text)}`);
  return out;
}

// ---------------------------------------------------------------- /proc/diskstats

export interface DiskCounters {
  name: string;
  major: number;
  minor: number;
  reads: number;
  writes: number;
  readBytes: number;
  writeBytes: number;
  /** Milliseconds spent doing I/O (undefined where the backend cannot tell). */
  ioMs?: number;
  /** Milliseconds spent by all reads, by all writes, and doing I/O weighted by the requests in flight. */
  readMs?: number;
  writeMs?: number;
  weightedIoMs?: number;
  /** Requests in flight now. */
  ioNow?: number;
}

/** `/proc/diskstats` (the 14-, 18- and 20-field layouts). */
export function parseDiskstats(text: string): DiskCounters[] {
  const out: DiskCounters[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const f = lines[i]!.trim().split(/\s+/);
    if (f.length < 14) continue;
    const d: DiskCounters = {
      major: num(f[0]),
      minor: num(f[1]),
      name: f[2]!,
      reads: num(f[3]),
      readBytes: num(f[5]) * SECTOR_BYTES,
      writes: num(f[7]),
      writeBytes: num(f[9]) * SECTOR_BYTES,
      ioMs: num(f[12]),
      readMs: num(f[6]),
      writeMs: num(f[10]),
      weightedIoMs: num(f[13]),
      ioNow: num(f[11]),
    };
    if (![d.major, d.minor, d.reads, d.readBytes, d.writes, d.writeBytes, d.ioMs].every(Number.isFinite)) continue;
    out.push(d);
  }
  // A container may have no block devices (empty file), but text without one device line is garbage.
  if (out.length === 0 && text.trim() !== '') throw new Error(`unexpected /proc/diskstats content: ${excerpt(text)}`);
  return out;
}

// ---------------------------------------------------------------- /proc/self/mountinfo

export interface MountInfo {
  major: number;
  minor: number;
  /** Root of the mount inside its filesystem (`/` unless a bind mount of a subdirectory). */
  root: string;
  mountPoint: string;
  fsType: string;
  /** The mount source (a device path, `server:/export`, `tmpfs`, ...). */
  source: string;
  /** Mounted read-only (`ro` in the mount's or the superblock's options). */
  readOnly: boolean;
}

/** Undoes the kernel's octal escapes in mountinfo fields (`\040` space, `\011` tab, `\012`, `\134`). */
export function unescapeMount(s: string): string {
  return s.includes('\\') ? s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8))) : s;
}

/** `/proc/<pid>/mountinfo`: `id parent major:minor root mountpoint opts [optional...] - type source superopts`. */
export function parseMountinfo(text: string): MountInfo[] {
  const out: MountInfo[] = [];
  for (const line of text.split('\n')) {
    if (!line) continue;
    const f = line.split(' ');
    const sep = f.indexOf('-', 6);
    if (sep < 0 || f.length < sep + 3) continue;
    const [maj, min] = f[2]!.split(':');
    out.push({
      major: num(maj),
      minor: num(min),
      root: unescapeMount(f[3]!),
      mountPoint: unescapeMount(f[4]!),
      fsType: unescapeMount(f[sep + 1]!),
      source: unescapeMount(f[sep + 2]!),
      readOnly: f[5]!.split(',').includes('ro') || (f[sep + 3] ?? '').split(',').includes('ro'),
    });
  }
  return out;
}

/** The last pid the kernel handed out: the 5th field of `/proc/loadavg`, or undefined. */
export function parseLastPid(loadavg: string): number | undefined {
  const v = Number(loadavg.slice(loadavg.trimEnd().lastIndexOf(' ') + 1));
  return Number.isInteger(v) && v > 0 ? v : undefined;
}

// ---------------------------------------------------------------- /proc/<pid>/stat, cmdline

export interface PidStat {
  pid: number;
  comm: string;
  /** user + system CPU time in clock ticks. */
  cpuTicks: number;
  /** Start time after boot in clock ticks (with pid, identifies a process). */
  startTicks: number;
  vsizeBytes: number;
  rssPages: number;
}

/** `/proc/<pid>/stat`. comm may hold spaces and parentheses, so it ends at the LAST `)`. */
export function parsePidStat(text: string): PidStat {
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  if (open < 0 || close < open) throw new Error(`unexpected /proc/<pid>/stat content: ${excerpt(text)}`);
  // Fields from state (field 3) on; index 0 here is field 3.
  const f = text.slice(close + 2).split(' ');
  const s: PidStat = {
    pid: num(text.slice(0, open).trim()),
    comm: text.slice(open + 1, close),
    cpuTicks: num(f[11]) + num(f[12]),
    startTicks: num(f[19]),
    vsizeBytes: num(f[20]),
    rssPages: num(f[21]),
  };
  if (
    !(Number.isFinite(s.pid) && Number.isFinite(s.cpuTicks) && Number.isFinite(s.startTicks) && Number.isFinite(s.vsizeBytes) && Number.isFinite(s.rssPages))
  ) {
    throw new Error(`unexpected /proc/<pid>/stat content: ${excerpt(text)}`);
  }
  return s;
}

/** `/proc/<pid>/cmdline`: NUL-separated arguments joined by spaces, as psutil's cmdline joined. */
export function parseCmdline(text: string): string {
  let end = text.length;
  while (end > 0 && text.charCodeAt(end - 1) === 0) end--;
  return text.slice(0, end).replace(/\0/g, ' ');
}

export function excerpt(text: string, max = 80): string {
  const t = text.replace(/[^\x20-\x7e]/g, '.');
  return JSON.stringify(t.length > max ? t.slice(0, max) + '…' : t);
}
