// Parsers of the /proc files, on real file contents (captured from Linux machines) including the
// odd ones: interface names with dots and colons, counters glued to the colon, device-mapper,
// loop and NVMe partitions, mount points with spaces and other escapes, comm with parentheses.
import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  memSummary,
  parseCmdline,
  parseDiskstats,
  parseLastPid,
  parseLoadavg,
  parseMeminfo,
  parseMountinfo,
  parseNetDev,
  parsePidStat,
  parseStatCpu,
  unescapeMount,
} from '../../src/host/proc-parse.js';
import { MountTable, directStatfsPaths, isLocalDataFs, localMounts } from '../../src/host/mounts.js';
import { acceptName, labelName, sanitiseDiskName } from '../../src/host/names.js';
import { ProcFiles } from '../../src/host/proc-files.js';
import { parseAuxvPageSize, readPageSize } from '../../src/host/page-size.js';

const GARBAGE = '\x00\xff\xfe<html><body>502 Bad Gateway</body></html>\x1b[31m';

describe('parseLoadavg', () => {
  it('reads the three averages', () => {
    expect(parseLoadavg('0.48 0.33 0.15 2/345 12345\n')).toEqual([0.48, 0.33, 0.15]);
    expect(parseLoadavg('12.00 8.50 101.25 17/2048 4194303\n')).toEqual([12, 8.5, 101.25]);
  });
  it('reads the last pid handed out', () => {
    expect(parseLastPid('0.48 0.33 0.15 2/345 12345\n')).toBe(12345);
    expect(parseLastPid(GARBAGE)).toBeUndefined();
  });
  it('rejects garbage, empty and truncated content', () => {
    expect(() => parseLoadavg(GARBAGE)).toThrow(/unexpected \/proc\/loadavg/);
    expect(() => parseLoadavg('')).toThrow(/unexpected/);
    expect(() => parseLoadavg('0.48 0.3')).toThrow(/unexpected/);
  });
});

// Debian 12 VM, kernel 6.1, captured 2026-11.
const MEMINFO = `MemTotal:       24683656 kB
MemFree:        24337904 kB
MemAvailable:   24338852 kB
Buffers:            6456 kB
Cached:           167576 kB
SwapCached:            0 kB
Active:            47936 kB
Inactive:         127872 kB
Active(anon):       1560 kB
Inactive(anon):     9240 kB
Active(file):      46376 kB
Inactive(file):   118632 kB
Unevictable:       14280 kB
Mlocked:           13368 kB
SwapTotal:             0 kB
SwapFree:              0 kB
Zswap:                 0 kB
Zswapped:              0 kB
Dirty:               168 kB
Writeback:             0 kB
AnonPages:         16156 kB
Mapped:            10888 kB
Shmem:              8924 kB
KReclaimable:      80900 kB
Slab:             105040 kB
SReclaimable:      80900 kB
SUnreclaim:        24140 kB
KernelStack:        2464 kB
PageTables:          836 kB
HugePages_Total:       0
HugePages_Free:        0
Hugepagesize:       2048 kB
DirectMap4k:      157696 kB
DirectMap2M:    25007104 kB
`;
// CentOS 6, kernel 2.6.32: no MemAvailable yet.
const MEMINFO_OLD = `MemTotal:        1922260 kB
MemFree:          160980 kB
Buffers:          106424 kB
Cached:          1285284 kB
SwapCached:            0 kB
Active:           890000 kB
Inactive:         701392 kB
Slab:             120748 kB
SReclaimable:      99408 kB
SUnreclaim:        21340 kB
`;

describe('parseMeminfo / memSummary', () => {
  it('converts kB to bytes and keeps unitless values', () => {
    const m = parseMeminfo(MEMINFO);
    expect(m.get('MemTotal')).toBe(24683656 * 1024);
    expect(m.get('Active(anon)')).toBe(1560 * 1024);
    expect(m.get('HugePages_Total')).toBe(0);
  });
  it('computes the figures free(1) shows', () => {
    const s = memSummary(parseMeminfo(MEMINFO));
    expect(s.total).toBe(25276063744);
    expect(s.free).toBe(24922013696);
    expect(s.available).toBe(24338852 * 1024);
    // procps-ng 4: used = total - available (free -b printed 353079296 for this file).
    expect(s.used).toBe(353079296);
    expect(s.cached).toBe((167576 + 80900) * 1024);
  });
  it('estimates available on kernels without MemAvailable', () => {
    const s = memSummary(parseMeminfo(MEMINFO_OLD));
    expect(s.available).toBe((160980 + 106424 + 1285284 + 99408) * 1024);
    expect(s.used).toBe(s.total - s.available);
  });
  it('rejects content without MemTotal', () => {
    expect(() => memSummary(parseMeminfo(GARBAGE))).toThrow(/MemTotal/);
    expect(() => memSummary(parseMeminfo(MEMINFO.slice(0, 10)))).toThrow(/MemTotal/);
  });
});

