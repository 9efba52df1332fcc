// Pmcc (the Python pollect's PmccSource): state of charge and charge power of a Porsche Mobile
// Charger Connect. The charger pushes JSON messages over its websocket `wss://<host>/ws` (a
// self-signed certificate); the source keeps one connection open from init on, reconnecting with
// backoff, and each probe reports the latest values.
import {
  Source,
  errorMessage,
  type InitContext,
  type JsonSchema,
  type PluginContext,
  type ProbeContext,
  type Sample,
  type SourceParams,
} from '../../sdk/index.js';
import { readParamFile, maxBytesParam } from '../../sdk/params.js';
import { Reconnect } from '../../sdk/reconnect.js';
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
    maxBytes: maxBytesParam(1_048_576, 'Largest message accepted, in bytes'),
  },
} as const satisfies JsonSchema;

export type PmccConfig = SourceParams<typeof schema>;

export class PmccSource extends Source<PmccConfig> {
  static override description = 'Porsche Mobile Charger Connect: state of charge and charge power from its websocket';
  static override schema = schema;

  private readonly url: string;
  private readonly ca: Buffer | undefined;
  /** The latest values; kept over a reconnect, since the charger pushes only what changes. */
  private readonly state: PmccState = emptyState();
  private ws: WebSocket | undefined;
  private readonly link: Reconnect;

  constructor(config: PmccConfig, context?: PluginContext) {
    super(config, context);
    this.url = `wss://${config.host}/ws`;
    this.ca = config.ca !== undefined ? readParamFile(this.context, 'ca', config.ca) : undefined;
    this.link = new Reconnect({ peer: this.url, log: this.context.log, open: () => this.connect() });
  }

  override init(_ctx: InitContext): void {
    this.link.start();
  }

  async probe(ctx: ProbeContext): Promise<Sample[]> {
    await this.link.ready(ctx);
    if (this.link.problem) ctx.reportProblem(this.link.problem);
    const s = this.state;
    return [
      { name: 'chargePower', value: s.evChargeRate, labels: { phase: 'ev' }, unit: 'kW' },
      ...s.phasePower.map((value, i) => ({ name: 'chargePower', value, labels: { phase: `l${i + 1}` }, unit: 'watts' })),
      { name: 'soc', value: s.soc, labels: { type: 'current' }, unit: 'percent' },
      { name: 'soc', value: s.startSoc, labels: { type: 'start' }, unit: 'percent' },
    ];
  }

  private async connect(): Promise<void> {
    // Loaded on first use: only configs with a Pmcc source pay for it.
    const { WebSocket } = await import('ws');
    if (this.link.stopped) return;
    const ws = new WebSocket(this.url, {
      maxPayload: this.config.maxBytes,
      handshakeTimeout: 10_000,
      perMessageDeflate: false,
      ...(this.ca ? { ca: this.ca } : { rejectUnauthorized: false }),
    });
    this.ws = ws;
    ws.on('open', () => this.link.up());
    ws.on('message', (data, isBinary) => this.onMessage(data as Buffer, isBinary));
    ws.on('unexpected-response', (_req, res) => this.lost(`HTTP ${res.statusCode} instead of a websocket`));
    ws.on('error', (err: Error) => this.lost(err.message.slice(0, 200)));
    ws.on('close', (code) => this.lost(`the charger closed the connection (code ${code})`));
  }

  private onMessage(data: Buffer | Buffer[], isBinary: boolean): void {
    if (isBinary) {
      this.link.problem = `${this.url} sent a binary message`;
      return;
    }
    const text = Buffer.isBuffer(data) ? data.toString('utf8') : Buffer.concat(data).toString('utf8');
    try {
      applyPmccMessage(this.state, text);
      this.link.problem = undefined;
    } catch (err) {
      this.link.problem = `${this.url}: ${errorMessage(err)}`;
    }
  }

  /** The connection failed or ended: the link opens it again after a backoff. */
  private lost(reason: string): void {
    const ws = this.ws;
    if (!ws) return; // already handled (error, then close)
    this.ws = undefined;
    ws.removeAllListeners();
    ws.on('error', () => {});
    ws.terminate();
    this.link.lost(reason);
  }

  override shutdown(): void {
    this.link.stop();
    const ws = this.ws;
    this.ws = undefined;
    if (ws) {
      ws.removeAllListeners();
      ws.on('error', () => {});
      ws.terminate();
    }
  }
}
