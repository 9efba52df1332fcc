// Openhab (the Python pollect's OpenhabSource): the numeric and switch states of all openHAB items,
// from its REST API (`GET <url>/rest/items`).
import { Source, SourceError, type JsonSchema, type PluginContext, type ProbeContext, type Sample, type SourceParams } from '../../sdk/index.js';
import { checkUrl, maxBytesParam } from '../../sdk/params.js';
import { httpJson, safeUrl } from '../../sdk/http.js';
import { parseOpenhabItems } from './parse.js';

const schema = {
  type: 'object',
  additionalProperties: false,
  required: ['url'],
  properties: {
    url: { type: 'string', minLength: 1, description: 'Base URL of openHAB, e.g. http://localhost:8080' },
    token: {
      type: 'string',
      minLength: 1,
      description: 'An openHAB API token, sent as a bearer token (needed when openHAB refuses anonymous REST access)',
    },
    maxBytes: maxBytesParam(16 * 1024 * 1024, 'Largest response accepted, in bytes'),
  },
} as const satisfies JsonSchema;

export type OpenhabConfig = SourceParams<typeof schema>;

export class OpenhabSource extends Source<OpenhabConfig> {
  static override description = 'openHAB item states (numbers and switches) from its REST API';
  static override schema = schema;

  private readonly itemsUrl: string;

  constructor(config: OpenhabConfig, context?: PluginContext) {
    super(config, context);
    checkUrl('url', config.url, ['http:', 'https:']);
    this.itemsUrl = `${config.url.replace(/\/+$/, '')}/rest/items`;
  }

  async probe(ctx: ProbeContext): Promise<Sample[]> {
    const where = `GET ${safeUrl(this.itemsUrl)}`;
    const headers: Record<string, string> = { accept: 'application/json' };
    if (this.config.token !== undefined) headers.authorization = `Bearer ${this.config.token}`;
    const items = await httpJson({ url: this.itemsUrl, headers, timeoutMs: ctx.timeoutMs, signal: ctx.signal, maxBytes: this.config.maxBytes });
    try {
      return parseOpenhabItems(items);
    } catch (err) {
      if (err instanceof SourceError) throw err;
      throw new SourceError(`${where}: ${(err as Error).message}`);
    }
  }
}
