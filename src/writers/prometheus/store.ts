// The series the endpoint serves, kept as rendered, encoded text per (family, source) so a scrape
// only copies bytes. Everything that keeps the exposition valid happens here, at write time:
// one family per name, one owner per series, one label set per family, stale series removed.
import type { Batch, Labels, Point } from '../../sdk/index.js';
import { formatNumber } from '../../core/format.js';
import type { FamilyType, Namer } from './naming.js';
import { familyHeader, seriesPrefix, type Format } from './render.js';

const EMPTY = Buffer.alloc(0);

interface Series {
  /** The series' own name: the family's, or with `_bucket`, `_sum`, `_count` in a histogram or summary. */
  sample: string;
  /** `le` or `quantile`: written after the family's labels, and not one of them. */
  extra?: string;
  labels: Labels;
  value: number;
  /** When the source read it (Point.timestamp, ms): served after the value with `timestamps`. */
  time: number;
  /** `name{...} `, valid while `version` equals the family's label-set version. */
  prefix: string;
  version: number;
  /** The replace() call that last set it: series not stamped by a full replace are swept. */
  stamp: number;
}

/** What one source contributes to one family. */
interface Chunk {
  series: Map<string, Series>;
  labelNames: Set<string>;
  /** The chunk's lines, encoded at write time so a scrape only copies bytes. */
  text: Buffer;
  /** The same lines in OpenMetrics, where they differ (timestamps are in seconds there). */
  om?: Buffer;
  version: number;
  dirty: boolean;
}

export class Family {
  /** Label names of every series, sorted: the union over all sources. */
  labelNames: string[] = [];
  /** Set when a chunk's label names may have changed: labelNames is recomputed at settle(). */
  labelsChanged = true;
  version = 0;
  /** By source id, in arrival order. */
  readonly chunks = new Map<string, Chunk>();
  /** Series key -> id of the source that owns it; a second source with the same series is refused. */
  readonly owners = new Map<string, string>();
  /** False while HELP is the pollect name standing in for a help text no source gave. */
  helpGiven = false;
  private headers: Partial<Record<Format | 'clash', { help: string; text: Buffer }>> = {};

  constructor(
    readonly name: string,
    readonly type: FamilyType,
    public help: string,
    readonly unit: string | undefined,
  ) {}

  /**
   * HELP/TYPE lines. `omClash`: in OpenMetrics this counter's family name (without `_total`) is
   * taken by another family, so it is declared `unknown` under its full name instead.
   */
  header(format: Format, omClash = false): Buffer {
    const slot = omClash ? 'clash' : format;
    const cached = this.headers[slot];
    if (cached && cached.help === this.help) return cached.text;
    const text = Buffer.from(familyHeader(this.name, omClash ? 'untyped' : this.type, this.help, format, this.unit));
    this.headers[slot] = { help: this.help, text };
    return text;
  }
}

export interface SourceEntry {
  id: string;
  families: Set<Family>;
  /** Ticks in a row the source failed (or was skipped or backing off). */
  failedTicks: number;
}

export interface ApplyResult {
  /** Points now served (duplicates excluded). */
  accepted: number;
  duplicates: { family: string; source: string; owner: string }[];
  /** Points refused because they would mix a histogram or summary with plain series in one family. */
  mismatched: { family: string; source: string; type: FamilyType; familyType: FamilyType }[];
}

const isPart = (t: FamilyType): boolean => t === 'histogram' || t === 'summary';

/** Identity of a series: its non-empty labels, sorted (an empty label is an absent one). */
function seriesKey(labels: Labels): string {
  // Fast path: names already in order (the usual case), no array and no sort.
  let key = '';
  let prev = '';
  for (const n in labels) {
    if (n < prev) return sortedKey(labels);
    prev = n;
    const v = labels[n]!;
    if (v !== '') key += n + '\u0001' + v + '\u0002';
  }
  return key;
}

function sortedKey(labels: Labels): string {
  let key = '';
  for (const n of Object.keys(labels).sort()) {
    const v = labels[n]!;
    if (v !== '') key += n + '\u0001' + v + '\u0002';
  }
  return key;
}

export class SeriesStore {
  readonly families = new Map<string, Family>();
  readonly sources = new Map<string, SourceEntry>();
  private seriesCount = 0;
  private stamp = 0;
  /** Changes with every apply(): a scrape body rendered at one version is valid until the next. */
  version = 0;

