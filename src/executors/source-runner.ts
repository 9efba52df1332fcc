// One configured source inside an executor: probes it with a timeout, never twice at once,
// and backs off while it fails (collectd's read-callback behaviour: the wait doubles each
// failure up to a cap). Logs once when a source starts failing and once when it recovers.
import type { InitContext, ProbeContext, ProbeResult, Source, SourceConfig } from '../sources/source.js';
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
  /** The last probe's context: its signal is aborted at the probe's timeout or at shutdown. */
  private context: RunContext | undefined;
  private readonly log: Logger;
  /** Metric names of this source's samples, built once (see toPoints). */
  private readonly names = new Map<string, string>();

  constructor(opts: SourceRunnerOptions) {
    this.opts = opts;
    this.id = opts.id;
    this.source = opts.source;
    this.prefix = sourcePrefix(opts.collection, opts.typeName, opts.source.config.name);
    this.timeoutMs = (opts.source.config.timeout ?? opts.tickTime) * 1000;
    this.log = opts.log.child(opts.id);
  }

  /** Whether a probe is still running (for shutdown). */
  get busy(): Promise<ProbeResult> | undefined {
    return this.inFlight;
  }

  /**
   * Runs one tick for this source; appends its points to `out` and returns its status, at once
   * when the probe answered synchronously (no promise per source per tick).
   */
  tick(timestamp: number, out: Point[]): SourceStatus | Promise<SourceStatus> {
    if (this.inFlight) {
      this.skippedTotal++;
      this.opts.log.debug(`${this.id}: still running from an earlier tick, skipped`);
      return this.status('skipped', false, 0);
    }
    if (this.ticksToSkip > 0) {
      this.ticksToSkip--;
      return this.status('backoff', false, 0);
    }
    const started = performance.now();
    let result: ProbeResult | Promise<ProbeResult>;
    try {
      result = this.probeOnce();
    } catch (err) {
      return this.failure(err, started);
    }
    if (isThenable(result)) {
      return Promise.resolve(result).then(
        (r) => this.success(r, timestamp, out, started),
        (err: unknown) => this.failure(err, started),
      );
    }
    return this.success(result, timestamp, out, started);
  }

  private success(result: ProbeResult, timestamp: number, out: Point[], started: number): SourceStatus {
    try {
      const samples = toSamples(result);
      toPoints(samples, { prefix: this.prefix, staticLabels: this.source.config.labels, timestamp, source: this.id, names: this.names }, out);
    } catch (err) {
      return this.failure(err, started);
    }
    this.succeeded();
    return this.status('probed', true, seconds(started));
  }

  private failure(err: unknown, started: number): SourceStatus {
    this.failed(err);
    return this.status('probed', false, seconds(started));
  }

  /** Calls probe() (after init() the first time); an asynchronous answer is bounded by the timeout. */
  private probeOnce(): ProbeResult | Promise<ProbeResult> {
    const ctx = new RunContext(this.timeoutMs, this.opts.tickTime, this.log);
    this.context = ctx;
    if (!this.initialized) {
      const init: InitContext = { log: this.log, tickTime: this.opts.tickTime, configDir: this.opts.configDir };
      return this.withTimeout(
        (async () => {
          await this.source.init(init);
          this.initialized = true;
          return this.source.probe(ctx);
        })(),
        ctx,
      );
    }
    const result = this.source.probe(ctx);
    return isThenable(result) ? this.withTimeout(Promise.resolve(result), ctx) : result;
  }

  private withTimeout(work: Promise<ProbeResult>, ctx: RunContext): Promise<ProbeResult> {
    // The source stays "running" until its probe really ends, even after we stop waiting.
    const tracked = work.finally(() => {
      if (this.inFlight === tracked) this.inFlight = undefined;
    });
    this.inFlight = tracked;
    tracked.catch(() => {}); // its failure is handled by tick() or was abandoned at the timeout
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        ctx.abort();
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
    this.context?.abort();
    try {
      await this.source.shutdown();
    } catch (err) {
      this.opts.log.warn(`${this.id}: shutdown failed: ${errorMessage(err)}`);
    }
  }
}

/**
 * A probe's context. Its AbortController is made on first use of `signal`: most probes are
 * synchronous reads that never look at it, and one controller per probe per tick adds up.
 */
class RunContext implements ProbeContext {
  private controller: AbortController | undefined;
  private aborted = false;

  constructor(
    readonly timeoutMs: number,
    readonly tickTime: number,
    readonly log: Logger,
  ) {}

  get signal(): AbortSignal {
    if (!this.controller) {
      this.controller = new AbortController();
      if (this.aborted) this.controller.abort();
    }
    return this.controller.signal;
  }

  abort(): void {
    this.aborted = true;
    this.controller?.abort();
  }
}

function isThenable(v: unknown): v is PromiseLike<ProbeResult> {
  return typeof v === 'object' && v !== null && typeof (v as PromiseLike<unknown>).then === 'function';
}

/** Seconds since a performance.now() reading (monotonic; no BigInt per probe as with hrtime.bigint). */
function seconds(start: number): number {
  return (performance.now() - start) / 1000;
}