const STAT = `cpu  67089 0 16318 207052 566 0 313 66 0 0
cpu0 32782 0 7877 104800 74 0 119 32 0 0
cpu1 34306 0 8441 102252 491 0 193 33 0 0
intr 1809833 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 1 1 16 0 0 0 0 292 225 0 33
ctxt 4438328
btime 1795305685
processes 49740
procs_running 1
procs_blocked 0
softirq 839583 0 92392 5 216448 70814 0 6 152723 54706 252489
`;
// Linux 2.6.9 (RHEL 4): seven columns, no steal or guest.
const STAT_OLD = `cpu  2255 34 2290 22625563 6290 127 456
cpu0 1132 34 1441 11311718 3675 127 438
cpu1 1123 0 849 11313845 2614 0 18
intr 114930548 113199788 3 0 5 263 0 4 0 1 0 0 0 0 0 0 0 0 0
ctxt 1990473
`;

describe('parseStatCpu', () => {
  it('reads the aggregate and per-core lines', () => {
    const c = parseStatCpu(STAT);
    expect(c.map((x) => x.cpu)).toEqual(['all', '0', '1']);
    expect(c[0]!.times).toEqual({ user: 67089, nice: 0, system: 16318, idle: 207052, iowait: 566, irq: 0, softirq: 313, steal: 66 });
  });
  it('reads old kernels without steal', () => {
    const c = parseStatCpu(STAT_OLD);
    expect(c[2]!.times.steal).toBe(0);
    expect(c[2]!.times.softirq).toBe(18);
  });
  it('rejects garbage', () => {
    expect(() => parseStatCpu(GARBAGE)).toThrow(/no cpu lines/);
    expect(() => parseStatCpu('cpu  1 2 x 4\n')).toThrow(/unexpected/);
  });
});

// Real header and lines; the kernel prints "%6s:%8llu %7llu ...": a long name or a big counter
// leaves no space after the colon. "eth0:1" is an old-style alias name, "eth0.100" a VLAN.
const NETDEV = `Inter-|   Receive                                                |  Transmit
 face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
    lo:    3193      29    0    0    0     0          0         0     3193      29    0    0    0     0       0          0
  eth0: 170109071    5126    0    0    0     0          0         0   448821    3300    0    0    0     0       0          0
eth0.100:  123456     789    0    0    0     0          0        12    65432     321    0    0    0     0       0          0
eth0:1:     100       2    0    0    0     0          0         0      200       4    0    0    0     0       0          0
enp0s31f6:98765432109 87654321    0   17    0     0          0      4711 12345678901 7654321    0    0    0     0       0          0
veth9a8b7c6:       0       0    0    0    0     0          0         0      906      11    0    0    0     0       0          0
`;

describe('parseNetDev', () => {
  it('reads names with dots and colons and counters glued to the colon', () => {
    const n = parseNetDev(NETDEV);
    expect(n.map((x) => x.name)).toEqual(['lo', 'eth0', 'eth0.100', 'eth0:1', 'enp0s31f6', 'veth9a8b7c6']);
    expect(n[1]).toEqual({ name: 'eth0', rxBytes: 170109071, rxPackets: 5126, txBytes: 448821, txPackets: 3300, rxErrs: 0, rxDrop: 0, txErrs: 0, txDrop: 0 });
    expect(n[2]).toEqual({ name: 'eth0.100', rxBytes: 123456, rxPackets: 789, txBytes: 65432, txPackets: 321, rxErrs: 0, rxDrop: 0, txErrs: 0, txDrop: 0 });
    expect(n[3]).toMatchObject({ name: 'eth0:1', rxBytes: 100, txPackets: 4 });
    expect(n[4]).toEqual({
      name: 'enp0s31f6',
      rxBytes: 98765432109,
      rxPackets: 87654321,
      txBytes: 12345678901,
      txPackets: 7654321,
      rxErrs: 0,
      rxDrop: 17,
      txErrs: 0,
      txDrop: 0,
    });
  });
  it('skips truncated lines and rejects content without any interface', () => {
    expect(parseNetDev(NETDEV.slice(0, NETDEV.indexOf('eth0.100') + 20))).toHaveLength(2);
    expect(() => parseNetDev(GARBAGE)).toThrow(/^no interfaces in \/proc\/net\/dev: /);
    expect(() => parseNetDev(NETDEV.slice(0, 200))).toThrow(/no interfaces/);
  });
});

