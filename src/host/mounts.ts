// Which mounts the host sources report, and which of them may be asked statfs directly: policy on
// the parsed /proc/<pid>/mountinfo, and the mount table a reader keeps between ticks.
import type { MountInfo } from './proc-parse.js';
import { parseMountinfo } from './proc-parse.js';

/** Filesystem types that hold no user data (kernel interfaces, memory-backed, read-only images). */
const PSEUDO_FS = new Set([
  'proc',
  'sysfs',
  'devtmpfs',
  'devpts',
  'tmpfs',
  'ramfs',
  'securityfs',
  'cgroup',
  'cgroup2',
  'pstore',
  'bpf',
  'debugfs',
  'tracefs',
  'configfs',
  'fusectl',
  'mqueue',
  'hugetlbfs',
  'autofs',
  'binfmt_misc',
  'rpc_pipefs',
  'nsfs',
  'efivarfs',
  'selinuxfs',
  'squashfs',
  'iso9660',
  'nfsd',
  'sockfs',
  'pipefs',
  'anon_inodefs',
  'devfs',
  'cpuset',
]);
/** Network filesystems: a statfs on them may hang for minutes when the server is gone. */
const NETWORK_FS = new Set([
  'nfs',
  'nfs4',
  'cifs',
  'smb3',
  'smbfs',
  'ncpfs',
  'ceph',
  'glusterfs',
  'lustre',
  'gpfs',
  'afs',
  'coda',
  '9p',
  'davfs',
  'ocfs2',
  'beegfs',
  'orangefs',
  'vboxsf',
  'virtiofs',
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

// node_exporter's default filters (collector/filesystem_linux.go), so that the `node` naming serves
// the filesystems node_exporter would.
const NODE_EXPORTER_MOUNT_POINTS_EXCLUDED = /^\/(dev|proc|run\/credentials\/.+|sys|var\/lib\/docker\/.+|var\/lib\/containers\/storage\/.+)($|\/)/;
const NODE_EXPORTER_FS_TYPES_EXCLUDED =
  /^(autofs|binfmt_misc|bpf|cgroup2?|configfs|debugfs|devpts|devtmpfs|fusectl|hugetlbfs|iso9660|mqueue|nsfs|overlay|proc|procfs|pstore|rpc_pipefs|securityfs|selinuxfs|squashfs|erofs|sysfs|tracefs)$/;

/**
 * The mounts node_exporter's filesystem collector reports by default (every mount point its
 * default filters keep, tmpfs included, one per mount point: the mount visible there), less the
 * network and user-space filesystems, which pollect asks only when they are listed: a dead server
 * would cost a thread for as long as it is gone.
 */
export function nodeExporterMounts(mounts: readonly MountInfo[]): MountInfo[] {
  const visible = new Map<string, MountInfo>();
  for (const m of mounts) {
    if (NODE_EXPORTER_MOUNT_POINTS_EXCLUDED.test(m.mountPoint) || NODE_EXPORTER_FS_TYPES_EXCLUDED.test(m.fsType)) continue;
    if (NETWORK_FS.has(m.fsType) || (m.fsType.startsWith('fuse') && m.fsType !== 'fuseblk')) continue;
    visible.delete(m.mountPoint);
    visible.set(m.mountPoint, m);
  }
  return [...visible.values()];
}

/**
 * Kernel filesystems whose statfs is answered from memory: no device, server or user-space daemon
 * to wait for. Only these are asked synchronously; every other one goes through the guarded pool.
 */
const DIRECT_STATFS_FS = new Set([
  'ext2',
  'ext3',
  'ext4',
  'xfs',
  'btrfs',
  'f2fs',
  'vfat',
  'msdos',
  'exfat',
  'ntfs3',
  'jfs',
  'reiserfs',
  'hfsplus',
  'nilfs2',
  'bcachefs',
  'tmpfs',
  'ramfs',
  'overlay',
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

/**
 * The mount table as the host sources need it, re-read at most every `maxAgeMs`: the kernel takes
 * ~0.1 ms to generate mountinfo and the table rarely changes, so a new or removed mount shows up
 * within that time, and the text is parsed again only when it changed.
 */
export class MountTable {
  private text = '';
  private readAt = -Infinity;
  private all: MountInfo[] = [];
  private local: MountInfo[] = [];
  private direct = new Set<string>();

  constructor(
    private readonly read: () => string,
    private readonly maxAgeMs = 10_000,
  ) {}

  /** localMounts of the current table. */
  localMounts(nowMs = performance.now()): MountInfo[] {
    this.refresh(nowMs);
    return this.local;
  }

  /** Every mount of the current table, in mount order. */
  mounts(nowMs = performance.now()): MountInfo[] {
    this.refresh(nowMs);
    return this.all;
  }

  /** directStatfsPaths of the current table. */
  directPaths(nowMs = performance.now()): ReadonlySet<string> {
    this.refresh(nowMs);
    return this.direct;
  }

  private refresh(nowMs: number): void {
    if (nowMs - this.readAt < this.maxAgeMs) return;
    const text = this.read();
    if (text !== this.text) {
      const all = parseMountinfo(text);
      this.all = all;
      this.local = localMounts(all);
      this.direct = directStatfsPaths(all);
      this.text = text;
    }
    this.readAt = nowMs;
  }
}
