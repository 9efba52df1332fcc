// Webhook: notifications as JSON, POSTed to a URL, one request per list the core hands over.
// Samples are not taken: write() ignores them.
import {
  Writer,
  type Batch,
  type JsonSchema,
  type Logger,
  type Notification,
  type PluginContext,
  type WriterContext,
  type WriterParams,
} from '../../sdk/index.js';
import { HttpPush, httpPushKeys } from '../http-push.js';

const { diskQueue: _diskQueue, ...pushKeys } = httpPushKeys;

const schema = {
  type: 'object',
  properties: {
    ...pushKeys,
    url: { type: 'string', minLength: 1, description: 'The URL notifications are POSTed to (http:// or https://)' },
  },
  required: ['url'],
} as const satisfies JsonSchema;

export type WebhookConfig = WriterParams<typeof schema>;

/** One notification in the request body: collectd's fields, snake_case as collectd names them, time in ISO 8601. */
export interface WebhookNotification {
  time: string;
  severity: Notification['severity'];
  host: string;
  plugin: string;
  plugin_instance?: string;
  type?: string;
  type_instance?: string;
  message: string;
  meta?: Record<string, string | number | boolean>;
  source: string;
}

/** The request body. */
export function webhookBody(list: readonly Notification[]): { notifications: WebhookNotification[] } {
  return {
    notifications: list.map((n) => ({
      time: new Date(n.time).toISOString(),
      severity: n.severity,
      host: n.host,
      plugin: n.plugin,
      plugin_instance: n.pluginInstance,
      type: n.type,
      type_instance: n.typeInstance,
      message: n.message,
      meta: n.meta,
      source: n.source,
    })),
  };
}

export class WebhookWriter extends Writer<WebhookConfig> {
  static override description = 'POSTs notifications as JSON to a URL (takes no samples)';
  static override schema = schema;

  private readonly http: HttpPush;
  private log: Logger;

  constructor(config: WebhookConfig, context?: PluginContext) {
    super(config, context);
    this.log = this.context.log;
    this.http = new HttpPush(config, this.context, config.url);
  }

  override start(ctx: WriterContext): void {
    this.log = ctx.log;
  }

  /** Samples are not for this writer: the core never hands it any. */
  override takesSamples = false;

  write(_batch: Batch): void {}

  /**
   * POSTs the list. Throws (the core retries) when the URL cannot be reached, passes `timeout`, or
   * answers 429 or 5xx; any other non-2xx answer refuses the notifications for good: logged, dropped.
   */
  override async notify(list: readonly Notification[]): Promise<void> {
    if (list.length === 0) return;
    const res = await this.http.post(JSON.stringify(webhookBody(list)), { 'Content-Type': 'application/json' });
    if (!res.taken) this.log.warn(`writer ${this.id}: ${this.http.target} refused ${list.length} notification(s): ${res.message}; dropped`);
  }

  override stop(): void {
    this.http.close();
  }
}