// 20-field layout (kernel 5.5+) from a laptop with NVMe, LVM (dm-), loop (snap) devices; an
// 18-field line (4.18) and a 14-field line (2.6/4.x).
const DISKSTATS = `   7       0 loop0 63 0 2296 26 0 0 0 0 0 60 26 0 0 0 0 0 0
   7       1 loop1 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0
 259       0 nvme0n1 412513 106352 33189770 62934 1105542 612007 64524674 1087349 0 492392 1178913 0 0 0 0 91337 28629
 259       1 nvme0n1p1 339 2360 15818 117 2 0 2 1 0 144 119 0 0 0 0 0 0
 259       2 nvme0n1p2 412090 103992 33168496 62794 1105540 612007 64524672 1087347 0 492260 1150142 0 0 0 0 0 0
 253       0 dm-0 516161 0 33166322 93016 1717548 0 64524672 2702880 0 512920 2795896 0 0 0 0 0 0
 254       0 vda 38563 8215 2397058 16491 12921 17746 1781464 3936 0 5100 21078 4483 39 130120 530
   8       0 sda 9461 2337 674162 20780 3301 7394 84552 23164 0 18796 43944
`;

describe('parseDiskstats', () => {
  it('reads every layout, dm-, loop and partitions, sectors as 512 bytes', () => {
    const d = parseDiskstats(DISKSTATS);
    expect(d.map((x) => x.name)).toEqual(['loop0', 'loop1', 'nvme0n1', 'nvme0n1p1', 'nvme0n1p2', 'dm-0', 'vda', 'sda']);
    expect(d[5]).toEqual({
      major: 253,
      minor: 0,
      name: 'dm-0',
      reads: 516161,
      readBytes: 33166322 * 512,
      writes: 1717548,
      writeBytes: 64524672 * 512,
      ioMs: 512920,
      readMs: 93016,
      writeMs: 2702880,
      weightedIoMs: 2795896,
      ioNow: 0,
    });
    expect(d[7]).toEqual({
      major: 8,
      minor: 0,
      name: 'sda',
      reads: 9461,
      readBytes: 674162 * 512,
      writes: 3301,
      writeBytes: 84552 * 512,
      ioMs: 18796,
      readMs: 20780,
      writeMs: 23164,
      weightedIoMs: 43944,
      ioNow: 0,
    });
    expect(d[1]!.reads + d[1]!.writes).toBe(0);
  });
  it('skips short lines, rejects garbage, accepts an empty file', () => {
    expect(parseDiskstats(DISKSTATS + '   8       0 sdz 9461 2337 674162\n')).toHaveLength(8);
    expect(() => parseDiskstats(GARBAGE)).toThrow(/^unexpected \/proc\/diskstats content: /);
    expect(() => parseDiskstats('   8       0 sda 9461 2337 674162\n')).toThrow(/unexpected/);
    expect(parseDiskstats('')).toEqual([]);
  });
});

