// The daemon's state as a writer may show it (the Prometheus writer's status page and /readyz):
// every executor's batches pass through here after they went to the writers, and each source's
// state, last error, recent probe durations and last values are kept, bounded.
import type { Batch, DaemonStatus, ExecutorView, Point, ProbeRecord, SourceState, SourceStatus, SourceView } from '../sdk/index.js';

/** Probes kept per source for the duration sparkline. */
export const PROBE_HISTORY = 30;
/** Points kept per source as its last values: a page shows a few, not an exposition. */
export const LAST_VALUES = 20;

class SourceEntry implements SourceView {
  type?: string;
  name?: string;
  state: SourceState = 'pending';
  lastError?: { message: string; at: number };
  consecutiveFailures = 0;
  errorsTotal = 0;
  probes: ProbeRecord[] = [];
  lastValues: Point[] = [];
  lastValuesTotal = 0;

  constructor(readonly id: string) {}

  update(st: SourceStatus, at: number, points: readonly Point[], total: number): void {
    this.type = st.type;
    this.name = st.name;
    this.state = stateOf(st);
    this.consecutiveFailures = st.consecutiveFailures;
    this.errorsTotal = st.errorsTotal;
    if (st.state !== 'probed') return;
    this.probes.push({ at, seconds: st.durationSeconds, ok: st.success });
    if (this.probes.length > PROBE_HISTORY) this.probes.shift();
    if (!st.success && st.error !== undefined) this.lastError = { message: st.error, at };
    // A failed probe's partial points update the values; a failed probe without any keeps the old ones.
    if (st.success || total > 0) {
      this.lastValues = points.slice(0, LAST_VALUES);
      this.lastValuesTotal = total;
    }
  }
}

function stateOf(st: SourceStatus): SourceState {
  if (st.state === 'backoff') return 'backing off';
  if (st.state === 'skipped') return 'skipped';
  return st.success ? 'ok' : 'failing';
}

class ExecutorEntry implements ExecutorView {
  ticks = 0;
  readonly sources: SourceEntry[];
  private readonly byId: Map<string, SourceEntry>;

  constructor(
    readonly collection: string,
    readonly tickTime: number,
    sourceIds: readonly string[],
  ) {
    this.sources = sourceIds.map((id) => new SourceEntry(id));
    this.byId = new Map(this.sources.map((s) => [s.id, s]));
  }

  observe(batch: Batch): void {
    this.ticks++;
    const points = pointsBySource(batch.points);
    for (const st of batch.sources) {
      let entry = this.byId.get(st.id);
      if (!entry) {
        entry = new SourceEntry(st.id);
        this.byId.set(st.id, entry);
        this.sources.push(entry);
      }
      const own = points.get(st.id);
      entry.update(st, batch.timestamp, own?.first ?? [], own?.total ?? 0);
    }
  }
}

/**
 * A batch's points lie source after source (the executor concatenates them): the first few of
 * each run and the run's length, without copying the rest.
 */
function pointsBySource(points: readonly Point[]): Map<string, { first: Point[]; total: number }> {
  const out = new Map<string, { first: Point[]; total: number }>();
  let i = 0;
  while (i < points.length) {
    const source = points[i]!.source;
    let j = i + 1;
    while (j < points.length && points[j]!.source === source) j++;
    const seen = out.get(source);
    if (seen) {
      seen.total += j - i;
      if (seen.first.length < LAST_VALUES) seen.first.push(...points.slice(i, Math.min(j, i + LAST_VALUES - seen.first.length)));
    } else {
      out.set(source, { first: points.slice(i, Math.min(j, i + LAST_VALUES)), total: j - i });
    }
    i = j;
  }
  return out;
}

export class StatusBoard implements DaemonStatus {
  private list: ExecutorEntry[] = [];
  private readonly entries = new Map<(batch: Batch) => void, ExecutorEntry>();

  /** Registers an executor and its sources' ids; returns what its ticks report to. */
  track(collection: string, tickTime: number, sourceIds: readonly string[]): (batch: Batch) => void {
    const entry = new ExecutorEntry(collection, tickTime, sourceIds);
    this.list.push(entry);
    const report = (batch: Batch): void => entry.observe(batch);
    this.entries.set(report, entry);
    return report;
  }

  /** Forgets the executor that `report` (from track()) belongs to: a reload removed it. */
  untrack(report: ((batch: Batch) => void) | undefined): void {
    const entry = report && this.entries.get(report);
    if (!entry) return;
    this.entries.delete(report);
    this.list = this.list.filter((e) => e !== entry);
  }

  ready(): boolean {
    return this.list.every((e) => e.ticks > 0);
  }

  executors(): readonly ExecutorView[] {
    return this.list;
  }
}
