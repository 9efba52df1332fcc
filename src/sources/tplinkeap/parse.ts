// The JSON of a TP-Link EAP's web UI (`/data/*.json`): `{success, error, timeout, data}`.
import { SourceError } from '../../sdk/index.js';

/** True when the answer says the session is gone (`"timeout": "true"`), as the Python pollect reads it. */
export function sessionExpired(answer: Record<string, unknown>): boolean {
  const t = answer.timeout;
  return t !== undefined && t !== null && t !== false && t !== 'false';
}

/** The answer as an object, or an error saying what came instead. */
export function asAnswer(value: unknown, where: string): Record<string, unknown> {
  if (!value || typeof value !== 'object' || Array.isArray(value)) throw new SourceError(`${where}: not an EAP answer (no JSON object)`);
  return value as Record<string, unknown>;
}

/** The first access point of `monitor.ap.aplist.json`: its MAC and client count. */
export function firstAp(answer: Record<string, unknown>, where: string): { mac: string; clients: number } {
  const list = answer.data;
  if (!Array.isArray(list)) throw new SourceError(`${where}: "data" is not a list of access points`);
  const ap = list[0] as Record<string, unknown> | undefined;
  if (!ap || typeof ap !== 'object') throw new SourceError(`${where}: the access point list is empty`);
  if (typeof ap.MAC !== 'string' || ap.MAC === '') throw new SourceError(`${where}: the access point has no MAC`);
  return { mac: ap.MAC, clients: count(ap.StaNum, 'StaNum', where) };
}

export const WIFI_FIELDS = ['packets', 'bytes', 'errors'] as const;

/** The rx/tx counters of one radio (`monitor.ap.interface.json`). */
export function wifiCounters(answer: Record<string, unknown>, where: string): Record<`${'rx' | 'tx'}_${(typeof WIFI_FIELDS)[number]}`, number> {
  const d = answer.data;
  if (!d || typeof d !== 'object' || Array.isArray(d)) throw new SourceError(`${where}: "data" is not an interface record`);
  const r = d as Record<string, unknown>;
  const get = (k: string): number => count(r[k], k, where);
  return {
    rx_packets: get('rx_packets'),
    tx_packets: get('tx_packets'),
    rx_bytes: get('rx_bytes'),
    tx_bytes: get('tx_bytes'),
    rx_errors: get('rx_errors'),
    tx_errors: get('tx_errors'),
  };
}

/** A count the firmware sends as a number or a numeric string. */
function count(v: unknown, key: string, where: string): number {
  const n = typeof v === 'number' ? v : typeof v === 'string' && /^\s*\d+(\.\d+)?\s*$/.test(v) ? Number(v) : NaN;
  if (!Number.isFinite(n) || n < 0) throw new SourceError(`${where}: ${key} is ${v === undefined ? 'missing' : JSON.stringify(v).slice(0, 40)}, not a count`);
  return n;
}