// Real mountinfo lines: a Debian VM, a Docker host (overlay, bind mounts, shared: tags), NFS,
// sshfs, a USB stick whose label has spaces (\040), a path with a tab (\011) and a backslash (\134).
const MOUNTINFO = `22 27 0:21 / /proc rw,relatime - proc proc rw
24 27 0:6 / /dev rw,relatime - devtmpfs devtmpfs rw,size=12334432k,nr_inodes=3083608,mode=755
25 24 0:23 / /dev/shm rw,relatime - tmpfs tmpfs rw,size=24683656k
27 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw,discard
31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime shared:9 - cgroup2 cgroup2 rw
60 27 259:2 / /home rw,relatime shared:30 master:2 - xfs /dev/mapper/vg-home rw,attr2,inode64
61 27 254:0 /srv/data /var/lib/docker/volumes/data rw,relatime shared:1 - ext4 /dev/vda rw,discard
62 27 8:17 / /media/user/My\\040USB\\040Stick rw,nosuid,nodev,relatime shared:40 - vfat /dev/sdb1 rw,fmask=0022
63 27 0:50 / /mnt/nas rw,relatime shared:41 - nfs4 nas.local:/export/media rw,vers=4.2,addr=192.168.1.10
64 27 0:51 / /home/user/remote rw,nosuid,nodev,relatime shared:42 - fuse.sshfs user@host:/srv rw,user_id=1000
65 27 0:52 / /var/lib/docker/overlay2/abc/merged rw,relatime - overlay overlay rw,lowerdir=/a:/b
66 27 7:3 / /snap/core20/2015 ro,nodev,relatime shared:43 - squashfs /dev/loop3 ro
67 27 8:33 / /mnt/odd\\011tab\\134back rw,relatime - ext4 /dev/sdc1 rw
68 27 8:49 / /mnt/win rw,relatime - fuseblk /dev/sdd1 rw,user_id=0
`;

describe('parseMountinfo / localMounts', () => {
  it('reads fields after the optional tags and unescapes octal escapes', () => {
    const m = parseMountinfo(MOUNTINFO);
    expect(m).toHaveLength(15);
    expect(m[3]).toEqual({ major: 254, minor: 0, root: '/', mountPoint: '/', fsType: 'ext4', source: '/dev/vda', readOnly: false });
    expect(m[6]).toMatchObject({ mountPoint: '/home', fsType: 'xfs', source: '/dev/mapper/vg-home' });
    expect(m[8]!.mountPoint).toBe('/media/user/My USB Stick');
    expect(m[13]!.mountPoint).toBe('/mnt/odd\ttab\\back');
    expect(unescapeMount('a\\040b\\012c')).toBe('a b\nc');
  });
  it('keeps local data filesystems, each device once', () => {
    const l = localMounts(parseMountinfo(MOUNTINFO));
    expect(l.map((x) => x.mountPoint)).toEqual([
      '/',
      '/home',
      '/media/user/My USB Stick',
      '/var/lib/docker/overlay2/abc/merged',
      '/mnt/odd\ttab\\back',
      '/mnt/win',
    ]);
  });
  it('prefers the mount of the filesystem root over a bind mount of a subdirectory', () => {
    const lines = MOUNTINFO.split('\n');
    // The bind mount (root /srv/data) listed before the real root mount.
    const reordered = [lines[7], lines[3]].join('\n');
    expect(localMounts(parseMountinfo(reordered)).map((x) => x.mountPoint)).toEqual(['/']);
  });
  it('classifies network and pseudo filesystems', () => {
    const m = parseMountinfo(MOUNTINFO);
    const by = (p: string) => m.find((x) => x.mountPoint === p)!;
    expect(isLocalDataFs(by('/mnt/nas'))).toBe(false);
    expect(isLocalDataFs(by('/home/user/remote'))).toBe(false);
    expect(isLocalDataFs(by('/dev/shm'))).toBe(false);
    expect(isLocalDataFs(by('/snap/core20/2015'))).toBe(false);
    expect(isLocalDataFs(by('/mnt/win'))).toBe(true);
  });
  it('asks statfs directly only of kernel filesystems that no server, daemon or automount can hold up', () => {
    const direct = directStatfsPaths(parseMountinfo(MOUNTINFO));
    expect([...direct].sort()).toEqual(
      [
        '/',
        '/dev/shm',
        '/home',
        '/media/user/My USB Stick',
        '/mnt/odd\ttab\\back',
        '/sys/fs/cgroup',
        '/var/lib/docker/overlay2/abc/merged',
        '/var/lib/docker/volumes/data',
      ].sort(),
    );
    // fuseblk (ntfs-3g) is local data but answered by a user-space daemon: the guarded pool asks it.
    expect(direct.has('/mnt/win')).toBe(false);
    expect(direct.has('/mnt/nas')).toBe(false);
    // An ext4 below an NFS mount (the lookup crosses the server), an ext4 under autofs, and an
    // ext4 mount point that an NFS mount now covers: none is direct.
    const more = parseMountinfo(
      MOUNTINFO +
        '70 63 8:65 / /mnt/nas/local rw,relatime - ext4 /dev/sde1 rw\n' +
        '71 27 0:60 / /auto rw,relatime - autofs systemd-1 rw\n' +
        '72 71 8:81 / /auto/disk rw,relatime - ext4 /dev/sdf1 rw\n' +
        '73 60 8:97 / /home/big rw,relatime - ext4 /dev/sdg1 rw\n' +
        '74 73 0:61 / /home/big rw,relatime - nfs srv:/big rw\n' +
        '75 64 8:113 / /home/user/remote/x rw,relatime - ext4 /dev/sdh1 rw\n',
    );
    const d2 = directStatfsPaths(more);
    for (const p of ['/mnt/nas/local', '/auto/disk', '/home/big', '/home/user/remote/x']) expect(d2.has(p), p).toBe(false);
    // A sibling whose name merely starts like an NFS mount point is not below it.
    expect(directStatfsPaths(parseMountinfo(MOUNTINFO + '76 27 8:129 / /mnt/nas2 rw - ext4 /dev/sdi1 rw\n')).has('/mnt/nas2')).toBe(true);
  });
  it('skips garbage lines', () => {
    expect(parseMountinfo(GARBAGE)).toEqual([]);
    expect(parseMountinfo('27 1 254:0 / / rw,relatime shared:1\n')).toEqual([]);
  });
});

