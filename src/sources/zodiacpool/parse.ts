// The iAqualink answers the ZodiacPool source reads: the login (user id and tokens), the device
// list and a robot's shadow (`state.reported.equipment.robot`), and the time left of its cycle.
import { SourceError } from '../../sdk/index.js';

export interface Login {
  /** The user id the signatures and the device list name. */
  userId: string;
  email: string;
  idToken: string;
  refreshToken: string;
  /** Seconds since the epoch when the id token expires (its JWT `exp`), if it says. */
  expiresAt?: number;
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => !!v && typeof v === 'object' && !Array.isArray(v);

/** A login or refresh answer (`POST /users/v1/login`, `/users/v1/refresh`). */
export function parseLogin(value: unknown, where: string): Login {
  if (!isObj(value)) throw new SourceError(`${where}: not a login answer (no JSON object)`);
  const oauth = value.userPoolOAuth;
  const id = value.id;
  if (typeof id !== 'number' && typeof id !== 'string') throw new SourceError(`${where}: the login answer has no user id`);
  if (!isObj(oauth) || typeof oauth.IdToken !== 'string' || oauth.IdToken === '')
    throw new SourceError(`${where}: the login answer has no userPoolOAuth.IdToken`);
  return {
    userId: String(id),
    email: typeof value.email === 'string' ? value.email : '',
    idToken: oauth.IdToken,
    refreshToken: typeof oauth.RefreshToken === 'string' ? oauth.RefreshToken : '',
    expiresAt: jwtExpiry(oauth.IdToken),
  };
}

/** The `exp` of a JWT's payload, or undefined when it has none that can be read. */
export function jwtExpiry(jwt: string): number | undefined {
  const payload = jwt.split('.')[1];
  if (!payload) return undefined;
  try {
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as unknown;
    return isObj(claims) && typeof claims.exp === 'number' ? claims.exp : undefined;
  } catch {
    return undefined;
  }
}

/** The serial numbers of `GET /v2/devices.json`. */
export function parseDevices(value: unknown, where: string): string[] {
  if (!Array.isArray(value)) throw new SourceError(`${where}: not a device list`);
  const out: string[] = [];
  for (const d of value) if (isObj(d) && typeof d.serial_number === 'string' && d.serial_number !== '') out.push(d.serial_number);
  return out;
}

export interface Robot {
  state: number;
  prCyc: number;
  errorCode: number;
  cycleStartTime: number;
  firstSmrtFlag: number;
  durations: Record<string, number>;
}

/** The robot of a device shadow (`GET /devices/v2/<serial>/shadow`), or undefined for a device that has none. */
export function parseRobot(value: unknown, where: string): Robot | undefined {
  if (!isObj(value)) throw new SourceError(`${where}: not a device shadow (no JSON object)`);
  const reported = isObj(value.state) ? value.state.reported : undefined;
  if (!isObj(reported)) throw new SourceError(`${where}: the shadow has no state.reported`);
  const robot = isObj(reported.equipment) ? reported.equipment.robot : undefined;
  if (!isObj(robot)) return undefined;
  const num = (o: Obj, key: string, path: string, fallback?: number): number => {
    const v = o[key];
    if (v === undefined && fallback !== undefined) return fallback;
    if (typeof v !== 'number' || !Number.isFinite(v))
      throw new SourceError(`${where}: ${path} is ${v === undefined ? 'missing' : JSON.stringify(v).slice(0, 40)}, not a number`);
    return v;
  };
  const durations: Record<string, number> = {};
  if (isObj(robot.durations)) for (const [k, v] of Object.entries(robot.durations)) if (typeof v === 'number') durations[k] = v;
  return {
    state: num(robot, 'state', 'robot.state'),
    prCyc: num(robot, 'prCyc', 'robot.prCyc'),
    errorCode: num(robot, 'errorCode', 'robot.errorCode', 0),
    cycleStartTime: num(robot, 'cycleStartTime', 'robot.cycleStartTime', 0),
    firstSmrtFlag: num(robot, 'firstSmrtFlag', 'robot.firstSmrtFlag', 0),
    durations,
  };
}

/** The duration field of each program cycle: waterline, quick, smart, deep, custom. */
const CYCLE_DURATIONS = ['waterTim', 'quickTim', 'smartTim', 'deepTim', 'customTim'] as const;

/**
 * Seconds left of the running cycle, -1 when the robot stands still (state 0), as the Python
 * pollect computes it; undefined for a cycle whose duration the shadow does not give.
 */
export function remainingSeconds(robot: Robot, nowSeconds: number): number | undefined {
  if (robot.state === 0) return -1;
  let field: string | undefined = CYCLE_DURATIONS[robot.prCyc];
  if (field === 'smartTim' && robot.firstSmrtFlag !== 0) field = 'firstSmartTim';
  const minutes = field === undefined ? undefined : robot.durations[field];
  if (minutes === undefined) return undefined;
  return Math.round(minutes * 60 - (nowSeconds - robot.cycleStartTime));
}
