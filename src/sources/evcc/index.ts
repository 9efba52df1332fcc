// Evcc (the Python pollect's EvccSource): the values evcc's web UI shows. Each probe opens evcc's
// websocket `ws://<host>/ws`, takes the first message (evcc sends its whole state on connect) and
// closes, as the Python pollect did.
import { Source, SourceError, type JsonSchema, type ProbeContext, type Sample, type SourceParams } from '../../sdk/index.js';
import { maxBytesParam } from '../../sdk/params.js';
import { parseEvccState } from './parse.js';

const schema = {
  type: 'object',
  additionalProperties: false,
  required: ['host'],
  properties: {
    host: {
      type: 'string',
      minLength: 1,
      pattern: '^[^/\\s]+$',
      description: 'Host and port of the evcc instance (`localhost:7070`); the source connects to ws://<host>/ws',
    },
    maxBytes: maxBytesParam(4_194_304, 'Largest state message accepted, in bytes'),
  },
} as const satisfies JsonSchema;

export type EvccConfig = SourceParams<typeof schema>;

export class EvccSource extends Source<EvccConfig> {
  static override description = "evcc's values (loadpoints, grid, PV, battery) from its websocket";
  static override schema = schema;

  async probe(ctx: ProbeContext): Promise<Sample[]> {
    const text = await firstMessage(`ws://${this.config.host}/ws`, this.config.maxBytes, ctx);
    let state: unknown;
    try {
      state = JSON.parse(text);
    } catch {
      throw new SourceError(`evcc at ${this.config.host} sent a message that is not JSON`);
    }
    try {
      return parseEvccState(state);
    } catch (err) {
      throw new SourceError(`evcc at ${this.config.host}: ${(err as Error).message}`);
    }
  }
}

/** The first text message of a websocket, bounded by the probe's signal and `maxBytes`. */
async function firstMessage(url: string, maxBytes: number, ctx: ProbeContext): Promise<string> {
  // Loaded on first use: only configs with an Evcc source pay for it.
  const { WebSocket } = await import('ws');
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { maxPayload: maxBytes, handshakeTimeout: ctx.timeoutMs, perMessageDeflate: false });
    let settled = false;
    const finish = (err: Error | undefined, text?: string): void => {
      if (settled) return;
      settled = true;
      ctx.signal.removeEventListener('abort', onAbort);
      ws.removeAllListeners();
      ws.on('error', () => {}); // a late error after terminate() is no one's business
      ws.terminate();
      if (err) reject(err);
      else resolve(text!);
    };
    const onAbort = (): void => finish(new SourceError(`no state message from ${url} within ${ctx.timeoutMs} ms`));
    if (ctx.signal.aborted) return onAbort();
    ctx.signal.addEventListener('abort', onAbort, { once: true });
    ws.on('message', (data, isBinary) => {
      if (isBinary) return finish(new SourceError(`${url} sent a binary message, not an evcc state`));
      finish(undefined, Buffer.isBuffer(data) ? data.toString('utf8') : Buffer.concat(data as Buffer[]).toString('utf8'));
    });
    ws.on('unexpected-response', (_req, res) => finish(new SourceError(`${url}: HTTP ${res.statusCode} instead of a websocket`)));
    ws.on('error', (err: Error) => finish(new SourceError(`${url}: ${err.message.slice(0, 200)}`)));
    ws.on('close', (code) => finish(new SourceError(`${url} closed the connection (code ${code}) before sending its state`)));
  });
}