describe('names', () => {
  it('sanitises mount paths as pollect does', () => {
    expect(sanitiseDiskName('/')).toBe('_');
    expect(sanitiseDiskName('/home')).toBe('_home');
    expect(sanitiseDiskName('/media/user/My USB Stick')).toBe('_media_user_My USB Stick');
    expect(sanitiseDiskName('C:\\')).toBe('C');
  });
  it('labels and filters interface and disk names as pollect does', () => {
    expect(labelName('eth0.100')).toBe('eth0_100');
    expect(acceptName('eth0', [], [])).toBe(true);
    expect(acceptName('eth0', ['lo'], [])).toBe(false);
    expect(acceptName('eth0', undefined, ['eth0'])).toBe(false);
  });
});

describe('parsePidStat / parseCmdline', () => {
  it('reads a real stat line', () => {
    const s = parsePidStat(
      '4412 (bash) S 4411 4412 4412 0 -1 4194560 24186 973900 0 57 6 9 1828 956 20 0 1 0 35223 5365760 1022 18446744073709551615 94395458351104 94395459140509 140725627559200 0 0 0 65536 4 1132560123 1 0 0 17 0 0 0 0 0 0 94395459373808 94395459422052 94395648667648 140725627562878 140725627562893 140725627562893 140725627564010 0\n',
    );
    expect(s).toEqual({ pid: 4412, comm: 'bash', cpuTicks: 15, startTicks: 35223, vsizeBytes: 5365760, rssPages: 1022 });
  });
  it('takes comm up to the last parenthesis (names with spaces and parentheses)', () => {
    const s = parsePidStat(
      '977 (tmux: server) (1)) S 1 977 977 0 -1 4194624 1233 0 0 0 120 55 0 0 20 0 1 0 4242 11272192 987 18446744073709551615 1 1 0 0 0 0 0 4096 134433283 0 0 0 17 1 0 0 0 0 0\n',
    );
    expect(s.comm).toBe('tmux: server) (1)');
    expect(s.cpuTicks).toBe(175);
    expect(s.rssPages).toBe(987);
  });
  it('rejects garbage and truncated content', () => {
    expect(() => parsePidStat(GARBAGE)).toThrow(/unexpected/);
    expect(() => parsePidStat('4412 (bash) S 4411 4412')).toThrow(/unexpected/);
  });
  it('joins the NUL-separated arguments', () => {
    expect(parseCmdline('/usr/bin/python3\0-m\0http.server\0 8000\0')).toBe('/usr/bin/python3 -m http.server  8000');
    expect(parseCmdline('')).toBe('');
    expect(parseCmdline('nginx: worker process\0\0\0')).toBe('nginx: worker process');
  });
});

