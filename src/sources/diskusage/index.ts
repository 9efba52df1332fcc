// DiskUsage: size, used and free bytes and inodes of mounted filesystems, by statfs. Local kernel
// filesystems are asked directly; any other statfs is bounded by half the source timeout (5 s at
// most) and never runs twice at once for a path, so a dead network mount shows up as a warning
// instead of a stuck tick.
import { Source, SourceError, type JsonSchema, type ProbeContext, type Sample, type SourceParams } from '../../sdk/index.js';
import { readDirectStatfsPaths, readError, readLocalMounts, sanitiseDiskName } from '../lib/procfs.js';
import { statPaths, type FsUsage, type FsUsageResult } from '../lib/fsusage.js';
import { waitBudget } from '../lib/guard.js';
import { SeriesCache } from '../lib/labels.js';
import { backendSchema, siFsUsage, useProcfs } from '../lib/sysinfo.js';

const schema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    disks: {
      type: 'array',
      items: { type: 'string', minLength: 1 },
      description: 'Paths to report (any path on the filesystem, usually mount points). Default: every local filesystem; network and pseudo filesystems only when listed',
    },
    backend: backendSchema,
  },
} as const satisfies JsonSchema;

export type DiskUsageConfig = SourceParams<typeof schema>;

const TYPES = [
  ['total', 'total', 'bytes'],
  ['used', 'used', 'bytes'],
  ['free', 'free', 'bytes'],
  ['inodes_total', 'inodesTotal', undefined],
  ['inodes_free', 'inodesFree', undefined],
] as const;

type DiskLabels = { disk: string; type: string }[];

function samplesOf(usage: readonly FsUsage[], series: SeriesCache<DiskLabels>): Sample[] {
  const out: Sample[] = [];
  for (let i = 0; i < usage.length; i++) {
    const u = usage[i]!;
    const labels = series.get(u.path);
    for (let t = 0; t < TYPES.length; t++) {
      const spec = TYPES[t]!;
      const value = u[spec[1]];
      if (value !== undefined && Number.isFinite(value)) out.push({ value, labels: labels[t], unit: spec[2] });
    }
  }
  return out;
}

export class DiskUsageSource extends Source<DiskUsageConfig> {
  static override description = 'Size, used and free space and inodes of mounted filesystems';
  static override schema = schema;

  private readonly procfs = useProcfs(this.config.backend);
  private lastErrors = '';
  /** The label objects of a path's five samples, made once (nothing downstream changes them). */
  private readonly labels = new SeriesCache<DiskLabels>((path) => {
    const disk = sanitiseDiskName(path);
    return TYPES.map(([type]) => ({ disk, type }));
  });

  // Synchronous when every filesystem answers statfs from memory (see statPaths).
  probe(ctx: ProbeContext): Sample[] | Promise<Sample[]> {
    const labels = this.labels;
    if (!this.procfs) return this.readFallback().then((usage) => samplesOf(usage, labels));
    const res = this.readProcfs(ctx);
    return res instanceof Promise ? res.then((r) => samplesOf(this.checked(r, ctx), labels)) : samplesOf(this.checked(res, ctx), labels);
  }

  private readProcfs(ctx: ProbeContext): FsUsageResult | Promise<FsUsageResult> {
    let paths = this.config.disks;
    let direct: ReadonlySet<string>;
    try {
      if (!paths) paths = readLocalMounts().map((m) => m.mountPoint);
      direct = readDirectStatfsPaths();
    } catch (err) {
      throw new SourceError(readError('/proc/self/mountinfo', err));
    }
    return statPaths(paths, direct, waitBudget(ctx.timeoutMs));
  }

  private checked(res: FsUsageResult, ctx: ProbeContext): FsUsage[] {
    const errs = res.errors.map((e) => e.message).join('; ');
    if (res.errors.length > 0 && res.usage.length === 0) {
      throw new SourceError(res.errors.length > 1 ? `${res.errors[0]!.message} (and ${res.errors.length - 1} more)` : res.errors[0]!.message);
    }
    // Warn when the set of failing paths changes, not on every tick.
    if (errs !== this.lastErrors && errs) ctx.log.warn(errs);
    this.lastErrors = errs;
    return res.usage;
  }

  private async readFallback(): Promise<FsUsage[]> {
    let all;
    try {
      all = await siFsUsage();
    } catch (err) {
      throw new SourceError(readError('filesystem sizes', err));
    }
    const wanted = this.config.disks;
    if (!wanted) return all;
    return wanted.flatMap((p) => all.filter((u) => u.path === p).slice(0, 1));
  }
}