  constructor(
    private readonly namer: Namer,
    private readonly staleAfter: number,
    /** Serve each series with the time it was read, not only its value. */
    private readonly timestamps = false,
  ) {}

  get size(): number {
    return this.seriesCount;
  }

  apply(batch: Batch): ApplyResult {
    this.version++;
    const result: ApplyResult = { accepted: 0, duplicates: [], mismatched: [] };
    const touched = new Set<Family>();
    const bySource = new Map<string, Point[]>();
    // Index loops and forEach, not for...of, over what grows with the points and families: this
    // runs every tick, and the launcher keeps V8's optimising compiler off (bin/pollect.js), which
    // leaves iterator loops allocating a result object per step (bench/README.md).
    const all = batch.points;
    for (let i = 0; i < all.length; i++) {
      const p = all[i]!;
      let list = bySource.get(p.source);
      if (!list) bySource.set(p.source, (list = []));
      list.push(p);
    }
    const reported = new Set<string>();
    for (const st of batch.sources) {
      reported.add(st.id);
      const entry = this.entry(st.id);
      const points = bySource.get(st.id);
      if (st.state === 'probed' && st.success) {
        entry.failedTicks = 0;
        this.replace(entry, points ?? [], true, touched, result);
      } else {
        entry.failedTicks++;
        // A failed probe may still have produced some points: update those, keep the rest.
        if (points?.length) this.replace(entry, points, false, touched, result);
        if (entry.failedTicks >= this.staleAfter) this.clear(entry, touched);
      }
    }
    // Points of a source the batch gave no status for count as a successful probe.
    bySource.forEach((points, id) => {
      if (reported.has(id)) return;
      const entry = this.entry(id);
      entry.failedTicks = 0;
      this.replace(entry, points, true, touched, result);
    });
    touched.forEach((fam) => this.settle(fam));
    return result;
  }

  private entry(id: string): SourceEntry {
    let e = this.sources.get(id);
    if (!e) this.sources.set(id, (e = { id, families: new Set(), failedTicks: 0 }));
    return e;
  }

  /**
   * Sets the source's series in place: series it sends again are updated (their rendered label
   * part kept), new ones added, and with `full` the ones it did not send are swept.
   */
  private replace(entry: SourceEntry, points: readonly Point[], full: boolean, touched: Set<Family>, result: ApplyResult): void {
    const stamp = ++this.stamp;
    const work = new Map<Family, { chunk: Chunk; seen: number; isNew: boolean }>();
    for (let i = 0; i < points.length; i++) {
      const p = points[i]!;
      const n = this.namer.metric(p.name, p.type, p.unit, p.partOf);
      let fam = this.families.get(n.family);
      if (!fam) {
        fam = new Family(n.family, n.type, p.help ?? p.name.id, n.unit);
        fam.helpGiven = p.help !== undefined;
        this.families.set(n.family, fam);
      } else if (p.help && !fam.helpGiven) {
        fam.help = p.help;
        fam.helpGiven = true;
      }
      if (fam.type !== n.type && (isPart(fam.type) || isPart(n.type))) {
        result.mismatched.push({ family: fam.name, source: entry.id, type: n.type, familyType: fam.type });
        continue;
      }
      let w = work.get(fam);
      if (!w) {
        const existing = fam.chunks.get(entry.id);
        const chunk = existing ?? { series: new Map(), labelNames: new Set<string>(), text: EMPTY, version: -1, dirty: true };
        work.set(fam, (w = { chunk, seen: 0, isNew: !existing }));
      }
      const labels = this.namer.labels(p.labels, n.extraLabel);
      // The series of a histogram differ by their suffix as well as by their labels.
      const key = n.sample === fam.name ? seriesKey(labels) : n.sample + '\u0003' + seriesKey(labels);
      const value = n.mul === 1 && n.add === 0 ? p.value : p.value * n.mul + n.add;
      const series = w.chunk.series;
      const known = series.get(key);
      if (known) {
        // Ours already (every key of a source's chunk is owned by it). Twice in a batch: last wins.
        if (known.stamp !== stamp) {
          known.stamp = stamp;
          w.seen++;
        }
        const time = Math.round(p.timestamp);
        // A chunk is rendered again only when its text changes: most series keep their value
        // from tick to tick, and re-rendering them was most of a tick's rendering.
        if (!Object.is(known.value, value) || (this.timestamps && known.time !== time)) w.chunk.dirty = true;
        known.value = value;
        known.time = time;
        continue;
      }
      const owner = fam.owners.get(key);
      if (owner !== undefined && owner !== entry.id && fam.chunks.get(owner)?.series.has(key)) {
        result.duplicates.push({ family: fam.name, source: entry.id, owner });
        continue;
      }
      fam.owners.set(key, entry.id);
      series.set(key, { sample: n.sample, extra: n.extraLabel, labels, value, time: Math.round(p.timestamp), prefix: '', version: -1, stamp });
      this.seriesCount++;
      w.seen++;
      w.chunk.dirty = true;
      // Only non-empty labels count: an empty label is an absent one, and needs no column.
      const names = w.chunk.labelNames;
      const before = names.size;
      for (const l in labels) if (labels[l] !== '' && l !== n.extraLabel) names.add(l);
      if (names.size !== before) fam.labelsChanged = true;
    }
    if (full) {
      for (const fam of [...entry.families]) if (!work.has(fam)) this.removeChunk(fam, entry, touched);
    }
    work.forEach((w, fam) => {
      const { chunk } = w;
      result.accepted += w.seen;
      if (full && w.seen < chunk.series.size) {
        // Swept: what this probe did not produce is gone at once.
        chunk.labelNames.clear();
        fam.labelsChanged = true;
        chunk.dirty = true;
        for (const [k, s] of chunk.series) {
          if (s.stamp !== stamp) {
            chunk.series.delete(k);
            this.seriesCount--;
            if (fam.owners.get(k) === entry.id) fam.owners.delete(k);
          } else {
            for (const l in s.labels) if (s.labels[l] !== '' && l !== s.extra) chunk.labelNames.add(l);
          }
        }
      }
      touched.add(fam);
      if (chunk.series.size === 0) {
        fam.chunks.delete(entry.id);
        fam.labelsChanged = true;
        entry.families.delete(fam);
        return;
      }
      if (w.isNew) fam.chunks.set(entry.id, chunk);
      entry.families.add(fam);
    });
  }

