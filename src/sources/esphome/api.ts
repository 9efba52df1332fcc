// The messages of ESPHome's native API this source speaks, copied from ESPHome's published
// api.proto (github.com/esphome/aioesphomeapi, aioesphomeapi/api.proto at commit 368a145f, the
// copy of esphome/esphome's esphome/components/api/api.proto; MIT licence), cut to the
// messages and fields used here, without ESPHome's custom options. A message travels as its id
// (the proto's `option (id)`) and its protobuf bytes; see frame.ts.
import type { Type } from 'protobufjs';

const API_PROTO = `
syntax = "proto3";

message HelloRequest {
  string client_info = 1;
  uint32 api_version_major = 2;
  uint32 api_version_minor = 3;
}
message HelloResponse {
  uint32 api_version_major = 1;
  uint32 api_version_minor = 2;
  string server_info = 3;
  string name = 4;
}
message AuthenticationRequest {
  string password = 1;
}
message AuthenticationResponse {
  bool invalid_password = 1;
}
message DisconnectRequest {
  int32 reason = 1;
}
message DisconnectResponse {}
message PingRequest {}
message PingResponse {}
message ListEntitiesRequest {}
message ListEntitiesDoneResponse {}
message SubscribeStatesRequest {}
message ListEntitiesSensorResponse {
  string object_id = 1;
  fixed32 key = 2;
  string name = 3;
  string icon = 5;
  string unit_of_measurement = 6;
  int32 accuracy_decimals = 7;
  bool force_update = 8;
  string device_class = 9;
  int32 state_class = 10;
  bool disabled_by_default = 12;
  int32 entity_category = 13;
  uint32 device_id = 14;
}
message SensorStateResponse {
  fixed32 key = 1;
  float state = 2;
  bool missing_state = 3;
  uint32 device_id = 4;
}
`;

/** Message ids (api.proto's `option (id)`). */
export const MSG = {
  HelloRequest: 1,
  HelloResponse: 2,
  AuthenticationRequest: 3,
  AuthenticationResponse: 4,
  DisconnectRequest: 5,
  DisconnectResponse: 6,
  PingRequest: 7,
  PingResponse: 8,
  ListEntitiesRequest: 11,
  ListEntitiesSensorResponse: 16,
  ListEntitiesDoneResponse: 19,
  SubscribeStatesRequest: 20,
  SensorStateResponse: 25,
} as const;

export type MessageName = keyof typeof MSG;

/** The API version this client speaks (aioesphomeapi's at the commit above). */
export const API_VERSION = { major: 1, minor: 15 } as const;

export interface HelloResponse {
  api_version_major: number;
  api_version_minor: number;
  server_info: string;
  name: string;
}

export interface SensorInfo {
  object_id: string;
  key: number;
  name: string;
  unit_of_measurement: string;
  device_class: string;
  accuracy_decimals: number;
}

export interface SensorState {
  key: number;
  state: number;
  missing_state: boolean;
}

export type ApiTypes = Record<MessageName, Type>;

let types: Promise<ApiTypes> | undefined;

/** The message types, parsed once, on first use (protobufjs is loaded only for configs with this source). */
export function apiTypes(): Promise<ApiTypes> {
  types ??= import('protobufjs').then((pb) => {
    const root = pb.default.parse(API_PROTO, { keepCase: true }).root;
    return Object.fromEntries(Object.keys(MSG).map((name) => [name, root.lookupType(name)])) as ApiTypes;
  });
  return types;
}

/** A message's protobuf bytes. */
export function encode(types: ApiTypes, name: MessageName, fields: Record<string, unknown> = {}): Buffer {
  const type = types[name];
  return Buffer.from(type.encode(type.fromObject(fields)).finish());
}

/** A message decoded with every field present (proto3 defaults filled in); throws on malformed bytes. */
export function decode<T>(types: ApiTypes, name: MessageName, data: Buffer): T {
  const type = types[name];
  return type.toObject(type.decode(data), { defaults: true, longs: Number }) as T;
}
