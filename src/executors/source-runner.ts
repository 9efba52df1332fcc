// One configured source inside an executor: probes it with a timeout, never twice at once,
// and backs off while it fails (collectd's read-callback behaviour: the wait doubles each
// failure up to a cap). Logs once when a source starts failing and once when it recovers.
import type { InitContext, ProbeResult, Source, SourceConfig } from '../sources/source.js';
import type { Point, SourceStatus } from '../writers/writer.js';
import type { Logger } from '../log.js';
import { errorMessage } from '../log.js';
import { sourcePrefix, toPoints, toSamples } from './samples.js';

export interface SourceRunnerOptions {
  id: string;
  collection: string;
  typeName: string;
  source: Source<SourceConfig>;
  tickTime: number;
  /** Longest backoff, seconds. */
  maxBackoff: number;
  log: Logger;
  configDir: string;
}

export class TimeoutError extends Error {}

export class SourceRunner {
  readonly id: string;
  readonly prefix: string;
  readonly source: Source<SourceConfig>;
  private readonly opts: SourceRunnerOptions;
  private readonly timeoutMs: number;
  private inFlight: Promise<ProbeResult> | undefined;
  private initialized = false;
  private consecutiveFailures = 0;
  /** Ticks to sit out before the next probe (backoff). */
  private ticksToSkip = 0;
  private errorsTotal = 0;
  private skippedTotal = 0;
  private lastError: string | undefined;
  /** The running probe's controller: aborted at its timeout or at shutdown. */
  private controller: AbortController | undefined;

  constructor(opts: SourceRunnerOptions) {
    this.opts = opts;
    this.id = opts.id;
    this.source = opts.source;
    this.prefix = sourcePrefix(opts.collection, opts.typeName, opts.source.config.name);
    this.timeoutMs = (opts.source.config.timeout ?? opts.tickTime) * 1000;
  }

  /** Whether a probe is still running (for shutdown). */
  get busy(): Promise<ProbeResult> | undefined {
    return this.inFlight;
  }

  /** Runs one tick for this source; appends its points to `out` and returns its status. */
  async tick(timestamp: number, out: Point[]): Promise<SourceStatus> {
    if (this.inFlight) {
      this.skippedTotal++;
      this.opts.log.debug(`${this.id}: still running from an earlier tick, skipped`);
      return this.status('skipped', false, 0);
    }
    if (this.ticksToSkip > 0) {
      this.ticksToSkip--;
      return this.status('backoff', false, 0);
    }
    const started = process.hrtime.bigint();
    try {
      const samples = toSamples(await this.probeWithTimeout());
      toPoints(samples, { prefix: this.prefix, staticLabels: this.source.config.labels, timestamp, source: this.id }, out);
      this.succeeded();
      return this.status('probed', true, seconds(started));
    } catch (err) {
      this.failed(err);
      return this.status('probed', false, seconds(started));
    }
  }

  private probeWithTimeout(): Promise<ProbeResult> {
    // One plain controller per probe (AbortSignal.any tied to a long-lived signal grows per tick on Node 20).
    const controller = new AbortController();
    this.controller = controller;
    const signal = controller.signal;
    const work = (async () => {
      if (!this.initialized) {
        const ctx: InitContext = { log: this.opts.log.child(this.id), tickTime: this.opts.tickTime, configDir: this.opts.configDir };
        await this.source.init(ctx);
        this.initialized = true;
      }
      return this.source.probe({ signal, timeoutMs: this.timeoutMs, tickTime: this.opts.tickTime, log: this.opts.log.child(this.id) });
    })();
    // The source stays "running" until its probe really ends, even after we stop waiting.
    const tracked = work.finally(() => {
      if (this.inFlight === tracked) this.inFlight = undefined;
    });
    this.inFlight = tracked;
    tracked.catch(() => {}); // its failure is handled below or was abandoned at the timeout
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        controller.abort();
        reject(new TimeoutError(`timed out after ${this.timeoutMs / 1000} s`));
      }, this.timeoutMs);
    });
    return Promise.race([tracked, timeout]).finally(() => clearTimeout(timer));
  }

  private succeeded(): void {
    if (this.consecutiveFailures > 0) {
      this.opts.log.info(`${this.id}: recovered after ${this.consecutiveFailures} failed probe(s)`);
    }
    this.consecutiveFailures = 0;
    this.ticksToSkip = 0;
    this.lastError = undefined;
  }

  private failed(err: unknown): void {
    const msg = errorMessage(err);
    this.errorsTotal++;
    this.consecutiveFailures++;
    this.lastError = msg;
    if (this.consecutiveFailures === 1) this.opts.log.error(`${this.id}: ${msg}`);
    else this.opts.log.debug(`${this.id}: still failing (${this.consecutiveFailures}): ${msg}`);
    // Wait 1, 2, 4, ... ticks between probes, at most maxBackoff seconds.
    const maxTicks = Math.max(1, Math.floor(this.opts.maxBackoff / this.opts.tickTime));
    const waitTicks = Math.min(2 ** (this.consecutiveFailures - 1), maxTicks);
    this.ticksToSkip = waitTicks - 1;
  }

  private status(state: SourceStatus['state'], success: boolean, durationSeconds: number): SourceStatus {
    return {
      id: this.id,
      collection: this.opts.collection,
      type: this.opts.typeName,
      name: this.source.config.name,
      state,
      success,
      durationSeconds,
      error: success ? undefined : (this.lastError ?? (state === 'skipped' ? 'previous probe still running' : undefined)),
      errorsTotal: this.errorsTotal,
      skippedTotal: this.skippedTotal,
      consecutiveFailures: this.consecutiveFailures,
    };
  }

  /** Aborts a running probe (its signal fires) and calls the source's shutdown(). */
  async shutdown(graceMs: number): Promise<void> {
    if (this.inFlight) {
      await Promise.race([this.inFlight.catch(() => {}), new Promise((r) => setTimeout(r, graceMs).unref())]);
    }
    this.controller?.abort();
    try {
      await this.source.shutdown();
    } catch (err) {
      this.opts.log.warn(`${this.id}: shutdown failed: ${errorMessage(err)}`);
    }
  }
}

function seconds(start: bigint): number {
  return Number(process.hrtime.bigint() - start) / 1e9;
}