describe('MountTable', () => {
  it('reads the table again only after its max age, and parses it again only when it changed', () => {
    let text = MOUNTINFO;
    let reads = 0;
    const table = new MountTable(() => {
      reads++;
      return text;
    }, 10_000);
    const first = table.localMounts(0);
    expect(first.map((m) => m.mountPoint)).toContain('/home');
    expect(table.directPaths(9_999).has('/home')).toBe(true);
    expect(reads).toBe(1);
    // Read again after 10 s: the same text keeps the same parsed list.
    expect(table.localMounts(10_000)).toBe(first);
    expect(reads).toBe(2);
    text = MOUNTINFO.split('\n')
      .filter((l) => !l.includes(' /home '))
      .join('\n');
    expect(table.localMounts(15_000)).toBe(first);
    expect(table.localMounts(20_000).map((m) => m.mountPoint)).not.toContain('/home');
    expect(table.directPaths(20_000).has('/home')).toBe(false);
  });
});

describe('on this machine', () => {
  const files = new ProcFiles('/proc');
  it('reads the real files', () => {
    expect(parseLoadavg(files.read('/proc/loadavg'))).toHaveLength(3);
    expect(parseStatCpu(files.read('/proc/stat')).length).toBeGreaterThan(1);
    expect(parseNetDev(files.read('/proc/net/dev')).some((n) => n.name === 'lo')).toBe(true);
    expect(parseMountinfo(files.read('/proc/self/mountinfo')).some((m) => m.mountPoint === '/')).toBe(true);
    const self = parsePidStat(files.read(`/proc/${process.pid}/stat`));
    expect(self.pid).toBe(process.pid);
    expect(files.listPids()).toContain(process.pid);
  });
  it('reads files larger than its first buffer, also off the event loop', async () => {
    // smaps of a node process is well over the 16 KiB first buffer.
    const text = files.read('/proc/self/smaps');
    expect(text.length).toBeGreaterThan(64 * 1024);
    expect(text.endsWith('\n')).toBe(true);
    expect(text.startsWith(readFileSync('/proc/self/maps', 'latin1').split('\n')[0]!)).toBe(true);
    const cmdline = await files.readAsync(`/proc/${process.pid}/cmdline`);
    expect(parseCmdline(cmdline)).toBe(readFileSync('/proc/self/cmdline', 'latin1').replace(/\0+$/, '').replace(/\0/g, ' '));
  });
  it('re-reads a file through the descriptor it keeps open, until close()', async () => {
    const kept = new ProcFiles('/proc');
    const t0 = kept.readKept('/proc/uptime');
    await new Promise((r) => setTimeout(r, 30));
    // The kernel generates the file again on a read from offset 0.
    const t1 = kept.readKept('/proc/uptime');
    expect(Number(t1.split(' ')[0])).toBeGreaterThan(Number(t0.split(' ')[0]));
    const fds = readdirSync('/proc/self/fd').length;
    kept.close();
    expect(readdirSync('/proc/self/fd').length).toBe(fds - 1);
  });
  it('reads under HOST_PROC, opening a file each time there (it may be replaced)', () => {
    const root = mkdtempSync(path.join(tmpdir(), 'pollect-procfs-'));
    try {
      const other = new ProcFiles(root);
      writeFileSync(path.join(root, 'loadavg'), '1.00 2.00 3.00 1/100 42\n');
      expect(parseLoadavg(other.readKept('/proc/loadavg'))).toEqual([1, 2, 3]);
      rmSync(path.join(root, 'loadavg'));
      writeFileSync(path.join(root, 'loadavg'), '4.00 5.00 6.00 1/100 43\n');
      expect(parseLoadavg(other.readKept('/proc/loadavg'))).toEqual([4, 5, 6]);
      mkdirSync(path.join(root, 'net'));
      expect(() => other.readKept('/proc/net/dev')).toThrow(/ENOENT/);
      expect(other.path('/proc/1/stat')).toBe(`${root}/1/stat`);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
  it('knows the page size', () => {
    expect(readPageSize()).toBe(Number(execFileSync('getconf', ['PAGESIZE'], { encoding: 'utf8' }).trim()));
    // A 32-bit big-endian auxv: AT_PHDR (3), AT_PAGESZ (6) = 16384, AT_NULL.
    const auxv = Buffer.alloc(24);
    [3, 0x1000, 6, 16384, 0, 0].forEach((v, i) => auxv.writeUInt32BE(v, i * 4));
    expect(parseAuxvPageSize(auxv, 4, false)).toBe(16384);
    expect(parseAuxvPageSize(Buffer.alloc(16), 8, true)).toBeUndefined();
    expect(readPageSize('/nonexistent')).toBe(4096);
  });
});