  private clear(entry: SourceEntry, touched: Set<Family>): void {
    for (const fam of [...entry.families]) this.removeChunk(fam, entry, touched);
  }

  private removeChunk(fam: Family, entry: SourceEntry, touched: Set<Family>): void {
    const chunk = fam.chunks.get(entry.id);
    if (chunk) {
      for (const k of chunk.series.keys()) if (fam.owners.get(k) === entry.id) fam.owners.delete(k);
      this.seriesCount -= chunk.series.size;
      fam.chunks.delete(entry.id);
      fam.labelsChanged = true;
    }
    entry.families.delete(fam);
    touched.add(fam);
  }

  /** Recomputes the family's label set and re-renders what it invalidated. */
  private settle(fam: Family): void {
    if (fam.chunks.size === 0) {
      if (this.families.get(fam.name) === fam) this.families.delete(fam.name);
      return;
    }
    if (fam.labelsChanged) {
      fam.labelsChanged = false;
      const union = new Set<string>();
      for (const c of fam.chunks.values()) for (const n of c.labelNames) union.add(n);
      const names = [...union].sort();
      if (names.length !== fam.labelNames.length || names.some((n, i) => n !== fam.labelNames[i])) {
        fam.labelNames = names;
        fam.version++;
      }
    }
    fam.chunks.forEach((c) => {
      if (!c.dirty && c.version === fam.version) return;
      let text = '';
      let om = '';
      c.series.forEach((s) => {
        if (s.version !== fam.version) {
          // A bucket's `le` (a quantile's `quantile`) comes last, as client libraries write it.
          const names = s.extra && s.labels[s.extra] !== undefined ? [...fam.labelNames, s.extra] : fam.labelNames;
          s.prefix = seriesPrefix(s.sample, names, s.labels);
          s.version = fam.version;
        }
        const line = s.prefix + formatNumber(s.value);
        if (this.timestamps) {
          // The text format stamps in milliseconds, OpenMetrics in seconds.
          text += line + ' ' + s.time + '\n';
          om += line + ' ' + s.time / 1000 + '\n';
        } else {
          text += line + '\n';
        }
      });
      c.text = Buffer.from(text);
      c.om = this.timestamps ? Buffer.from(om) : undefined;
      c.version = fam.version;
      c.dirty = false;
    });
  }
}
