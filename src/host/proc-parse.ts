// Readers and parsers for the Linux /proc files the host sources use. Parsers are pure functions
// of the file's text (tested on real contents); readers are cheap synchronous reads into one
// reused buffer, because procfs files are generated in memory and never wait for a disk.
import { closeSync, openSync, readSync, readdirSync } from 'node:fs';
import { endianness } from 'node:os';

/** Kernel clock ticks per second for /proc/<pid>/stat and /proc/stat (USER_HZ is 100 on every Linux ABI). */
export const CLOCK_TICKS = 100;
/** /proc/diskstats counts 512-byte sectors whatever the device's real sector size. */
export const SECTOR_BYTES = 512;

let buf = Buffer.allocUnsafe(64 * 1024);

/**
 * A /proc path, moved under $HOST_PROC when that is set (as gopsutil does): for a container that
 * mounts the host's /proc elsewhere, and for tests that feed the parsers odd files.
 */
export function procPath(path: string): string {
  return underRoot(run().root, path);
}

function underRoot(root: string | undefined, path: string): string {
  return root && path.startsWith('/proc') ? root + path.slice(5) : path;
}

/**
 * What stays true until the current synchronous run of code ends. An executor probes all its
 * synchronous sources in one run, so they share one reading of each system-wide file, and
 * $HOST_PROC (a getenv call) is looked up once per run instead of once per file.
 */
interface Run {
  root: string | undefined;
  texts: Map<string, string>;
}
let current: Run | undefined;
function run(): Run {
  if (!current) {
    current = { root: process.env.HOST_PROC, texts: new Map() };
    queueMicrotask(endRun);
  }
  return current;
}
function endRun(): void {
  current = undefined;
}

/** Reads a whole file from offset 0 into the shared buffer; latin1 text. */
function readFd(fd: number): string {
  let len = 0;
  for (;;) {
    if (len === buf.length) {
      const bigger = Buffer.allocUnsafe(buf.length * 2);
      buf.copy(bigger, 0, 0, len);
      buf = bigger;
    }
    const n = readSync(fd, buf, len, buf.length - len, len);
    if (n === 0) break;
    len += n;
  }
  return buf.toString('latin1', 0, len);
}

/**
 * Reads a whole procfs file as latin1 text (procfs reports size 0, so read until EOF).
 * Throws the fs error (ENOENT for a vanished pid, ...).
 */
export function readProc(path: string): string {
  return readWhole(procPath(path));
}

/** Opens, reads and closes a file given by its full path. */
function readWhole(full: string): string {
  const fd = openSync(full, 'r');
  try {
    return readFd(fd);
  } finally {
    closeSync(fd);
  }
}

/** Descriptors of system-wide /proc files kept open: reading from offset 0 regenerates them. */
const kept = new Map<string, number>();

/**
 * readProc for the system-wide files (/proc/stat, /proc/meminfo, ...) that several sources read
 * every tick: one reading per synchronous run (see Run), through a descriptor kept open, so a
 * tick costs one pread per file instead of open, read and close per source. Files under
 * $HOST_PROC are opened every time: they may be ordinary files that get replaced.
 */
export function readProcShared(path: string): string {
  const r = run();
  const full = underRoot(r.root, path);
  let text = r.texts.get(full);
  if (text !== undefined) return text;
  if (r.root) {
    text = readWhole(full);
  } else {
    let fd = kept.get(full);
    if (fd === undefined) {
      fd = openSync(full, 'r');
      kept.set(full, fd);
    }
    try {
      text = readFd(fd);
    } catch (err) {
      kept.delete(full);
      closeSync(fd);
      throw err;
    }
  }
  r.texts.set(full, text);
  return text;
}

/** The numeric entries of /proc (the pids). */
export function listPids(procDir = '/proc'): number[] {
  const out: number[] = [];
  const names = readdirSync(procPath(procDir));
  for (let i = 0; i < names.length; i++) {
    const name = names[i]!;
    const c = name.charCodeAt(0);
    if (c >= 48 && c <= 57) out.push(Number(name));
  }
  return out;
}

