// EspHome (the Python pollect's EspHomeSource): the sensor values of an ESPHome device, from its
// native API (TCP 6053, Noise encryption with the device's API key, or plaintext). The source
// keeps one session open from init on (session.ts), reconnecting with backoff, and each probe
// reports the latest state of every sensor.
import net from 'node:net';
import {
  ParamError,
  Source,
  SourceError,
  errorMessage,
  registerSecret,
  type InitContext,
  type JsonSchema,
  type PluginContext,
  type ProbeContext,
  type Sample,
  type SourceParams,
} from '../../sdk/index.js';
import { checkHost, portParam } from '../../sdk/params.js';
import { formatDelay } from '../../sdk/child.js';
import { Wakeup } from '../../sdk/wakeup.js';
import { backoffDelay } from '../../core/backoff.js';
import { apiTypes, type SensorInfo } from './api.js';
import { decodePsk } from './noise.js';
import { EspHomeSession, type DeviceInfo } from './session.js';

const schema = {
  type: 'object',
  additionalProperties: false,
  required: ['host'],
  properties: {
    host: { type: 'string', minLength: 1, description: 'Host name or IP address of the ESPHome device' },
    port: { ...portParam, default: 6053, description: "The device's native API port" },
    psk: {
      type: 'string',
      minLength: 1,
      description: "The device's API encryption key (`api: encryption: key:`, base64 of 32 bytes); without it, the plaintext protocol",
    },
    password: { type: 'string', description: 'The legacy API password of devices before ESPHome 2026.1 (newer ones ignore it)' },
    setupTimeout: { type: 'number', exclusiveMinimum: 0, default: 10, description: 'Seconds connecting, handshake and sensor list may take' },
    keepalive: {
      type: 'number',
      minimum: 1,
      default: 20,
      description: 'Seconds of silence after which the device is pinged; after 4.5 times that it is dropped',
    },
  },
} as const satisfies JsonSchema;

export type EspHomeConfig = SourceParams<typeof schema>;

const MIN_RECONNECT_MS = 1000;
const MAX_RECONNECT_MS = 60_000;
const MAX_SENSORS = 1024;
const FIRST_STATES_WAIT_MS = 2000;

interface SensorValue {
  info: SensorInfo;
  value?: number;
}

export class EspHomeSource extends Source<EspHomeConfig> {
  static override description = 'ESPHome device sensors from its native API (Noise-encrypted or plaintext)';
  static override schema = schema;

  private readonly psk: Buffer | undefined;
  private readonly where: string;
  private session: EspHomeSession | undefined;
  /** A session is being set up or runs (false while waiting to reconnect). */
  private connecting = false;
  private sensors = new Map<number, SensorValue>();
  private ready = false;
  /** Every sensor has sent its state since the session became ready. */
  private statesSeen = false;
  private firstStates = new Set<number>();
  private failures = 0;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private stopped = false;
  /** Why there is no session; cleared when one is ready. */
  private problem: string | undefined;
  private readonly arrivals = new Wakeup();

  constructor(config: EspHomeConfig, context?: PluginContext) {
    super(config, context);
    checkHost('host', config.host);
    this.where = `${config.host}:${config.port}`;
    if (config.psk !== undefined) {
      // The key's name does not say "secret", so the config loader does not register it: do it here.
      registerSecret(config.psk);
      try {
        this.psk = decodePsk(config.psk);
      } catch (err) {
        throw new ParamError('psk', errorMessage(err));
      }
    }
  }

  override init(_ctx: InitContext): void {
    this.connect();
  }

