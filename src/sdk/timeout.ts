// How long one request may take inside a probe. A source's own `timeout` (or its default) is
// capped by the probe's budget and ends a little before it, so a slow peer is reported as data
// (pollect's timeout*1000 ms, success 0) instead of the probe being abandoned as an error.
export interface RequestTimeout {
  /** The timeout to report, in seconds. */
  seconds: number;
  /** The time the request itself may take, in milliseconds. */
  ms: number;
}

export function requestTimeout(configuredS: number | undefined, defaultS: number, probeTimeoutMs: number): RequestTimeout {
  const seconds = Math.min(configuredS ?? defaultS, probeTimeoutMs / 1000);
  const margin = Math.min(250, seconds * 1000 * 0.05);
  return { seconds, ms: Math.max(1, Math.round(seconds * 1000 - margin)) };
}
