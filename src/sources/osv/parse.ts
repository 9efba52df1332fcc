// Parsers for the OSv REST API bodies (modules/httpserver-api). Shapes: fixtures/osv/SHAPES.md.
import { SourceError } from '../../sdk/index.js';

/** A `long` result: OSv writes it as a bare JSON number. */
export function parseLong(value: unknown, where: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new SourceError(`${where}: expected a non-negative number, got ${describe(value)}`);
  }
  return value;
}

export interface ThreadSummary {
  /** Sum of `cpu_ms` over all threads, in milliseconds. */
  cpuMs: number;
  threads: number;
}

/** `GET /os/threads`: `{"list": [Thread...], "time_ms": N}`; a thread without cpu_ms counts 0. */
export function parseThreads(value: unknown, where: string): ThreadSummary {
  const list = listOf(value, where);
  let cpuMs = 0;
  for (const t of list) {
    if (t === null || typeof t !== 'object') throw new SourceError(`${where}: a thread entry is ${describe(t)}, not an object`);
    const ms = (t as { cpu_ms?: unknown }).cpu_ms;
    // OSv leaves members that were never set out of the object.
    if (ms === undefined) continue;
    if (typeof ms !== 'number' || !Number.isFinite(ms)) throw new SourceError(`${where}: cpu_ms is ${describe(ms)}, not a number`);
    cpuMs += ms;
  }
  return { cpuMs, threads: list.length };
}

/** `GET /trace/count`: `{"list": [{"name", "count"}...], "time_ms": N}` -> name -> count. */
export function parseTraceCounts(value: unknown, where: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const c of listOf(value, where)) {
    const { name, count } = (c ?? {}) as { name?: unknown; count?: unknown };
    if (typeof name !== 'string' || typeof count !== 'number' || !Number.isFinite(count)) {
      throw new SourceError(`${where}: a counter entry is ${describe(c)}, not {"name": string, "count": number}`);
    }
    out.set(name, count);
  }
  return out;
}

function listOf(value: unknown, where: string): unknown[] {
  const list = value !== null && typeof value === 'object' ? (value as { list?: unknown }).list : undefined;
  if (!Array.isArray(list)) throw new SourceError(`${where}: expected an object with a "list" array, got ${describe(value)}`);
  return list;
}

function describe(v: unknown): string {
  let s: string;
  try {
    s = JSON.stringify(v) ?? String(v);
  } catch {
    s = String(v);
  }
  return s.length > 60 ? s.slice(0, 60) + '…' : s;
}
