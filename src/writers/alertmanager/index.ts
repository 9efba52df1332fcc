// Alertmanager: notifications (a threshold's warning and failure, its okay) as Prometheus
// Alertmanager alerts, POSTed to /api/v2/alerts of every configured Alertmanager, as Prometheus
// does; firing alerts are sent again every resendInterval, since Alertmanager resolves an alert
// it has not heard of by its endsAt. Samples are not taken: write() ignores them.
import {
  errorMessage,
  ParamError,
  Writer,
  type Batch,
  type JsonSchema,
  type Logger,
  type Notification,
  type PluginContext,
  type WriterContext,
  type WriterParams,
} from '../../sdk/index.js';
import { systemClock, type Clock, type ClockTimer } from '../../core/clock.js';
import { HttpPush, httpPushKeys } from '../http-push.js';
import { AlertState, LABEL_NAME, OWN_LABELS, type Alert } from './alerts.js';

const { url: _url, diskQueue: _diskQueue, ...pushKeys } = httpPushKeys;

const schema = {
  type: 'object',
  properties: {
    url: {
      description:
        'Alertmanager base URL, e.g. http://localhost:9093 (`/api/v2/alerts` is added), or a list: every alert goes to each, as Prometheus sends them',
      oneOf: [
        { type: 'string', minLength: 1 },
        { type: 'array', minItems: 1, items: { type: 'string', minLength: 1 } },
      ],
    },
    ...pushKeys,
    labels: {
      type: 'object',
      additionalProperties: { type: 'string' },
      description: 'Labels added to every alert (`alertname` replaces the default `<plugin>_<type>`)',
    },
    generatorURL: { type: 'string', minLength: 1, description: "Each alert's generatorURL: a link back, e.g. to this host's dashboard" },
    resendInterval: {
      type: 'number',
      exclusiveMinimum: 0,
      default: 60,
      description: 'Seconds between re-sends of the firing alerts; an alert is valid for 4 of these, so one pollect stopped resolves by itself',
    },
  },
  required: ['url'],
} as const satisfies JsonSchema;

export type AlertmanagerConfig = WriterParams<typeof schema>;

export class AlertmanagerWriter extends Writer<AlertmanagerConfig> {
  static override description = 'Sends notifications to Prometheus Alertmanager as alerts, firing and resolved (takes no samples)';
  static override schema = schema;

  /** Time for endsAt and the re-send timer; tests replace it before start(). */
  clock: Clock = systemClock;
  private readonly targets: HttpPush[];
  private readonly state: AlertState;
  private log: Logger;
  /** Targets whose last request failed, so a failure is logged once and its recovery once. */
  private readonly failing = new Set<HttpPush>();
  /** The status each target last refused alerts with, so the re-sends do not log a refusal (a 401) every time. */
  private readonly refused = new Map<HttpPush, number>();
  private timer: ClockTimer | undefined;
  private resending: Promise<void> | undefined;
  /** The alerts each notification gave: when the core retries it, they are sent again rather than applied twice. */
  private readonly applied = new WeakMap<Notification, Alert[]>();

  constructor(config: AlertmanagerConfig, context?: PluginContext) {
    super(config, context);
    this.log = this.context.log;
    const urls = typeof config.url === 'string' ? [config.url] : config.url;
    this.targets = urls.map((u, i) => {
      const param = typeof config.url === 'string' ? 'url' : `url.${i}`;
      const push = new HttpPush({ ...config, url: u }, this.context, u.endsWith('/') ? u : `${u}/`, { urlParam: param });
      // Relative to the base, so that a path prefix (a proxy's /alertmanager/) is kept.
      push.url = new URL('api/v2/alerts', push.url);
      return push;
    });
    for (const k of Object.keys(config.labels ?? {})) {
      if (!LABEL_NAME.test(k)) throw new ParamError(`labels.${k}`, 'not a label name Alertmanager accepts ([a-zA-Z_][a-zA-Z0-9_]*)');
      if (OWN_LABELS.includes(k)) throw new ParamError(`labels.${k}`, `the writer sets ${k} from each notification`);
    }
    this.state = new AlertState({ labels: config.labels ?? {}, generatorURL: config.generatorURL });
  }

  override start(ctx: WriterContext): void {
    this.log = ctx.log;
    this.schedule();
  }

  /** Samples are not for this writer: the core never hands it any. */
  override takesSamples = false;

  write(_batch: Batch): void {}

  /**
   * Sends the alerts these notifications fire or resolve, in one request to each Alertmanager.
   * Resolves when one took them (Alertmanagers in a cluster share alerts); throws, for the core to
   * retry, when none could be reached or all answered 429/5xx.
   */
  override async notify(list: readonly Notification[]): Promise<void> {
    const now = this.clock.now();
    const alerts: Alert[] = [];
    for (const n of list) {
      let out = this.applied.get(n);
      if (!out) this.applied.set(n, (out = this.state.apply(n, now, this.validUntil(now))));
      alerts.push(...out);
    }
    if (alerts.length === 0) return;
    // A retry comes later: the firing alerts it sends again get a fresh endsAt (a past one would resolve them).
    this.state.active(this.validUntil(now));
    await this.send(alerts);
  }

  override async stop(): Promise<void> {
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    await this.resending;
    for (const t of this.targets) t.close();
  }

  private validUntil(now: number): number {
    return now + 4 * this.config.resendInterval * 1000;
  }

  private schedule(): void {
    this.timer = this.clock.setTimeout(() => {
      // Every firing alert again; a failure is logged (per Alertmanager, once) and left to the next re-send.
      if (!this.resending && this.state.size > 0) {
        this.resending = this.send(this.state.active(this.validUntil(this.clock.now())))
          .catch(() => {})
          .finally(() => (this.resending = undefined));
      }
      this.schedule();
    }, this.config.resendInterval * 1000);
  }

  private async send(alerts: Alert[]): Promise<void> {
    const body = JSON.stringify(alerts);
    const results = await Promise.allSettled(this.targets.map((t) => t.post(body, { 'Content-Type': 'application/json' })));
    let taken = false;
    const errors: string[] = [];
    results.forEach((r, i) => {
      const target = this.targets[i]!;
      if (r.status === 'rejected') {
        errors.push(errorMessage(r.reason));
        if (!this.failing.has(target)) this.log.warn(`writer ${this.id}: ${errorMessage(r.reason)}`);
        this.failing.add(target);
        return;
      }
      if (this.failing.delete(target)) this.log.info(`writer ${this.id}: ${target.target} takes alerts again`);
      if (r.value.taken) {
        taken = true;
        this.refused.delete(target);
      } else if (this.refused.get(target) !== r.value.status) {
        // Alertmanager keeps the valid alerts of a request and refuses the rest with 400: nothing a retry would change.
        this.refused.set(target, r.value.status);
        this.log.warn(`writer ${this.id}: ${target.target} refused ${alerts.length} alert(s): ${r.value.message}`);
      }
    });
    if (!taken && errors.length > 0) throw new Error(errors.join('; '));
  }
}