  async probe(ctx: ProbeContext): Promise<Sample[]> {
    if (this.stopped) throw new SourceError('the EspHome source is shut down');
    if (!this.connecting && !this.reconnectTimer) this.connect();
    if (!this.ready) {
      // The first session may still be on its way; a lost one waits for its backoff: fail at once.
      if (this.problem === undefined) await this.arrivals.wait(ctx, `no ESPHome session with ${this.where} within ${ctx.timeoutMs} ms`);
      if (!this.ready) throw new SourceError(`no ESPHome session with ${this.where}: ${this.problem ?? 'closed'}`);
    }
    if (!this.statesSeen && this.sensors.size > 0) {
      // The states follow the subscription: a probe just after it waits for them a little (so
      // `--once` reports values), and reports what it has if they are late.
      const signal = AbortSignal.any([ctx.signal, AbortSignal.timeout(FIRST_STATES_WAIT_MS)]);
      await this.arrivals.wait({ ...ctx, signal }, '').catch(() => {});
      this.statesSeen = true; // waited once: a sensor that never sends does not slow every probe
      if (!this.ready) throw new SourceError(`no ESPHome session with ${this.where}: ${this.problem ?? 'closed'}`);
    }
    const out: Sample[] = [];
    for (const { info, value } of this.sensors.values()) {
      if (value === undefined) continue;
      out.push({
        // As the Python pollect: named by device class, labelled by the sensor's name.
        ...(info.device_class ? { name: info.device_class } : {}),
        value,
        labels: { name: info.name || info.object_id },
        ...(info.unit_of_measurement ? { unit: info.unit_of_measurement } : {}),
      });
    }
    return out;
  }

  private connect(): void {
    if (this.stopped || this.connecting) return;
    this.connecting = true;
    this.reconnectTimer = undefined;
    apiTypes().then(
      (types) => {
        if (this.stopped) return;
        const socket = net.connect({ host: this.config.host, port: this.config.port });
        socket.setNoDelay(true);
        const session = new EspHomeSession(
          socket,
          types,
          {
            psk: this.psk,
            password: this.config.password,
            clientInfo: 'pollect',
            setupTimeoutMs: this.config.setupTimeout * 1000,
            keepaliveMs: this.config.keepalive * 1000,
            maxSensors: MAX_SENSORS,
          },
          {
            onReady: (device) => this.onReady(device),
            onState: (state) => {
              const sensor = this.sensors.get(state.key);
              if (!sensor) return;
              if (!this.statesSeen) {
                // A device sends every sensor's state on subscription: once all are in, a probe waiting for them goes on.
                this.firstStates.add(state.key);
                if (this.firstStates.size >= this.sensors.size) {
                  this.statesSeen = true;
                  this.arrivals.wake();
                }
              }
              // A sensor without a state yet (NaN on the wire) reports nothing.
              sensor.value = state.missing_state || !Number.isFinite(state.state) ? undefined : float32ToDecimal(state.state);
            },
            onClose: (reason) => this.lost(reason),
          },
        );
        this.session = session;
        session.start();
      },
      (err: unknown) => this.lost(errorMessage(err)),
    );
  }

  private onReady(device: DeviceInfo): void {
    this.sensors = new Map(device.sensors.map((info) => [info.key, { info }]));
    this.ready = true;
    this.statesSeen = false;
    this.firstStates = new Set();
    this.failures = 0;
    this.problem = undefined;
    this.context.log.debug(`${this.where}: connected to ${device.name || 'device'} (${device.serverInfo}), ${device.sensors.length} sensors`);
    this.arrivals.wake();
  }

  private lost(reason: string): void {
    this.session = undefined;
    this.connecting = false;
    this.ready = false;
    if (this.stopped) return;
    this.failures++;
    const delay = backoffDelay(this.failures, { min: MIN_RECONNECT_MS, max: MAX_RECONNECT_MS });
    this.problem = `${reason}; reconnecting in ${formatDelay(delay)}`;
    this.context.log.debug(`${this.where}: ${this.problem}`);
    this.arrivals.wake();
    this.reconnectTimer = setTimeout(() => this.connect(), delay);
  }

  override shutdown(): void {
    this.stopped = true;
    clearTimeout(this.reconnectTimer);
    this.session?.stop();
    this.session = undefined;
    this.arrivals.wake();
  }
}

/** A float32 as the shortest decimal that is the same float32: 23.4, not 23.399999618530273. */
export function float32ToDecimal(v: number): number {
  for (let digits = 1; digits <= 9; digits++) {
    const d = Number(v.toPrecision(digits));
    if (Math.fround(d) === v) return d;
  }
  return v;
}
