// What a reload changes. The running writers and executors are matched with the new config's by
// their configs after defaults, compared structurally: whatever did not change keeps running.
import { isDeepStrictEqual } from 'node:util';
import type { ExecutorPlan, ResolvedSource, ResolvedWriter } from '../config/load.js';

export interface Matched<O, N> {
  /** Same config: the running one stays. */
  kept: [O, N][];
  /** Same type, another config: the running one is stopped and the new one takes its place. */
  replaced: [O, N][];
  added: N[];
  removed: O[];
}

/**
 * Pairs `old` with `next`: first every equal pair (`same`), then, of what is left, pairs that are
 * `related` (the same writer type on another port, say), in order. Each side is used once.
 */
export function match<O, N>(
  old: readonly O[],
  next: readonly N[],
  same: (o: O, n: N) => boolean,
  related: (o: O, n: N) => boolean = () => false,
): Matched<O, N> {
  const out: Matched<O, N> = { kept: [], replaced: [], added: [], removed: [] };
  const left = [...old];
  const unmatched: N[] = [];
  for (const n of next) {
    const i = left.findIndex((o) => same(o, n));
    if (i < 0) unmatched.push(n);
    else out.kept.push([left.splice(i, 1)[0]!, n]);
  }
  for (const n of unmatched) {
    const i = left.findIndex((o) => related(o, n));
    if (i < 0) out.added.push(n);
    else out.replaced.push([left.splice(i, 1)[0]!, n]);
  }
  out.removed = left;
  return out;
}

/** Two writers are the same when they are of one class with equal params (defaults filled in). */
export function sameWriter(a: ResolvedWriter, b: ResolvedWriter): boolean {
  return a.cls === b.cls && a.typeName === b.typeName && isDeepStrictEqual(a.config, b.config);
}

export function sameWriterType(a: ResolvedWriter, b: ResolvedWriter): boolean {
  return a.cls === b.cls && a.typeName === b.typeName;
}

function sameSource(a: ResolvedSource, b: ResolvedSource): boolean {
  return a.cls === b.cls && a.typeName === b.typeName && isDeepStrictEqual(a.config, b.config);
}

/**
 * Two executors are the same when their timing and sources are: their writers are matched on
 * their own, so an executor whose writer changed keeps ticking and only writes elsewhere.
 */
export function sameExecutor(a: ExecutorPlan, b: ExecutorPlan): boolean {
  return (
    a.collection === b.collection &&
    a.tickTime === b.tickTime &&
    a.maxBackoff === b.maxBackoff &&
    JSON.stringify(a.thresholds) === JSON.stringify(b.thresholds) &&
    a.sources.length === b.sources.length &&
    a.sources.every((s, i) => sameSource(s, b.sources[i]!))
  );
}

/** `base`, or `base#1`, `base#2` ... : the first that is not taken. */
export function freeId(base: string, taken: ReadonlySet<string>): string {
  if (!taken.has(base)) return base;
  for (let n = 1; ; n++) if (!taken.has(`${base}#${n}`)) return `${base}#${n}`;
}
