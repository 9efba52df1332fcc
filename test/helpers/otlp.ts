// The official OTLP metrics messages (test/fixtures/otlp-proto, copied from opentelemetry-proto),
// loaded with protobufjs: what a real OTLP receiver decodes the Otel writer's requests with.
import path from 'node:path';
import protobuf from 'protobufjs';

const DIR = path.resolve(__dirname, '../fixtures/otlp-proto');
const SERVICE = 'opentelemetry/proto/collector/metrics/v1/metrics_service.proto';

export interface OfficialOtlp {
  Request: protobuf.Type;
  Response: protobuf.Type;
}

let loaded: OfficialOtlp | undefined;

export function officialOtlp(): OfficialOtlp {
  if (!loaded) {
    const root = new protobuf.Root();
    // The files import each other by their path from the repository's top.
    root.resolvePath = (_origin, target) => path.join(DIR, target);
    root.loadSync(SERVICE);
    root.resolveAll();
    loaded = {
      Request: root.lookupType('opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest'),
      Response: root.lookupType('opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceResponse'),
    };
  }
  return loaded;
}

/** A request body decoded as a receiver sees it: every field of the schema, defaults included. */
export function decodeRequest(body: Uint8Array): unknown {
  const { Request } = officialOtlp();
  return Request.toObject(Request.decode(body), { longs: String, enums: Number, defaults: true, arrays: true, oneofs: true });
}

/**
 * The keys of an OTLP/JSON body that are no field of the official message at that place (OTLP/JSON
 * is proto3's JSON mapping with lowerCamelCase names): a receiver ignores them, so a misspelt field
 * would be silently lost.
 */
export function unknownJsonKeys(json: unknown, type: protobuf.Type = officialOtlp().Request, at = ''): string[] {
  if (typeof json !== 'object' || json === null) return [];
  const out: string[] = [];
  for (const [key, value] of Object.entries(json)) {
    const field = type.fields[key];
    if (!field) {
      out.push(`${at}.${key}`);
      continue;
    }
    const sub = field.resolve().resolvedType;
    if (!(sub instanceof protobuf.Type)) continue;
    const items = Array.isArray(value) ? value : [value];
    items.forEach((v, i) => out.push(...unknownJsonKeys(v, sub, `${at}.${key}${Array.isArray(value) ? `[${i}]` : ''}`)));
  }
  return out;
}