/** Whether all seven are finite (no array of them per line). */
function allFinite7(a: number, b: number, c: number, d: number, e: number, f: number, g: number): boolean {
  return Number.isFinite(a) && Number.isFinite(b) && Number.isFinite(c) && Number.isFinite(d) && Number.isFinite(e) && Number.isFinite(f) && Number.isFinite(g);
}

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
    const rest = line.slice(colon + 1).trim().split(/\s+/);
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
    const rest = text.slice(at + key.length + 1, eol < 0 ? text.length : eol).trim().split(/\s+/);
    const v = num(rest[0]);
    if (Number.isFinite(v)) out.set(key, rest[1] === 'kB' ? v * 1024 : v);
  }
  return out;
}

const SUMMARY_KEYS = ['MemTotal', 'MemFree', 'MemAvailable', 'Buffers', 'Cached', 'SReclaimable'] as const;

/** memSummary of a `/proc/meminfo` text. */
export function readMemSummary(text: string): MemSummary {
  return memSummary(meminfoValues(text, SUMMARY_KEYS));
}

export interface MemSummary {
  total: number;
  available: number;
  /** As free(1) of procps-ng 4 computes it: total - available. */
  used: number;
  /** Page cache plus reclaimable slab, as psutil (and so pollect) reports `cached`. */
  cached: number;
  free: number;
}

/** The figures free(1) shows, from parsed /proc/meminfo. */
export function memSummary(m: Map<string, number>): MemSummary {
  const total = m.get('MemTotal');
  const free = m.get('MemFree');
  if (total === undefined || free === undefined) throw new Error('/proc/meminfo has no MemTotal or MemFree');
  const cached = (m.get('Cached') ?? 0) + (m.get('SReclaimable') ?? 0);
  // Kernels before 3.14 have no MemAvailable; estimate it as procps does for them.
  const available = m.get('MemAvailable') ?? Math.min(total, free + cached + (m.get('Buffers') ?? 0));
  return { total, available, used: total - available, cached, free };
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

// ---------------------------------------------------------------- /proc/net/dev

export interface NetCounters {
  name: string;
  rxBytes: number;
  rxPackets: number;
  txBytes: number;
  txPackets: number;
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
    const f = line.slice(colon + 1).trim().split(/\s+/);
    if (f.length < 16) continue;
    const c: NetCounters = {
      name: line.slice(0, colon).trim(),
      rxBytes: num(f[0]),
      rxPackets: num(f[1]),
      txBytes: num(f[8]),
      txPackets: num(f[9]),
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
    };
    if (!(allFinite7(d.major, d.minor, d.reads, d.readBytes, d.writes, d.writeBytes, d.ioMs!))) continue;
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
    });
  }
  return out;
}

/** Filesystem types that hold no user data (kernel interfaces, memory-backed, read-only images). */
const PSEUDO_FS = new Set([
  'proc', 'sysfs', 'devtmpfs', 'devpts', 'tmpfs', 'ramfs', 'securityfs', 'cgroup', 'cgroup2', 'pstore',
  'bpf', 'debugfs', 'tracefs', 'configfs', 'fusectl', 'mqueue', 'hugetlbfs', 'autofs', 'binfmt_misc',
  'rpc_pipefs', 'nsfs', 'efivarfs', 'selinuxfs', 'squashfs', 'iso9660', 'nfsd', 'sockfs', 'pipefs',
  'anon_inodefs', 'devfs', 'cpuset',
]);
/** Network filesystems: a statfs on them may hang for minutes when the server is gone. */
const NETWORK_FS = new Set([
  'nfs', 'nfs4', 'cifs', 'smb3', 'smbfs', 'ncpfs', 'ceph', 'glusterfs', 'lustre', 'gpfs', 'afs', 'coda',
  '9p', 'davfs', 'ocfs2', 'beegfs', 'orangefs', 'vboxsf', 'virtiofs',
]);

