// Pmcc (the Python pollect's PmccSource): state of charge and charge power of a Porsche Mobile
// Charger Connect. The charger pushes JSON messages over its websocket `wss://<host>/ws` (a
// self-signed certificate); the source keeps one connection open from init on, reconnecting with
// backoff, and each probe reports the latest values.
import {
  Source,
  SourceError,
  errorMessage,
  type InitContext,
  type JsonSchema,
  type PluginContext,
  type ProbeContext,
  type Sample,
  type SourceParams,
} from '../../sdk/index.js';
import { readParamFile } from '../../sdk/params.js';
import { formatDelay } from '../../sdk/child.js';
import { Wakeup } from '../../sdk/wakeup.js';
import { backoffDelay } from '../../core/backoff.js';
import type { WebSocket } from 'ws';
import { applyPmccMessage, emptyState, type PmccState } from './parse.js';

const schema = {
  type: 'object',
  additionalProperties: false,
  required: ['host'],
  properties: {
    host: {
      type: 'string',
      minLength: 1,
      pattern: '^[^/\\s]+$',
      description: 'Host name (and port) of the charger, e.g. `iccpd-1234567`; the source connects to wss://<host>/ws',
    },
    ca: {
      type: 'string',
      minLength: 1,
      description:
        "A PEM certificate (relative to the config file) to verify the charger's certificate and name with (default: any certificate is accepted, as the charger's is self-signed)",
    },
    maxBytes: { type: 'integer', minimum: 1024, default: 1_048_576, description: 'Largest message accepted, in bytes' },
  },
} as const satisfies JsonSchema;

export type PmccConfig = SourceParams<typeof schema>;

const MIN_RECONNECT_MS = 1000;
const MAX_RECONNECT_MS = 60_000;

export class PmccSource extends Source<PmccConfig> {
  static override description = 'Porsche Mobile Charger Connect: state of charge and charge power from its websocket';
  static override schema = schema;

  private readonly url: string;
  private readonly ca: Buffer | undefined;
  /** The latest values; kept over a reconnect, since the charger pushes only what changes. */
  private readonly state: PmccState = emptyState();
  private ws: WebSocket | undefined;
  /** A connection is being made or is open (false while waiting to reconnect). */
  private connecting = false;
  private connected = false;
  private failures = 0;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private stopped = false;
  /** Why the connection is down (or the last message that was refused); cleared by a good message. */
  private problem: string | undefined;
  private readonly arrivals = new Wakeup();

  constructor(config: PmccConfig, context?: PluginContext) {
    super(config, context);
    this.url = `wss://${config.host}/ws`;
    this.ca = config.ca !== undefined ? readParamFile(this.context, 'ca', config.ca) : undefined;
  }

  override init(_ctx: InitContext): void {
    this.connect();
  }

  async probe(ctx: ProbeContext): Promise<Sample[]> {
    if (this.stopped) throw new SourceError('the Pmcc source is shut down');
    if (!this.connecting && !this.reconnectTimer) this.connect();
    if (!this.connected) {
      // The first connection may still be on its way; a lost one waits for its backoff: fail at once.
      if (this.problem === undefined) await this.arrivals.wait(ctx, `not connected to ${this.url} within ${ctx.timeoutMs} ms`);
      if (!this.connected) throw new SourceError(`not connected to ${this.url}: ${this.problem ?? 'connection closed'}`);
    }
    if (this.problem) ctx.reportProblem(this.problem);
    const s = this.state;
    return [
      { name: 'chargePower', value: s.evChargeRate, labels: { phase: 'ev' }, unit: 'kW' },
      ...s.phasePower.map((value, i) => ({ name: 'chargePower', value, labels: { phase: `l${i + 1}` }, unit: 'watts' })),
      { name: 'soc', value: s.soc, labels: { type: 'current' }, unit: 'percent' },
      { name: 'soc', value: s.startSoc, labels: { type: 'start' }, unit: 'percent' },
    ];
  }

  private connect(): void {
    if (this.stopped || this.connecting) return;
    this.connecting = true;
    this.reconnectTimer = undefined;
    // Loaded on first use: only configs with a Pmcc source pay for it.
    import('ws').then(
      ({ WebSocket }) => {
        if (this.stopped) return;
        const ws = new WebSocket(this.url, {
          maxPayload: this.config.maxBytes,
          handshakeTimeout: 10_000,
          perMessageDeflate: false,
          ...(this.ca ? { ca: this.ca } : { rejectUnauthorized: false }),
        });
        this.ws = ws;
        ws.on('open', () => {
          this.connected = true;
          this.failures = 0;
          this.problem = undefined;
          this.arrivals.wake();
        });
        ws.on('message', (data, isBinary) => this.onMessage(data as Buffer, isBinary));
        ws.on('unexpected-response', (_req, res) => this.lost(`HTTP ${res.statusCode} instead of a websocket`));
        ws.on('error', (err: Error) => this.lost(err.message.slice(0, 200)));
        ws.on('close', (code) => this.lost(`the charger closed the connection (code ${code})`));
      },
      (err: unknown) => {
        this.connecting = false;
        this.problem = errorMessage(err);
        this.arrivals.wake();
      },
    );
  }

  private onMessage(data: Buffer | Buffer[], isBinary: boolean): void {
    if (isBinary) {
      this.problem = `${this.url} sent a binary message`;
      return;
    }
    const text = Buffer.isBuffer(data) ? data.toString('utf8') : Buffer.concat(data).toString('utf8');
    try {
      applyPmccMessage(this.state, text);
      this.problem = undefined;
    } catch (err) {
      this.problem = `${this.url}: ${errorMessage(err)}`;
    }
  }

  /** The connection failed or ended: try again after a backoff. */
  private lost(reason: string): void {
    const ws = this.ws;
    if (!ws) return; // already handled (error, then close)
    this.ws = undefined;
    this.connecting = false;
    this.connected = false;
    ws.removeAllListeners();
    ws.on('error', () => {});
    ws.terminate();
    if (this.stopped) return;
    this.failures++;
    const delay = backoffDelay(this.failures, { min: MIN_RECONNECT_MS, max: MAX_RECONNECT_MS });
    this.problem = `${reason}; reconnecting in ${formatDelay(delay)}`;
    this.context.log.debug(`${this.url}: ${this.problem}`);
    this.arrivals.wake();
    this.reconnectTimer = setTimeout(() => this.connect(), delay);
  }

  override shutdown(): void {
    this.stopped = true;
    clearTimeout(this.reconnectTimer);
    const ws = this.ws;
    this.ws = undefined;
    if (ws) {
      ws.removeAllListeners();
      ws.on('error', () => {});
      ws.terminate();
    }
    this.arrivals.wake();
  }
}
