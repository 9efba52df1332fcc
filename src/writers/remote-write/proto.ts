// The remote_write 1.0 messages, from Prometheus' prompb/remote.proto and types.proto (the fields
// a 1.0 sender fills; MetricMetadata, exemplars and histograms are left out). Loaded into
// protobufjs on first use.
import type { Type } from 'protobufjs';

export const REMOTE_PROTO = `
syntax = "proto3";
package prometheus;

message WriteRequest {
  repeated TimeSeries timeseries = 1;
  reserved 2;
}

message TimeSeries {
  repeated Label labels = 1;
  repeated Sample samples = 2;
}

message Label {
  string name = 1;
  string value = 2;
}

message Sample {
  double value = 1;
  int64 timestamp = 2;
}
`;

export interface RemoteTypes {
  WriteRequest: Type;
  Label: Type;
}

let types: Promise<RemoteTypes> | undefined;

/** The message types, parsed once (protobufjs is imported only when a remote_write writer starts). */
export function remoteTypes(): Promise<RemoteTypes> {
  types ??= import('protobufjs').then((pb) => {
    const root = pb.default.parse(REMOTE_PROTO, { keepCase: true }).root;
    return { WriteRequest: root.lookupType('prometheus.WriteRequest'), Label: root.lookupType('prometheus.Label') };
  });
  return types;
}
