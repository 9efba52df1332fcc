// DiskUsage: size, used and free bytes and inodes of mounted filesystems, by statfs. Each statfs
// is bounded by half the source timeout (5 s at most) and never runs twice at once for a path, so a dead
// network mount shows up as a warning instead of a stuck tick.
import { Source, SourceError, type ProbeContext, type Sample, type SourceConfig } from '../source.js';
import type { JsonSchema } from '../../config/schema-types.js';
import { readError, readLocalMounts, sanitiseDiskName } from '../lib/procfs.js';
import { fsUsage, type FsUsage } from '../lib/fsusage.js';
import { waitBudget } from '../lib/guard.js';
import { backendSchema, siFsUsage, useProcfs, type HostBackend } from '../lib/sysinfo.js';

export interface DiskUsageConfig extends SourceConfig {
  /** Paths to report; default: every local data filesystem mounted. */
  disks?: string[];
  backend?: HostBackend;
}

export class DiskUsageSource extends Source<DiskUsageConfig> {
  static override description = 'Size, used and free space and inodes of mounted filesystems';
  static override schema: JsonSchema = {
    type: 'object',
    properties: {
      disks: {
        type: 'array',
        items: { type: 'string', minLength: 1 },
        description: 'Mount paths to report (default: every local filesystem; network and pseudo filesystems only when listed)',
      },
      backend: backendSchema,
    },
  };

  private readonly procfs = useProcfs(this.config.backend);
  private lastErrors = '';

  async probe(ctx: ProbeContext): Promise<Sample[]> {
    const usage = this.procfs ? await this.readProcfs(ctx) : await this.readFallback();
    const out: Sample[] = [];
    for (const u of usage) {
      const disk = sanitiseDiskName(u.path);
      const add = (type: string, value: number | undefined, unit?: string): void => {
        if (value !== undefined && Number.isFinite(value)) out.push({ value, labels: { disk, type }, unit });
      };
      add('total', u.total, 'bytes');
      add('used', u.used, 'bytes');
      add('free', u.free, 'bytes');
      add('inodes_total', u.inodesTotal);
      add('inodes_free', u.inodesFree);
    }
    return out;
  }

  private async readProcfs(ctx: ProbeContext): Promise<FsUsage[]> {
    let paths = this.config.disks;
    if (!paths) {
      try {
        paths = readLocalMounts().map((m) => m.mountPoint);
      } catch (err) {
        throw new SourceError(readError('/proc/self/mountinfo', err));
      }
    }
    const res = await fsUsage(paths, waitBudget(ctx.timeoutMs));
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
