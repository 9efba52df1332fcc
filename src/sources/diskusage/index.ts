// DiskUsage: size, used and free bytes and inodes of mounted filesystems, by statfs. Local kernel
// filesystems are asked directly; any other statfs is bounded by half the source timeout (5 s at
// most) and never runs twice at once for a path, so a dead network mount shows up as a warning
// instead of a stuck tick.
import { Source, SourceError, type JsonSchema, type ProbeContext, type Sample, type SourceParams } from '../../sdk/index.js';
import { waitBudget } from '../../host/guard.js';
import { sanitiseDiskName } from '../../host/names.js';
import { backendSchema, hostReader, type FsUsage } from '../../host/reader.js';

const schema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    disks: {
      type: 'array',
      items: { type: 'string', minLength: 1 },
      description:
        'Paths to report (any path on the filesystem, usually mount points). Default: every local filesystem; network and pseudo filesystems only when listed',
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

export class DiskUsageSource extends Source<DiskUsageConfig> {
  static override description = 'Size, used and free space and inodes of mounted filesystems';
  static override schema = schema;

  private readonly host = hostReader(this.config.backend);

  async probe(ctx: ProbeContext): Promise<Sample[]> {
    const { usage, errors } = await this.host.fsUsage(this.config.disks, waitBudget(ctx.timeoutMs));
    if (errors.length > 0 && usage.length === 0) {
      throw new SourceError(errors.length > 1 ? `${errors[0]!.message} (and ${errors.length - 1} more)` : errors[0]!.message);
    }
    // The others are reported: a dead network mount must not hide the disks that answer.
    if (errors.length > 0) ctx.reportProblem(errors.map((e) => e.message).join('; '));
    return usage.flatMap(samplesOf);
  }

  override shutdown(): void {
    this.host.close();
  }
}

function samplesOf(u: FsUsage): Sample[] {
  const disk = sanitiseDiskName(u.path);
  const out: Sample[] = [];
  for (const [type, field, unit] of TYPES) {
    const value = u[field];
    if (value !== undefined && Number.isFinite(value)) out.push({ value, labels: { disk, type }, unit });
  }
  return out;
}
