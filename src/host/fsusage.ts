// Filesystem sizes by statfs, each call bounded by a deadline and at most one outstanding per
// path (see guard.ts), so a dead network mount costs one pool thread, not a blocked tick.
import { statfs as statfsCb, statfsSync } from 'node:fs';
import { deadlineAfter, poolGuard } from './guard.js';

export interface FsUsage {
  path: string;
  /** The mounted device (`/dev/sda1`, `server:/export`), where known. */
  device?: string;
  total: number;
  used: number;
  /** Space available to unprivileged users (df's "Available"). */
  free: number;
  inodesTotal?: number;
  inodesFree?: number;
}

/** The fields of a statfs result that are used (node's StatFs has them). */
export interface StatfsLike {
  bsize: number;
  blocks: number;
  bfree: number;
  bavail: number;
  files: number;
  ffree: number;
}

export type StatfsFn = (path: string) => Promise<StatfsLike>;

/** fs.statfs through its callback API: half the cost of fs/promises' on a 1 s tick. */
function statfs(path: string): Promise<StatfsLike> {
  return new Promise((resolve, reject) => statfsCb(path, (err, s) => (err ? reject(err) : resolve(s))));
}

export interface FsUsageResult {
  usage: FsUsage[];
  /** One line per path that gave no answer, in the order asked. */
  errors: { path: string; message: string }[];
}

/** Sizes as df -B1 shows them: total = blocks, used = blocks - bfree, free = bavail. */
export function usageOf(path: string, s: StatfsLike): FsUsage {
  return {
    path,
    total: s.blocks * s.bsize,
    used: (s.blocks - s.bfree) * s.bsize,
    free: s.bavail * s.bsize,
    inodesTotal: s.files,
    inodesFree: s.ffree,
  };
}

/**
 * statfs of every path in parallel; waits at most `deadlineMs` (or until `signal` aborts).
 * Never rejects: a path that fails, hangs or is still hanging from an earlier call is in `errors`.
 */
export async function fsUsage(paths: readonly string[], deadlineMs: number, signal?: AbortSignal, fn: StatfsFn = statfs): Promise<FsUsageResult> {
  const { deadline, clear } = deadlineAfter(deadlineMs, signal);
  try {
    const settled = await Promise.allSettled(paths.map((p) => poolGuard.run(`statfs(${p})`, () => fn(p), deadline)));
    const out: FsUsageResult = { usage: [], errors: [] };
    settled.forEach((r, i) => {
      const path = paths[i]!;
      if (r.status === 'fulfilled') out.usage.push(usageOf(path, r.value));
      else out.errors.push({ path, message: errorLine(r.reason, path, deadlineMs) });
    });
    return out;
  } finally {
    clear();
  }
}

/**
 * fsUsage, but the paths in `direct` (mount points of kernel filesystems that answer statfs from
 * memory, see directStatfsPaths) are asked synchronously: no pool thread or timer for them.
 * Results keep the order of `paths`.
 */
export async function statPaths(
  paths: readonly string[],
  direct: ReadonlySet<string>,
  deadlineMs: number,
  signal?: AbortSignal,
  fn: StatfsFn = statfs,
): Promise<FsUsageResult> {
  const out: FsUsageResult = { usage: [], errors: [] };
  const rest: string[] = [];
  for (const path of paths) {
    if (!direct.has(path)) {
      rest.push(path);
      continue;
    }
    try {
      out.usage.push(usageOf(path, statfsSync(path)));
    } catch (err) {
      out.errors.push({ path, message: errorLine(err, path, deadlineMs) });
    }
  }
  if (rest.length === 0) return out;
  const more = await fsUsage(rest, deadlineMs, signal, fn);
  const order = new Map(paths.map((p, i) => [p, i]));
  const byOrder = <T extends { path: string }>(a: T, b: T): number => order.get(a.path)! - order.get(b.path)!;
  return { usage: [...out.usage, ...more.usage].sort(byOrder), errors: [...out.errors, ...more.errors].sort(byOrder) };
}

function errorLine(err: unknown, path: string, deadlineMs: number): string {
  if (err instanceof Error && err.name === 'GuardError') {
    return err.message.endsWith('deadline') ? `statfs(${path}) gave no answer within ${Math.round(deadlineMs)} ms` : err.message;
  }
  const e = err as NodeJS.ErrnoException;
  return `statfs(${path}) failed: ${e?.code ?? ''} ${e?.message ?? String(err)}`.replace(/\s+/g, ' ').trim();
}
