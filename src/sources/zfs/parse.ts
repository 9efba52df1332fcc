// One line of `zpool iostat -Hp`: tab-separated, exact numbers (-p), no header (-H).
// pool, alloc, free, read ops/s, write ops/s, read bytes/s, write bytes/s.

export interface PoolIostat {
  pool: string;
  alloc: number;
  free: number;
  readOps: number;
  writeOps: number;
  readBytes: number;
  writeBytes: number;
}

const FIELDS = ['alloc', 'free', 'readOps', 'writeOps', 'readBytes', 'writeBytes'] as const;

/** Parses one line; throws with a short reason when it is not a pool's iostat line. */
export function parseZpoolIostatLine(line: string): PoolIostat {
  const parts = line.split('\t');
  if (parts.length < 7) throw new Error(`not a zpool iostat -Hp line (${parts.length} tab-separated fields, expected 7)`);
  const pool = parts[0]!;
  if (pool === '') throw new Error('not a zpool iostat -Hp line (no pool name)');
  const out = { pool } as PoolIostat;
  FIELDS.forEach((field, i) => {
    const text = parts[i + 1]!.trim();
    // -p prints exact integers; '-' (a pool that is not available) or anything else is refused.
    if (!/^\d+$/.test(text)) throw new Error(`pool ${pool}: ${field} is ${JSON.stringify(text.slice(0, 40))}, not a number`);
    out[field] = Number(text);
  });
  return out;
}