/** Whether a mount is a local filesystem with user data (the default set of DiskUsage and Host). */
export function isLocalDataFs(m: MountInfo): boolean {
  if (PSEUDO_FS.has(m.fsType) || NETWORK_FS.has(m.fsType)) return false;
  // fuse.sshfs, fuse.rclone, fuse.s3fs, ...: user-space filesystems, usually remote; fuseblk (ntfs-3g, exfat) is local.
  if (m.fsType.startsWith('fuse')) return m.fsType === 'fuseblk';
  return true;
}

/**
 * The local data filesystems, each device once (the first mount of a device whose root is the
 * filesystem's root wins, so bind mounts and a second mount of the same device are skipped).
 */
export function localMounts(mounts: readonly MountInfo[]): MountInfo[] {
  const byDev = new Map<string, MountInfo>();
  for (const m of mounts) {
    if (!isLocalDataFs(m)) continue;
    const key = `${m.major}:${m.minor}`;
    const prev = byDev.get(key);
    if (!prev || (prev.root !== '/' && m.root === '/')) byDev.set(key, m);
  }
  return [...byDev.values()];
}

/**
 * Kernel filesystems whose statfs is answered from memory: no device, server or user-space daemon
 * to wait for. Only these are asked synchronously; every other one goes through the guarded pool.
 */
const DIRECT_STATFS_FS = new Set([
  'ext2', 'ext3', 'ext4', 'xfs', 'btrfs', 'f2fs', 'vfat', 'msdos', 'exfat', 'ntfs3', 'jfs', 'reiserfs',
  'hfsplus', 'nilfs2', 'bcachefs', 'tmpfs', 'ramfs', 'overlay',
]);

/** Whether looking up a path through this mount may wait on a server, a daemon or an automount. */
function mayBlockLookup(m: MountInfo): boolean {
  return NETWORK_FS.has(m.fsType) || m.fsType.startsWith('fuse') || m.fsType === 'autofs';
}

/**
 * The mount points whose statfs cannot hang: the mount visible there (the last one mounted on
 * that path) is a DIRECT_STATFS_FS, and no mount above it on the path may block a lookup.
 */
export function directStatfsPaths(mounts: readonly MountInfo[]): Set<string> {
  const visible = new Map<string, MountInfo>();
  for (const m of mounts) visible.set(m.mountPoint, m);
  const blocking = [...visible.values()].filter(mayBlockLookup).map((m) => m.mountPoint);
  const out = new Set<string>();
  for (const [path, m] of visible) {
    if (!DIRECT_STATFS_FS.has(m.fsType)) continue;
    const under = (top: string): boolean => top === '/' || path.startsWith(top + '/');
    if (!blocking.some((top) => top !== path && under(top))) out.add(path);
  }
  return out;
}

/** How long a read of the mount table is reused. */
export const MOUNTS_MAX_AGE_MS = 10_000;
let lastMountinfo = '';
let lastLocal: MountInfo[] = [];
let lastDirect = new Set<string>();
let lastMountsAt = -Infinity;
let lastMountsRoot: string | undefined;

function refreshMounts(nowMs: number): void {
  const root = run().root;
  if (nowMs - lastMountsAt < MOUNTS_MAX_AGE_MS && root === lastMountsRoot) return;
  const text = readProc('/proc/self/mountinfo');
  if (text !== lastMountinfo) {
    const all = parseMountinfo(text);
    lastLocal = localMounts(all);
    lastDirect = directStatfsPaths(all);
    lastMountinfo = text;
  }
  lastMountsAt = nowMs;
  lastMountsRoot = root;
}

/**
 * localMounts of /proc/self/mountinfo. The kernel takes ~0.1 ms to generate that file and the
 * mount table rarely changes, so it is read again only after MOUNTS_MAX_AGE_MS (a new or removed
 * mount shows up within 10 s), and parsed again only when its text changed.
 */
