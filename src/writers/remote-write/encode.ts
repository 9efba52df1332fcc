// Encodes points into a remote_write 1.0 WriteRequest (protobuf), one TimeSeries per point. A
// series' labels (`__name__` and its labels, sorted by name, as the spec asks) are encoded once
// with protobufjs and kept as bytes for as long as the point's SeriesName and labels objects live;
// each sample is then a few bytes appended by hand: `samples { value, timestamp }`.
import type { Type } from 'protobufjs';
import type { Labels, Point, SeriesName } from '../../sdk/index.js';
import type { Namer } from '../prometheus/naming.js';

interface SeriesBytes {
  type: Point['type'];
  unit?: string;
  /** The repeated `labels` fields of a TimeSeries, encoded. */
  labels: Buffer;
  /** The value conversion of the prometheus naming (v * mul + add). */
  mul: number;
  add: number;
}

/** Bytes of a varint holding a non-negative integer up to 2^53. */
function varintLength(n: number): number {
  let len = 1;
  while (n >= 128) {
    n = Math.floor(n / 128);
    len++;
  }
  return len;
}

function writeVarint(buf: Buffer, pos: number, n: number): number {
  while (n >= 128) {
    buf[pos++] = (n % 128) | 128;
    n = Math.floor(n / 128);
  }
  buf[pos++] = n;
  return pos;
}

export class RemoteWriteEncoder {
  private readonly namer: Namer;
  private readonly labelType: Type;
  private readonly protobuf: typeof import('protobufjs');
  /**
   * The last series seen with each labels object: most sources hand the same object tick after
   * tick, one per series, so one lookup finds it.
   */
  private readonly byObject = new WeakMap<Labels, { name: SeriesName; bytes: SeriesBytes }>();
  /** By the labels' content, for label objects made anew each tick (static labels merged in) or shared by series. */
  private readonly byContent = new WeakMap<SeriesName, Map<string, SeriesBytes>>();

  constructor(namer: Namer, labelType: Type, protobuf: typeof import('protobufjs')) {
    this.namer = namer;
    this.labelType = labelType;
    this.protobuf = protobuf;
  }

  /** The series' labels, named as the Prometheus writer names them, sorted, as protobuf bytes. */
  series(p: Point): SeriesBytes {
    const last = this.byObject.get(p.labels);
    if (last !== undefined && last.name === p.name && last.bytes.type === p.type && last.bytes.unit === p.unit) return last.bytes;
    let content = '';
    for (const k in p.labels) content += `${k}\0${p.labels[k]}\0`;
    let known = this.byContent.get(p.name);
    if (!known) this.byContent.set(p.name, (known = new Map()));
    let bytes = known.get(content);
    if (!bytes || bytes.type !== p.type || bytes.unit !== p.unit) {
      bytes = this.build(p);
      // Label values that never repeat (a timestamp as a label) must not grow this without bound.
      if (known.size >= 10_000) known.clear();
      known.set(content, bytes);
    }
    this.byObject.set(p.labels, { name: p.name, bytes });
    return bytes;
  }

  private build(p: Point): SeriesBytes {
    const metric = this.namer.metric(p.name, p.type, p.unit);
    const named = this.namer.labels(p.labels);
    // An empty value is no label at all in Prometheus; a source's `__name__` is its own label's.
    const pairs: [string, string][] = [['__name__', metric.family]];
    for (const k in named) if (named[k] !== '' && k !== '__name__') pairs.push([k, named[k]!]);
    pairs.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    const w = this.protobuf.Writer.create();
    for (const [name, value] of pairs) this.labelType.encodeDelimited({ name, value }, w.uint32((1 << 3) | 2));
    return { type: p.type, unit: p.unit, labels: Buffer.from(w.finish()), mul: metric.mul, add: metric.add };
  }

  /** A WriteRequest holding points[from, to), uncompressed. */
  encode(points: readonly Point[], from = 0, to = points.length): Buffer {
    const series: SeriesBytes[] = new Array(to - from);
    const stamps: number[] = new Array(to - from);
    let size = 0;
    for (let i = from; i < to; i++) {
      const p = points[i]!;
      const s = this.series(p);
      const ts = Math.max(0, Math.round(p.timestamp));
      series[i - from] = s;
      stamps[i - from] = ts;
      // Sample: 0x09 + double, 0x10 + varint timestamp.
      const sample = 10 + varintLength(ts);
      const body = s.labels.length + 1 + varintLength(sample) + sample;
      size += 1 + varintLength(body) + body;
    }
    const buf = Buffer.allocUnsafe(size);
    let pos = 0;
    for (let i = from; i < to; i++) {
      const s = series[i - from]!;
      const ts = stamps[i - from]!;
      const v = points[i]!.value;
      const value = s.mul === 1 && s.add === 0 ? v : v * s.mul + s.add;
      const sample = 10 + varintLength(ts);
      buf[pos++] = (1 << 3) | 2; // WriteRequest.timeseries
      pos = writeVarint(buf, pos, s.labels.length + 1 + varintLength(sample) + sample);
      buf.set(s.labels, pos);
      pos += s.labels.length;
      buf[pos++] = (2 << 3) | 2; // TimeSeries.samples
      pos = writeVarint(buf, pos, sample);
      buf[pos++] = (1 << 3) | 1; // Sample.value (double)
      pos = buf.writeDoubleLE(value, pos);
      buf[pos++] = 2 << 3; // Sample.timestamp (varint)
      pos = writeVarint(buf, pos, ts);
    }
    return buf;
  }
}
