// How long one request may take inside a probe. A source's own `timeout` (or its default) is
// capped by the probe's budget and ends a little before it, so a slow peer is reported as data
// (pollect's timeout*1000 ms, success 0) instead of the probe being abandoned as an error. The
// value reported is the configured timeout's, whatever the cap, as in the Python pollect: a
// dashboard sees the same failure value at any tickTime.

/** Seconds a request may take when the source sets no `timeout`, as pollect. */
const DEFAULT_REQUEST_TIMEOUT_S = 10;

/**
 * The common `timeout` param as the request-timing sources (Http, TcpTime, Certificate) read it:
 * its default is computed, so the schema names it instead of filling it in.
 */
export const requestTimeoutParam = {
  type: 'number',
  exclusiveMinimum: 0,
  description: `Seconds a request may take (default ${DEFAULT_REQUEST_TIMEOUT_S}, at most the probe timeout); a failure reports this ×1000 ms. The common timeout key, so it bounds the probe too`,
} as const;

export interface RequestTimeout {
  /** The timeout to report, in seconds: the configured one (or the default). */
  seconds: number;
  /** The time the request itself may take, in milliseconds. */
  ms: number;
}

export function requestTimeout(configuredS: number | undefined, probeTimeoutMs: number): RequestTimeout {
  const seconds = configuredS ?? DEFAULT_REQUEST_TIMEOUT_S;
  const budgetMs = Math.min(seconds * 1000, probeTimeoutMs);
  const margin = Math.min(250, budgetMs * 0.05);
  return { seconds, ms: Math.max(1, Math.round(budgetMs - margin)) };
}