export function readLocalMounts(nowMs = performance.now()): MountInfo[] {
  refreshMounts(nowMs);
  return lastLocal;
}

/**
 * directStatfsPaths of the current mount table (read as readLocalMounts does). A path from
 * /proc of another root (HOST_PROC) is never direct: its mount points are not ours to stat.
 */
export function readDirectStatfsPaths(nowMs = performance.now()): Set<string> {
  refreshMounts(nowMs);
  return run().root ? EMPTY_SET : lastDirect;
}
const EMPTY_SET: Set<string> = new Set();

/** Forgets the cached mount table (tests that change it). */
export function forgetMounts(): void {
  lastMountsAt = -Infinity;
}

/** The last pid the kernel handed out (5th field of /proc/loadavg), or undefined. */
export function lastPid(): number | undefined {
  try {
    const text = readProcShared('/proc/loadavg');
    const v = Number(text.slice(text.lastIndexOf(' ') + 1));
    return Number.isInteger(v) && v > 0 ? v : undefined;
  } catch {
    return undefined;
  }
}

/** pollect's label for a mount path: `/` -> `_`, `/home` -> `_home`, `C:\` -> `C`. */
export function sanitiseDiskName(path: string): string {
  const p = path.replace(/\\/g, '/').replace(/:/g, '');
  return p.startsWith('/') ? p.replace(/\//g, '_') : p.replace(/\//g, '');
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
  if (!(Number.isFinite(s.pid) && Number.isFinite(s.cpuTicks) && Number.isFinite(s.startTicks) && Number.isFinite(s.vsizeBytes) && Number.isFinite(s.rssPages))) {
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

// ---------------------------------------------------------------- helpers

export function excerpt(text: string, max = 80): string {
  const t = text.replace(/[^\x20-\x7e]/g, '.');
  return JSON.stringify(t.length > max ? t.slice(0, max) + '…' : t);
}

/** Whether this process can read the kernel's files directly (the fast path). */
export function hasProcfs(platform: NodeJS.Platform = process.platform): boolean {
  return platform === 'linux';
}

/** A failure while reading or parsing kernel files, as one line for a SourceError message. */
export function readError(what: string, err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  if (e && typeof e === 'object' && typeof e.code === 'string') return `cannot read ${what}: ${e.code}`;
  return `cannot read ${what}: ${e instanceof Error ? e.message : String(err)}`;
}

/** pollect's include/exclude rule: an empty or missing include list accepts every name. */
export function acceptName(name: string, include?: readonly string[], exclude?: readonly string[]): boolean {
  if (include && include.length > 0 && !include.includes(name)) return false;
  return !(exclude && exclude.includes(name));
}

/** pollect's label for an interface or disk name: dots become underscores (Graphite paths). */
export function labelName(name: string): string {
  return name.replace(/\./g, '_');
}

let pageBytes: number | undefined;
/** The kernel page size, from AT_PAGESZ in /proc/self/auxv (4096 if that cannot be read). */
export function pageSize(): number {
  if (pageBytes !== undefined) return pageBytes;
  pageBytes = 4096;
  try {
    const fd = openSync('/proc/self/auxv', 'r');
    try {
      const b = Buffer.alloc(4096);
      const n = readSync(fd, b, 0, b.length, null);
      // (type, value) pairs of native words; AT_PAGESZ is type 6, AT_NULL (0) ends the list.
      const w = /64|s390x/.test(process.arch) ? 8 : 4;
      const le = endianness() === 'LE';
      const word = (off: number): number =>
        w === 8 ? Number(le ? b.readBigUInt64LE(off) : b.readBigUInt64BE(off)) : le ? b.readUInt32LE(off) : b.readUInt32BE(off);
      for (let off = 0; off + 2 * w <= n; off += 2 * w) {
        const type = word(off);
        if (type === 0) break;
        if (type === 6) pageBytes = word(off + w);
      }
    } finally {
      closeSync(fd);
    }
  } catch {
    // keep the default
  }
  return pageBytes;
}
