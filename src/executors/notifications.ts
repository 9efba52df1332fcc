// Routes one tick's notifications (from sources' ctx.notify and the threshold checks): each is
// logged once, by the core, at its severity, and handed to every writer of the executor that takes
// notifications (its runtime queues and retries them).
import type { Logger, Notification } from '../sdk/index.js';
import { notificationSubject } from '../core/format.js';
import type { WriterRuntime } from './writer-runtime.js';

export function routeNotifications(list: readonly Notification[], writers: readonly WriterRuntime[], log: Logger | undefined): void {
  if (list.length === 0) return;
  for (const n of list) logNotification(n, log);
  for (const w of writers) w.addNotifications(list);
}

/** failure → error, warning → warn, okay → info. */
function logNotification(n: Notification, log: Logger | undefined): void {
  if (!log) return;
  const text = `notification ${n.severity.toUpperCase()} ${notificationSubject(n)}: ${n.message}`;
  if (n.severity === 'failure') log.error(text);
  else if (n.severity === 'warning') log.warn(text);
  else log.info(text);
}
