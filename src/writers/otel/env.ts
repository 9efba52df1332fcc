// The OTEL_EXPORTER_OTLP_* environment variables the OpenTelemetry SDKs honour (and with them the
// Python pollect's Otel writer, which has no keys of its own), read as the OTLP exporter spec
// says: a metrics-specific variable wins over the generic one; the generic endpoint is a base to
// which `v1/metrics` is added, the metrics one is used as it is.
export interface OtlpEnv {
  endpoint?: string;
  protocol?: string;
  headers?: Record<string, string>;
  /** Seconds. */
  timeout?: number;
  compression?: string;
  tls?: { ca?: string; cert?: string; key?: string };
  serviceName?: string;
  resourceAttributes?: Record<string, string>;
}

/** `k1=v1,k2=v2` with URL-encoded values (W3C Baggage-like), as the SDKs read headers and resource attributes. */
export function parseKeyValues(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of text.split(',')) {
    const eq = part.indexOf('=');
    if (eq <= 0) continue;
    const key = part.slice(0, eq).trim();
    let value = part.slice(eq + 1).trim();
    try {
      value = decodeURIComponent(value);
    } catch {
      // A value with a stray `%` is taken as it is.
    }
    if (key) out[key] = value;
  }
  return out;
}

/** The metrics endpoint for a generic OTEL_EXPORTER_OTLP_ENDPOINT base: `<base>/v1/metrics`. */
export function metricsEndpoint(base: string): string {
  return `${base.replace(/\/+$/, '')}/v1/metrics`;
}

export function otlpEnv(env: NodeJS.ProcessEnv): OtlpEnv {
  // An empty variable counts as unset.
  const value = (name: string): string | undefined => env[name]?.trim() || undefined;
  const get = (name: string): string | undefined => value(`OTEL_EXPORTER_OTLP_METRICS_${name}`) ?? value(`OTEL_EXPORTER_OTLP_${name}`);
  const out: OtlpEnv = {};
  const specific = value('OTEL_EXPORTER_OTLP_METRICS_ENDPOINT');
  const generic = value('OTEL_EXPORTER_OTLP_ENDPOINT');
  if (specific) out.endpoint = specific;
  else if (generic) out.endpoint = metricsEndpoint(generic);
  out.protocol = get('PROTOCOL');
  const headers = get('HEADERS');
  if (headers) out.headers = parseKeyValues(headers);
  const timeout = get('TIMEOUT');
  // Milliseconds in the environment (the spec's unit); a value that is not a number is ignored.
  if (timeout !== undefined && Number.isFinite(Number(timeout)) && Number(timeout) > 0) out.timeout = Number(timeout) / 1000;
  out.compression = get('COMPRESSION');
  const ca = get('CERTIFICATE');
  const cert = get('CLIENT_CERTIFICATE');
  const key = get('CLIENT_KEY');
  if (ca || cert || key) out.tls = { ca, cert, key };
  out.serviceName = value('OTEL_SERVICE_NAME');
  const attributes = value('OTEL_RESOURCE_ATTRIBUTES');
  if (attributes) out.resourceAttributes = parseKeyValues(attributes);
  return out;
}
