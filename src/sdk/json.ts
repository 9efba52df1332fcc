// Reading untrusted JSON documents: narrow `unknown` to what a parser expects, or undefined.
export type JsonObject = Record<string, unknown>;

/** A plain object (not null, not an array). */
export function isRecord(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** `v` if it is a finite number. */
export function finite(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

/** `o[key]` if `o` is an object and that field is a finite number. */
export function numberAt(o: unknown, key: string): number | undefined {
  return isRecord(o) ? finite(o[key]) : undefined;
}
