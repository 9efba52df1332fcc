// OTLP metrics messages: the subset of opentelemetry-proto (common, resource, metrics and the
// metrics service, v1, same field numbers) that gauges and monotonic sums need, loaded into
// protobufjs on first use; and the request built from points. The request object has OTLP/JSON's
// shape (lowerCamelCase fields, 64-bit integers as decimal strings, enums as numbers), so the same
// object is the JSON body and, through protobufjs' fromObject, the protobuf one.
import type { Type } from 'protobufjs';
import type { Point } from '../../sdk/index.js';

export const OTLP_PROTO = `
syntax = "proto3";
package opentelemetry.proto;

message AnyValue {
  oneof value {
    string string_value = 1;
    bool bool_value = 2;
    int64 int_value = 3;
    double double_value = 4;
  }
}
message KeyValue {
  string key = 1;
  AnyValue value = 2;
}
message InstrumentationScope {
  string name = 1;
  string version = 2;
}
message Resource {
  repeated KeyValue attributes = 1;
  uint32 dropped_attributes_count = 2;
}
message ResourceMetrics {
  Resource resource = 1;
  repeated ScopeMetrics scope_metrics = 2;
  string schema_url = 3;
}
message ScopeMetrics {
  InstrumentationScope scope = 1;
  repeated Metric metrics = 2;
  string schema_url = 3;
}
message Metric {
  string name = 1;
  string description = 2;
  string unit = 3;
  oneof data {
    Gauge gauge = 5;
    Sum sum = 7;
  }
}
message Gauge {
  repeated NumberDataPoint data_points = 1;
}
message Sum {
  repeated NumberDataPoint data_points = 1;
  AggregationTemporality aggregation_temporality = 2;
  bool is_monotonic = 3;
}
enum AggregationTemporality {
  AGGREGATION_TEMPORALITY_UNSPECIFIED = 0;
  AGGREGATION_TEMPORALITY_DELTA = 1;
  AGGREGATION_TEMPORALITY_CUMULATIVE = 2;
}
message NumberDataPoint {
  repeated KeyValue attributes = 7;
  fixed64 start_time_unix_nano = 2;
  fixed64 time_unix_nano = 3;
  oneof value {
    double as_double = 4;
    sfixed64 as_int = 6;
  }
  uint32 flags = 8;
}
message ExportMetricsServiceRequest {
  repeated ResourceMetrics resource_metrics = 1;
}
message ExportMetricsServiceResponse {
  ExportMetricsPartialSuccess partial_success = 1;
}
message ExportMetricsPartialSuccess {
  int64 rejected_data_points = 1;
  string error_message = 2;
}
`;

export interface OtlpTypes {
  Request: Type;
  Response: Type;
}

let types: Promise<OtlpTypes> | undefined;

export function otlpTypes(): Promise<OtlpTypes> {
  types ??= import('protobufjs').then((pb) => {
    const root = pb.default.parse(OTLP_PROTO).root;
    return {
      Request: root.lookupType('opentelemetry.proto.ExportMetricsServiceRequest'),
      Response: root.lookupType('opentelemetry.proto.ExportMetricsServiceResponse'),
    };
  });
  return types;
}

export interface KeyValue {
  key: string;
  value: { stringValue: string };
}

interface DataPoint {
  attributes: KeyValue[];
  startTimeUnixNano?: string;
  timeUnixNano: string;
  asDouble: number;
}

interface Metric {
  name: string;
  description?: string;
  unit?: string;
  gauge?: { dataPoints: DataPoint[] };
  sum?: { dataPoints: DataPoint[]; aggregationTemporality: 2; isMonotonic: true };
}

export function attributes(labels: Record<string, string>): KeyValue[] {
  return Object.keys(labels).map((key) => ({ key, value: { stringValue: String(labels[key]) } }));
}

/** pollect's units as UCUM, as OpenTelemetry writes them; others as they are. */
const UCUM: Record<string, string> = { seconds: 's', milliseconds: 'ms', bytes: 'By', percent: '%', celsius: 'Cel', hertz: 'Hz', volts: 'V', watts: 'W' };

/** The Python pollect's name: its dotted name with dots and dashes as `_`, and `!` left out. */
export function metricName(id: string): string {
  return id.replace(/[-.]/g, '_').replace(/!/g, '');
}

/** `<ms>000000`: nanoseconds as digits (they exceed 2^53). */
export function nanos(ms: number): string {
  return `${Math.round(ms)}000000`;
}

/**
 * One ExportMetricsServiceRequest for points[from, to): one Metric per name and type, counters as
 * cumulative monotonic sums since `startMs` (when the writer started), gauges as gauges.
 */
export function buildRequest(points: readonly Point[], from: number, to: number, resource: KeyValue[], startMs: number) {
  const metrics = new Map<string, Metric>();
  const start = nanos(startMs);
  for (let i = from; i < to; i++) {
    const p = points[i]!;
    const name = metricName(p.name.id);
    const key = `${p.type}\0${name}`;
    let m = metrics.get(key);
    if (!m) {
      m = { name };
      if (p.help) m.description = p.help;
      if (p.unit) m.unit = UCUM[p.unit] ?? p.unit;
      if (p.type === 'counter') m.sum = { dataPoints: [], aggregationTemporality: 2, isMonotonic: true };
      else m.gauge = { dataPoints: [] };
      metrics.set(key, m);
    }
    const dp: DataPoint = { attributes: attributes(p.labels), timeUnixNano: nanos(p.timestamp), asDouble: p.value };
    if (m.sum) {
      dp.startTimeUnixNano = start;
      m.sum.dataPoints.push(dp);
    } else {
      m.gauge!.dataPoints.push(dp);
    }
  }
  return {
    resourceMetrics: [
      {
        resource: { attributes: resource },
        scopeMetrics: [{ scope: { name: 'pollect' }, metrics: [...metrics.values()] }],
      },
    ],
  };
}
