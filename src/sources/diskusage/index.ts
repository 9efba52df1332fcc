// DiskUsage: size, used and free bytes and inodes of mounted filesystems, by statfs. Local kernel
// filesystems are asked directly; any other statfs is bounded by half the source timeout (5 s at
// most) and never runs twice at once for a path, so a dead network mount shows up as a warning
// instead of a stuck tick. Writers with Prometheus names also get each mount as node_exporter
// reports it (size, free, avail bytes, files, labelled device, fstype, mountpoint), of the mounts
// node_exporter reports by default, or of the listed paths that are mount points.
import { errorMessage, Source, SourceError, type JsonSchema, type ProbeContext, type Sample, type SourceParams } from '../../sdk/index.js';
import { waitBudget } from '../../host/guard.js';
import { sanitiseDiskName } from '../../host/names.js';
import { backendSchema, hostReader, type FsUsage, type MountUsageResult } from '../../host/reader.js';

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
    const budget = waitBudget(ctx.timeoutMs);
    const end = performance.now() + budget;
    const { usage, errors } = await this.host.fsUsage(this.config.disks, budget);
    // After, not beside, the first (the guard refuses a second statfs of a path still being
    // asked), within what is left of the same budget.
    // Never at the cost of pollect's own samples: a mount table that cannot be read is a problem.
    const mounts = !ctx.wants('prometheus')
      ? undefined
      : await this.host.mountUsage(this.config.disks, Math.max(0, end - performance.now())).catch((err: unknown) => {
          ctx.reportProblem(errorMessage(err));
          return undefined;
        });
    if (errors.length > 0 && usage.length === 0) {
      throw new SourceError(errors.length > 1 ? `${errors[0]!.message} (and ${errors.length - 1} more)` : errors[0]!.message);
    }
    // The others are reported: a dead network mount must not hide the disks that answer.
    if (errors.length > 0) ctx.reportProblem(errors.map((e) => e.message).join('; '));
    const out = usage.flatMap(samplesOf);
    if (mounts) out.push(...mountSamples(mounts));
    return out;
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

/** The mounts as node_exporter's filesystem collector names them; one that gave no answer has device_error 1. */
function mountSamples({ usage, errors }: MountUsageResult): Sample[] {
  const out: Sample[] = [];
  const add = (name: string, value: number, labels: Sample['labels'], unit?: string) => out.push({ name, value, labels, unit, naming: 'prometheus' });
  for (const u of usage) {
    const labels = { device: u.device, fstype: u.fsType, mountpoint: u.path };
    add('size_bytes', u.total, labels, 'bytes');
    // statfs' bfree (free to root), where `free` above is bavail (free to users), as df shows.
    add('free_bytes', u.total - u.used, labels, 'bytes');
    add('avail_bytes', u.free, labels, 'bytes');
    if (u.inodesTotal !== undefined) add('files', u.inodesTotal, labels);
    if (u.inodesFree !== undefined) add('files_free', u.inodesFree, labels);
    add('readonly', u.readOnly ? 1 : 0, labels);
    add('device_error', 0, labels);
  }
  for (const e of errors) {
    const labels = { device: e.device, fstype: e.fsType, mountpoint: e.path };
    add('readonly', e.readOnly ? 1 : 0, labels);
    add('device_error', 1, labels);
  }
  return out;
}
