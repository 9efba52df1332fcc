// Notifications as Alertmanager alerts: which alert a notification fires or resolves. One alert
// per identity (host, plugin, plugin instance, type, type instance); a warning or failure fires
// it, an okay resolves it. Severity is a label, so a change from warning to failure is another
// alert in Alertmanager's eyes: the old one is resolved as the new one fires.
import type { Notification } from '../../sdk/index.js';

/** An alert as POST /api/v2/alerts takes it. */
export interface Alert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
  endsAt: string;
  generatorURL?: string;
}

export interface AlertOptions {
  /** Labels added to every alert (the configured `labels`); `alertname` here replaces the default. */
  labels: Record<string, string>;
  generatorURL?: string;
}

/** A label or annotation name Alertmanager accepts. */
export const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** The labels the writer sets itself, which the configured `labels` may not. */
export const OWN_LABELS = ['severity', 'host', 'plugin', 'plugin_instance', 'type', 'type_instance'];

interface Firing {
  alert: Alert;
  severity: string;
}

export class AlertState {
  private readonly firing = new Map<string, Firing>();

  constructor(private readonly opts: AlertOptions) {}

  /** Alerts firing now. */
  get size(): number {
    return this.firing.size;
  }

  /**
   * Applies one notification and returns the alerts to send for it. `validUntil` is the endsAt of
   * a firing alert (it resolves by itself if pollect stops re-sending it); `now` that of a resolved one.
   */
  apply(n: Notification, now: number, validUntil: number): Alert[] {
    const key = JSON.stringify([n.host, n.plugin, n.pluginInstance, n.type, n.typeInstance]);
    const old = this.firing.get(key);
    const out: Alert[] = [];
    if (n.severity === 'okay') {
      if (old) out.push(ended(old.alert, now));
      // pollect restarted since it fired (or never saw it): resolve either severity it could have had.
      else for (const severity of ['warning', 'failure']) out.push(ended(this.alert({ ...n, severity: severity as 'warning' }, n.time), now));
      this.firing.delete(key);
      return out;
    }
    if (old && old.severity !== n.severity) out.push(ended(old.alert, now));
    const startsAt = old && old.severity === n.severity ? Date.parse(old.alert.startsAt) : n.time;
    const alert = { ...this.alert(n, startsAt), endsAt: iso(validUntil) };
    this.firing.set(key, { alert, severity: n.severity });
    out.push(alert);
    return out;
  }

  /**
   * Every firing alert, now valid until `validUntil`: what a re-send posts. The alerts are updated
   * in place, so an alert apply() returned earlier and sent again (a retry) is up to date too.
   */
  active(validUntil: number): Alert[] {
    const out: Alert[] = [];
    for (const f of this.firing.values()) {
      f.alert.endsAt = iso(validUntil);
      out.push(f.alert);
    }
    return out;
  }

  private alert(n: Notification, startsAt: number): Alert {
    const labels: Record<string, string> = { alertname: n.type ? `${n.plugin}_${n.type}` : n.plugin, ...this.opts.labels, severity: n.severity };
    const own: [string, string | undefined][] = [
      ['host', n.host],
      ['plugin', n.plugin],
      ['plugin_instance', n.pluginInstance],
      ['type', n.type],
      ['type_instance', n.typeInstance],
    ];
    // An empty label is no label to Alertmanager (and Prometheus): leave it out.
    for (const [k, v] of own) if (v) labels[k] = v;
    const annotations: Record<string, string> = {};
    for (const [k, v] of Object.entries(n.meta ?? {})) annotations[annotationName(k)] = String(v);
    annotations.summary = n.message;
    annotations.description = n.message;
    annotations.source = n.source;
    const alert: Alert = { labels, annotations, startsAt: iso(startsAt), endsAt: '' };
    if (this.opts.generatorURL) alert.generatorURL = this.opts.generatorURL;
    return alert;
  }
}

function ended(a: Alert, now: number): Alert {
  // endsAt before startsAt is refused by Alertmanager; a notification stamped later than our clock says resolves at its start.
  return { ...a, endsAt: iso(Math.max(now, Date.parse(a.startsAt))) };
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

/** A meta key as an annotation name: Alertmanager refuses the whole alert for a name like `data-source`. */
export function annotationName(key: string): string {
  const name = key.replace(/[^a-zA-Z0-9_]/g, '_');
  return /^[0-9]/.test(name) || name === '' ? `_${name}` : name;
}
