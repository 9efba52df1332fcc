// pollect's own metrics, as a source every writer receives: how each source and writer fares, and
// the process's CPU, memory and event-loop lag. Everything is read when the tick comes; nothing
// wakes the process in between (the lag is the executors' own timer lateness).
import { readdirSync, statSync } from 'node:fs';
import { Source, type Sample, type SeriesName, type SourceStatus, type WriterStats } from '../sdk/index.js';

/** What the daemon shows the self-metrics source. */
export interface SelfState {
  sources(): SourceStatus[];
  writers(): WriterStats[];
  /** The largest lateness of the executors' timers at their last tick, ms. */
  lagMs(): number;
  /** How the last config reload went (the config loaded at start counts as one). */
  reload?(): { successful: boolean; timestampSeconds: number };
}

const START_TIME_SECONDS = Math.round(Date.now() / 1000 - process.uptime());

/**
 * The self-metrics' sample names are full series names: `<collection>.<group>.<value>`, so that
 * they keep the names Prometheus users know (`pollect_source_success`, `process_cpu_seconds_total`).
 */
export function selfSeriesName(sampleName: string): SeriesName {
  const [collection = '', source = '', ...rest] = sampleName.split('.');
  return { collection, source, value: rest.join('.'), id: sampleName };
}

export class SelfMetricsSource extends Source {
  static override description = "pollect's own metrics: sources, writers and the process";
  private readonly state: SelfState;
  /** Each source's last probe duration: a tick skipped or in backoff ran no probe, so it keeps that figure. */
  private readonly durations = new Map<string, number>();

  constructor(state: SelfState) {
    super({ type: 'Self' });
    this.state = state;
  }

  probe(): Sample[] {
    const out: Sample[] = [];
    for (const s of this.state.sources()) {
      const labels = { collection: s.collection, source: s.id, type: s.type };
      if (s.state === 'probed') this.durations.set(s.id, s.durationSeconds);
      out.push(
        {
          name: 'pollect.source.duration_seconds',
          value: this.durations.get(s.id) ?? 0,
          labels,
          unit: 'seconds',
          help: 'Duration of the last probe of the source.',
        },
        { name: 'pollect.source.success', value: s.success ? 1 : 0, labels, help: '1 when the last probe of the source succeeded, else 0.' },
        { name: 'pollect.source.errors_total', value: s.errorsTotal, labels, type: 'counter', help: 'Failed probes of the source.' },
        {
          name: 'pollect.ticks.skipped_total',
          value: s.skippedTotal,
          labels,
          type: 'counter',
          help: 'Ticks the source was not probed because its previous probe still ran.',
        },
        {
          name: 'pollect.source.samples_rejected_total',
          value: s.rejectedTotal,
          labels,
          type: 'counter',
          help: 'Samples the core left out because they were malformed.',
        },
        { name: 'pollect.source.consecutive_failures', value: s.consecutiveFailures, labels, help: 'Failed probes of the source in a row.' },
      );
    }
    for (const w of this.state.writers()) {
      const labels = { writer: w.writer };
      out.push(
        { name: 'pollect.writer.queue_length', value: w.queueLength, labels, help: 'Points waiting for the writer.' },
        { name: 'pollect.writer.written_total', value: w.written, labels, type: 'counter', help: 'Points the writer wrote.' },
        { name: 'pollect.writer.dropped_total', value: w.dropped, labels, type: 'counter', help: 'Points the writer dropped.' },
        { name: 'pollect.writer.errors_total', value: w.errors, labels, type: 'counter', help: 'Failed writes of the writer.' },
      );
      if (w.notifications)
        out.push(
          { name: 'pollect.writer.notifications_sent_total', value: w.notifications.sent, labels, type: 'counter', help: 'Notifications the writer took.' },
          {
            name: 'pollect.writer.notifications_dropped_total',
            value: w.notifications.dropped,
            labels,
            type: 'counter',
            help: 'Notifications lost: the queue was full, or pollect stopped before the writer took them.',
          },
        );
    }
    const cpu = process.cpuUsage();
    const mem = process.memoryUsage();
    out.push(
      {
        name: 'process.cpu.seconds_total',
        value: (cpu.user + cpu.system) / 1e6,
        type: 'counter',
        unit: 'seconds',
        help: 'User and system CPU time spent, in seconds.',
      },
      { name: 'process.resident_memory.bytes', value: mem.rss, unit: 'bytes', help: 'Resident memory size in bytes.' },
      { name: 'process.start_time.seconds', value: START_TIME_SECONDS, unit: 'seconds', help: 'Start time of the process since the Unix epoch, in seconds.' },
      { name: 'nodejs.heap_size.total_bytes', value: mem.heapTotal, unit: 'bytes', help: 'Size of the JavaScript heap, in bytes.' },
      { name: 'nodejs.heap_size.used_bytes', value: mem.heapUsed, unit: 'bytes', help: 'Used size of the JavaScript heap, in bytes.' },
      {
        name: 'nodejs.eventloop.lag_seconds',
        value: this.state.lagMs() / 1000,
        unit: 'seconds',
        help: "How late the executors' timers fired at their last tick, in seconds.",
      },
    );
    const reload = this.state.reload?.();
    if (reload) {
      // Prometheus's own names for these (prometheus_config_last_reload_successful ...).
      out.push(
        {
          name: 'pollect.config.last_reload_successful',
          value: reload.successful ? 1 : 0,
          help: 'Whether the last configuration reload attempt was successful.',
        },
        {
          name: 'pollect.config.last_reload_success_timestamp_seconds',
          value: reload.timestampSeconds,
          unit: 'seconds',
          help: 'Timestamp of the last successful configuration reload.',
        },
      );
    }
    const fds = openFds();
    if (fds !== undefined) out.push({ name: 'process.open.fds', value: fds, help: 'Open file descriptors.' });
    return out;
  }
}

/**
 * The size of /proc/self/fd is the number of open descriptors (Linux 6.2+): a stat costs a
 * quarter of listing it, cold, at each tick. Older kernels say 0 there, and are counted by listing
 * (less the listing's own descriptor).
 */
function openFds(): number | undefined {
  try {
    return statSync('/proc/self/fd').size || readdirSync('/proc/self/fd').length - 1;
  } catch {
    return undefined;
  }
}
