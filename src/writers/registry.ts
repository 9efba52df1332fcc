// Every built-in writer, by type name, imported only when a config names it.
// Adding a writer: one folder (src/writers/<folder>/) and one line here.
import type { AnyWriterClass } from '../sdk/index.js';

export const writerRegistry: Record<string, () => Promise<AnyWriterClass>> = {
  Prometheus: () => import('./prometheus/index.js').then((m) => m.PrometheusWriter),
  PrometheusSsl: () => import('./prometheusssl/index.js').then((m) => m.PrometheusSslWriter),
  Graphite: () => import('./graphite/index.js').then((m) => m.GraphiteWriter),
  File: () => import('./file/index.js').then((m) => m.FileWriter),
  Influx: () => import('./influx/index.js').then((m) => m.InfluxWriter),
  PrometheusRemoteWrite: () => import('./remote-write/index.js').then((m) => m.RemoteWriteWriter),
  Otel: () => import('./otel/index.js').then((m) => m.OtelWriter),
  Mqtt: () => import('./mqtt/index.js').then((m) => m.MqttWriter),
  Alertmanager: () => import('./alertmanager/index.js').then((m) => m.AlertmanagerWriter),
  Webhook: () => import('./webhook/index.js').then((m) => m.WebhookWriter),
  NotificationExec: () => import('./notification-exec/index.js').then((m) => m.NotificationExecWriter),
  DryRun: () => import('./dryrun/index.js').then((m) => m.DryRunWriter),
};
