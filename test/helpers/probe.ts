// Runs a source the way an executor does, once, and returns its samples.
import type { Naming, NotificationInput, Sample, Source, SourceConfig } from '../../src/sdk/index.js';
import { toSamples } from '../../src/executors/samples.js';
import { createLogger } from '../../src/log.js';

export const quietLog = createLogger('test', { level: 'error', write: () => {} });

export interface ProbeOptions {
  timeoutMs?: number;
  tickTime?: number;
  signal?: AbortSignal;
  /** Receives what the source reports through ctx.reportProblem(). */
  problems?: string[];
  /**
   * The samples a writer with this naming gets (Sample.naming; default `pollect`, the names pollect
   * has always had), or `all` of them.
   */
  naming?: Naming | 'all';
  /** Receives what the source emits through ctx.notify(). */
  notifications?: NotificationInput[];
}

export async function probeOnce(source: Source<SourceConfig>, opts: ProbeOptions = {}): Promise<Sample[]> {
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const signal = opts.signal ?? AbortSignal.timeout(timeoutMs);
  const problems = opts.problems ?? [];
  const naming = opts.naming ?? 'pollect';
  const result = await source.probe({
    signal,
    timeoutMs,
    tickTime: opts.tickTime ?? 10,
    log: quietLog,
    reportProblem: (message) => void problems.push(message),
    notify: (n) => void opts.notifications?.push(n),
    wants: (n) => naming === 'all' || n === naming,
  });
  const samples = toSamples(result);
  return naming === 'all' ? samples : samples.filter((s) => s.naming === undefined || s.naming === naming);
}

export async function initSource(source: Source<SourceConfig>, configDir = process.cwd(), tickTime = 10, signal = AbortSignal.timeout(10_000)): Promise<void> {
  await source.init({ log: quietLog, tickTime, configDir, signal });
}

/** The value of the one sample that matches name and labels; throws when none or several match. */
export function valueOf(samples: readonly Sample[], name: string | undefined, labels: Record<string, string> = {}): number {
  const hits = samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels?.[k] === v));
  if (hits.length !== 1) {
    throw new Error(`expected one sample ${name} ${JSON.stringify(labels)}, found ${hits.length}`);
  }
  return hits[0]!.value;
}
