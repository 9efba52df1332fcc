// The Porsche Mobile Charger Connect's websocket messages: JSON objects `{interface, path, name,
// args}` it pushes as values change. Two kinds carry what the Python pollect reports: the web
// server's `swaggerCurrentSessionChanged` (args.swaggerCurrentSession: a JSON string with the
// session's startSoc, soc and evChargingRatekW) and the iCAN's phase power (args.activePowerL<n>:
// a JSON string `{"value": <W>}`, one phase per message). Every other message is ignored.
import { finite, isRecord } from '../../sdk/json.js';

export interface PmccState {
  /** State of charge now, %. */
  soc: number;
  /** State of charge when charging started, %. */
  startSoc: number;
  /** The car's charge rate, kW. */
  evChargeRate: number;
  /** Active power of L1–L3, W. */
  phasePower: [number, number, number];
}

export function emptyState(): PmccState {
  return { soc: 0, startSoc: 0, evChargeRate: 0, phasePower: [0, 0, 0] };
}

/** Applies one message (its text) to `state`; returns whether it carried values. Throws on a malformed message. */
export function applyPmccMessage(state: PmccState, text: string): boolean {
  const msg = parseJson(text, 'message');
  if (!isRecord(msg) || typeof msg.interface !== 'string') throw new Error('unexpected message format (no "interface")');
  const args = isRecord(msg.args) ? msg.args : {};
  if (msg.path !== '/') return false;

  if (msg.interface === 'de.bebro.WebServer' && msg.name === 'swaggerCurrentSessionChanged') {
    const session = parseJson(args.swaggerCurrentSession, 'swaggerCurrentSession');
    if (!isRecord(session)) throw new Error('swaggerCurrentSession is not an object');
    const startSoc = numberField(session, 'startSoc');
    const soc = numberField(session, 'soc');
    const rate = numberField(session, 'evChargingRatekW');
    state.startSoc = startSoc;
    state.soc = soc;
    state.evChargeRate = rate;
    return true;
  }
  if (msg.interface === 'de.bebro.iCAN') {
    let changed = false;
    for (const phase of [0, 1, 2] as const) {
      const key = `activePowerL${phase + 1}`;
      if (args[key] === undefined) continue;
      const value = parseJson(args[key], key);
      if (!isRecord(value)) throw new Error(`${key} is not an object`);
      // `{"value": null}` or no value: the phase is not measured, keep what we had.
      if (value.value === undefined || value.value === null) continue;
      state.phasePower[phase] = numberField(value, 'value', key);
      changed = true;
    }
    return changed;
  }
  return false;
}

function parseJson(v: unknown, what: string): unknown {
  if (typeof v !== 'string') throw new Error(`${what} is not a JSON string`);
  try {
    return JSON.parse(v);
  } catch {
    throw new Error(`${what} is not JSON`);
  }
}

function numberField(o: Record<string, unknown>, key: string, where?: string): number {
  const v = finite(o[key]);
  if (v === undefined) throw new Error(`${where ? `${where}.` : ''}${key} is not a number`);
  return v;
}
