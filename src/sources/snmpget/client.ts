// GETs many OIDs from one agent in as few requests as it allows: batches of maxVarbinds,
// halved when the agent answers tooBig; for SNMPv1, whose agents fail a whole request with
// noSuchName, the named OID is marked missing and the rest asked again.
import { toSnmpValue, type SnmpValue } from './values.js';

/** What this module needs of a net-snmp session (declared here so no net-snmp type leaks out). */
export interface GetSession {
  get(oids: string[], cb: (error: Error | null, varbinds?: { oid: string; type: number; value: unknown }[]) => void): unknown;
}
type Varbind = { oid: string; type: number; value: unknown };

/** RFC 3416 error-status values net-snmp passes as RequestFailedError.status. */
const TOO_BIG = 1;
const NO_SUCH_NAME = 2;

export interface GetStats {
  requests: number;
}

function getOnce(session: GetSession, oids: string[]): Promise<Varbind[]> {
  return new Promise((resolve, reject) => {
    session.get(oids, (err, varbinds) => (err ? reject(err) : resolve(varbinds ?? [])));
  });
}

export async function getAll(
  session: GetSession,
  oids: readonly string[],
  maxVarbinds: number,
  stats: GetStats = { requests: 0 },
): Promise<Map<string, SnmpValue>> {
  const values = new Map<string, SnmpValue>();
  const batch = async (part: string[]): Promise<void> => {
    stats.requests++;
    try {
      const varbinds = await getOnce(session, part);
      part.forEach((oid, i) => {
        const vb = varbinds[i];
        values.set(oid, vb ? toSnmpValue(vb.type, vb.value) : { kind: 'missing', why: 'not in the response' });
      });
    } catch (err) {
      const status = (err as { name?: string; status?: number }).name === 'RequestFailedError' ? (err as { status?: number }).status : undefined;
      if (status === TOO_BIG && part.length > 1) {
        const half = Math.ceil(part.length / 2);
        await batch(part.slice(0, half));
        await batch(part.slice(half));
        return;
      }
      if (status === NO_SUCH_NAME) {
        // net-snmp names the failed varbind: "NoSuchName: 1.3.6..."
        const bad = /:\s*([\d.]+)\s*$/.exec((err as Error).message)?.[1];
        if (bad && part.includes(bad)) {
          values.set(bad, { kind: 'missing', why: 'noSuchName' });
          const rest = part.filter((o) => o !== bad);
          if (rest.length > 0) await batch(rest);
          return;
        }
      }
      throw err;
    }
  };
  for (let i = 0; i < oids.length; i += maxVarbinds) await batch(oids.slice(i, i + maxVarbinds));
  return values;
}
