// One configured source inside an executor: probes it with a timeout, never twice at once, and
// backs off while it fails (collectd's read-callback behaviour: the wait doubles each failure up
// to a cap). Logs once when a source starts failing and once when it recovers, and the same for
// problems a source reports as data.
import os from 'node:os';
import type {
  InitContext,
  Logger,
  Naming,
  Notification,
  NotificationInput,
  Point,
  ProbeContext,
  ProbeResult,
  SeriesName,
  Source,
  SourceConfig,
  SourceStatus,
} from '../sdk/index.js';
import { errorMessage } from '../log.js';
import { backoffDelay } from '../core/backoff.js';
import { within } from '../core/clock.js';
import { sourceSeriesName, toPoints, toSamples, type PointContext } from './samples.js';

export interface SourceRunnerOptions {
  id: string;
  collection: string;
  typeName: string;
  source: Source<SourceConfig>;
  /** The source's checked config; default: `source.config`. */
  config?: SourceConfig;
  tickTime: number;
  /** `tickTime` is the source's own, longer than its executor's: the source is probed on the first tick of each of its intervals only. */
  ownTickTime?: boolean;
  /** Longest backoff, seconds. */
  maxBackoff: number;
  log: Logger;
  configDir: string;
  /** Builds the source anew: a probe that never settles, even after its abort, is given up with its source. */
  recreate?: () => Source<SourceConfig>;
  /** Names a sample's series some other way than `<collection>.<Type>[.<name>].<sample name>` (the self-metrics). */
  nameOf?: (sampleName: string) => SeriesName;
  /** Ends probes at their timeout; the daemon shares one among all its runners. Default: the runner's own. */
  deadlines?: Deadlines;
}

export class TimeoutError extends Error {}

const everyNaming = (_naming: Naming): boolean => true;

/**
 * One probe's (or init's) run: the context the source gets, and its time budget, ended at the
 * timeout (by the runner's Deadlines) or at shutdown. Its AbortSignal is made only when the source
 * reads `signal`: most probes never do, and an AbortController per probe per tick is a large part
 * of what a tick costs the core. One object per probe, with its methods on the class.
 */
class Run implements ProbeContext, InitContext {
  private controller: AbortController | undefined;
  /** Why it ended, once it has. */
  ended: 'timeout' | 'shutdown' | undefined;
  /** Problems the source reported as data during this run. */
  problems: string[] | undefined;
  /** Called once when the run ends before the work settled. */
  onEnd: () => void = noop;

  constructor(
    readonly deadline: number,
    readonly timeoutMs: number,
    readonly tickTime: number,
    readonly configDir: string,
    readonly log: Logger,
    /** Takes what the source notifies, at once (the runner stamps it): also after the run ended. */
    readonly notify: (n: NotificationInput) => void,
  ) {}

  get signal(): AbortSignal {
    if (!this.controller) {
      this.controller = new AbortController();
      if (this.ended) this.controller.abort();
    }
    return this.controller.signal;
  }

  reportProblem(message: string): void {
    (this.problems ??= []).push(message);
  }

  /** Set per tick by the runner: whether the executor's writers take that naming. */
  wants: (naming: Naming) => boolean = everyNaming;

  end(why: 'timeout' | 'shutdown'): void {
    if (this.ended) return;
    this.ended = why;
    this.controller?.abort();
    this.onEnd();
  }
}

function noop(): void {}

/**
 * Ends runs at their deadlines with one timer, armed for the earliest, instead of one timer per
 * probe: the daemon shares one among all its sources, so a tick of any number of sources that all
 * answer in time costs one setTimeout and one clearTimeout. The timer keeps the process alive (an
 * AbortSignal.timeout() would not: `--once` with a probe that never settles would end early).
 */
export class Deadlines {
  private readonly runs = new Set<Run>();
  private timer: NodeJS.Timeout | undefined;
  /** When the timer fires (performance.now() ms); Infinity when it is not armed. */
  private timerAt = Infinity;

  add(run: Run): void {
    this.runs.add(run);
    if (run.deadline < this.timerAt) this.arm(run.deadline);
  }

  /** The run settled or ended: once none is left, the timer goes too, so an idle daemon is not woken. */
  delete(run: Run): void {
    this.runs.delete(run);
    if (this.runs.size === 0 && this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
      this.timerAt = Infinity;
    }
  }

  private arm(at: number): void {
    if (this.timer) clearTimeout(this.timer);
    this.timerAt = at;
    this.timer = setTimeout(() => this.fire(), Math.max(0, at - performance.now()));
  }

  private fire(): void {
    // Timers count whole milliseconds from the event loop's clock, so they may fire a fraction of
    // a millisecond before the deadline: what is due within a millisecond ends now.
    const now = Math.max(performance.now(), this.timerAt) + 1;
    this.timer = undefined;
    this.timerAt = Infinity;
    let next = Infinity;
    for (const run of [...this.runs]) {
      if (run.deadline <= now) {
        this.runs.delete(run);
        run.end('timeout');
      } else if (run.deadline < next) next = run.deadline;
    }
    if (next < Infinity && !this.timer) this.arm(next);
  }
}

/** Notifications a source may have waiting for the next tick; older ones go first. */
const MAX_PENDING_NOTIFICATIONS = 1000;
const NONE: readonly Notification[] = [];

/** Ticks skipped behind a probe that outlived its timeout before the source is built anew. */
export const STUCK_TICKS = 3;

export class SourceRunner {
  readonly id: string;
  source: Source<SourceConfig>;
  private readonly opts: SourceRunnerOptions;
  private readonly timeoutMs: number;
  private readonly log: Logger;
  private readonly points: PointContext;
  private readonly deadlines: Deadlines;
  private inFlight: Promise<unknown> | undefined;
  /** The running probe or init while a tick still waits for it: not yet past its timeout. */
  private awaited: Promise<unknown> | undefined;
  private initialized = false;
  private consecutiveFailures = 0;
  /** Ticks to sit out before the next probe (backoff). */
  private ticksToSkip = 0;
  private errorsTotal = 0;
  private skippedTotal = 0;
  /** Ticks skipped in a row behind a probe past its timeout. */
  private stuckTicks = 0;
  /** A tick is under way (its init or probe may be between two awaits). */
  private ticking = false;
  /** When the last probe started (performance.now()). */
  private startedAt = 0;
  private rejectedTotal = 0;
  /** The timestamp of the last tick it was due (ownTickTime). */
  private lastDue: number | undefined;
  private lastError: string | undefined;
  /** The problem a source last reported as data, while its probes keep reporting one. */
  private problem: string | undefined;
  /** Set at shutdown: ends whatever probe or init is running, and any started later. */
  private stopping = false;
  /** The probe or init now running (a source runs one at a time), ended at shutdown. */
  private running: Run | undefined;
  /** How the source fared in its last tick (self-metrics read it); undefined before its first tick. */
  last: SourceStatus | undefined;
  /** Notifications the source emitted since the executor last took them (takeNotifications). */
  private notifications: Notification[] = [];
  /** The timestamp of the tick under way, or of the last one: what notifications are stamped with. */
  private tickTimestamp: number | undefined;
  private readonly host: string;
  private readonly plugin: string;

  constructor(opts: SourceRunnerOptions) {
    // The runner's own lines name the source in their text; in JSON lines it is a field.
    this.opts = { ...opts, log: opts.log.child('', { source: opts.id }) };
    this.id = opts.id;
    this.source = opts.source;
    // From the config the runner was given: a plugin class need not keep it as `this.config`.
    const cfg = opts.config ?? opts.source.config;
    this.timeoutMs = (cfg.timeout ?? opts.tickTime) * 1000;
    this.log = opts.log.child(opts.id, { source: opts.id });
    this.points = {
      base: sourceSeriesName(opts.collection, opts.typeName, cfg.name),
      staticLabels: cfg.labels,
      timestamp: 0,
      source: opts.id,
      names: new Map(),
      nameOf: opts.nameOf,
    };
    this.deadlines = opts.deadlines ?? new Deadlines();
    // The host of notifications that name none: the `host` label (top-level, executor or source), else this machine's name.
    this.host = cfg.labels?.['host'] ?? os.hostname();
    this.plugin = opts.typeName.toLowerCase();
  }

  /**
   * A notification from the source, stamped by the core: the tick's time (the current time outside
   * a tick), the host, the plugin (the source type in lower case, as collectd names its plugins)
   * and the source's id, for whatever the source left out.
   */
  private readonly stamp = (n: NotificationInput): void => {
    const stamped: Notification = {
      ...n,
      time: n.time ?? (this.ticking ? this.tickTimestamp : undefined) ?? Date.now(),
      host: n.host || this.host,
      plugin: n.plugin || this.plugin,
      source: this.id,
    };
    // Bounded: a source that notifies in a loop while no tick takes them must not fill memory.
    if (this.notifications.length >= MAX_PENDING_NOTIFICATIONS) this.notifications.shift();
    this.notifications.push(stamped);
  };

  /** The notifications emitted since the last call, oldest first: the executor routes them after each tick. */
  takeNotifications(): readonly Notification[] {
    if (this.notifications.length === 0) return NONE;
    const out = this.notifications;
    this.notifications = [];
    return out;
  }

  /** The running probe or init, if any (for shutdown). */
  get busy(): Promise<unknown> | undefined {
    return this.inFlight;
  }

  /**
   * Runs the source's init() within the probe timeout. Throws its error; a source that declares
   * initRetried is tried again before its next probe instead.
   */
  async init(): Promise<void> {
    if (this.initialized) return;
    await this.bounded(this.newRun(), 'init');
    this.initialized = true;
  }

  /**
   * For `--once`: when the source's first probe only primes it (Source.reportsChanges), one probe
   * whose result is dropped; true if it ran. Its failure is not counted: the tick reports it.
   */
  async prime(): Promise<boolean> {
    if (!this.source.reportsChanges) return false;
    try {
      await this.init();
      await this.bounded(this.newRun(), 'probe');
    } catch (err) {
      this.log.debug(`priming probe failed: ${errorMessage(err)}`);
    }
    return true;
  }

  /**
   * Whether this tick is one the source takes part in: every tick, or with its own tickTime the
   * first of each wall-clock interval (a 60 s source in a 10 s executor: at :00 of every minute).
   */
  due(timestamp: number): boolean {
    if (!this.opts.ownTickTime) return true;
    const periodMs = this.opts.tickTime * 1000;
    if (this.lastDue !== undefined && Math.floor(timestamp / periodMs) <= Math.floor(this.lastDue / periodMs)) return false;
    this.lastDue = timestamp;
    return true;
  }

  /** Runs one tick for this source; appends its points to `out` and returns its status. */
  /** `wants`: whether the executor's writers take a naming (ProbeContext.wants); default every naming. */
  async tick(timestamp: number, out: Point[], wants = everyNaming): Promise<SourceStatus> {
    if (this.ticking || this.inFlight) return (this.last = this.skip());
    if (this.ticksToSkip > 0) {
      this.ticksToSkip--;
      return (this.last = this.status('backoff', false, 0));
    }
    const started = performance.now();
    this.startedAt = started;
    this.stuckTicks = 0;
    this.ticking = true;
    this.tickTimestamp = timestamp;
    let run: Run | undefined;
    try {
      if (!this.initialized) await this.init();
      run = this.newRun();
      run.wants = wants;
      const result = (await this.bounded(run, 'probe')) as ProbeResult;
      // Only a probe that blocked the event loop gets here late: its timeout could not fire.
      const ms = performance.now() - started;
      if (ms > this.timeoutMs)
        throw new TimeoutError(
          `the probe blocked the event loop for ${(ms / 1000).toFixed(1)} s, past its timeout of ${this.timeoutMs / 1000} s; other sources' ticks waited for it`,
        );
      this.points.timestamp = timestamp;
      toPoints(toSamples(result, this.rejectSample, this.points.names), this.points, out);
    } catch (err) {
      this.failed(err);
      return (this.last = this.status('probed', false, seconds(started)));
    } finally {
      this.ticking = false;
    }
    this.succeeded(run.problems);
    return (this.last = this.status('probed', true, seconds(started)));
  }

  /** A run for the next probe or init, bounded by the timeout; ended at once when pollect is stopping. */
  private newRun(): Run {
    const run = new Run(performance.now() + this.timeoutMs, this.timeoutMs, this.opts.tickTime, this.opts.configDir, this.log, this.stamp);
    if (this.stopping) run.end('shutdown');
    else {
      this.running = run;
      this.deadlines.add(run);
    }
    return run;
  }

  /**
   * Calls the source's probe() or init() and waits for it until its run ends (the timeout or
   * shutdown). The source stays "running" until its work really ends, even after we stop
   * waiting, so it is never run twice at once.
   */
  private bounded(run: Run, what: 'probe' | 'init'): Promise<unknown> {
    let work: Promise<unknown>;
    try {
      work = Promise.resolve(what === 'probe' ? this.source.probe(run) : this.source.init?.(run));
    } catch (err) {
      work = Promise.reject(err);
    }
    this.inFlight = work;
    this.awaited = work;
    return new Promise((resolve, reject) => {
      run.onEnd = () => {
        this.deadlines.delete(run);
        if (this.awaited === work) this.awaited = undefined;
        const why = run.ended === 'shutdown' ? 'pollect is stopping' : `timed out after ${this.timeoutMs / 1000} s`;
        reject(new TimeoutError(what === 'probe' ? why : `${what} ${why}`));
      };
      if (run.ended) run.onEnd();
      const settled = (): void => {
        this.deadlines.delete(run);
        if (this.running === run) this.running = undefined;
        if (this.inFlight === work) this.inFlight = undefined;
        if (this.awaited === work) this.awaited = undefined;
      };
      // Also after the run ended: resolving or rejecting a settled promise does nothing.
      work.then(
        (value) => {
          settled();
          resolve(value);
        },
        (err: unknown) => {
          settled();
          reject(err);
        },
      );
    });
  }

  /**
   * A tick while the last probe still runs. Usually it is just slow; one that outlived its
   * timeout ignores its abort signal: that is said once, and after STUCK_TICKS the source is
   * built anew (its stuck probe is left to end on its own).
   */
  private skip(): SourceStatus {
    this.skippedTotal++;
    const overdue = performance.now() - this.startedAt > this.timeoutMs;
    if (!overdue) {
      this.log.debug('still running from an earlier tick, skipped');
    } else if (++this.stuckTicks === 1) {
      this.opts.log.warn(
        `${this.id}: a probe is still running past its timeout of ${this.timeoutMs / 1000} s (it ignores its abort signal); ticks are skipped`,
      );
    }
    if (this.stuckTicks >= STUCK_TICKS && this.opts.recreate) this.rebuild();
    return this.status('skipped', false, 0);
  }

  private rebuild(): void {
    let fresh: Source<SourceConfig>;
    try {
      fresh = this.opts.recreate!();
    } catch (err) {
      this.opts.log.error(`${this.id}: cannot build the source anew: ${errorMessage(err)}`);
      return;
    }
    this.opts.log.warn(`${this.id}: built anew after ${this.stuckTicks} ticks skipped behind a stuck probe`);
    const old = this.source;
    Promise.resolve()
      .then(() => old.shutdown?.())
      .catch(() => {});
    this.source = fresh;
    this.inFlight = undefined;
    this.initialized = false;
    this.stuckTicks = 0;
  }

  /** An error the source threw outside its probe (a timer of its own): counted as a failed probe. */
  crashed(err: unknown): void {
    this.failed(err);
    this.last = this.status('probed', false, 0);
  }

  /** A bad sample is left out and counted; the first is logged, the rest at debug. */
  private readonly rejectSample = (reason: string): void => {
    this.rejectedTotal++;
    if (this.rejectedTotal === 1)
      this.opts.log.warn(`${this.id}: sample left out: ${reason} (later ones are counted in pollect_source_samples_rejected_total)`);
    else this.opts.log.debug(`${this.id}: sample left out: ${reason}`);
  };

  private succeeded(problems: string[] | undefined): void {
    if (this.consecutiveFailures > 0) {
      this.opts.log.info(`${this.id}: recovered after ${this.consecutiveFailures} failed probe(s)`);
    }
    this.consecutiveFailures = 0;
    this.ticksToSkip = 0;
    this.lastError = undefined;
    const problem = problems?.join('; ');
    if (problem && !this.problem) this.opts.log.warn(`${this.id}: ${problem}`);
    else if (!problem && this.problem) this.opts.log.info(`${this.id}: no longer reports a problem`);
    else if (problem) this.opts.log.debug(`${this.id}: still: ${problem}`);
    this.problem = problem;
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
    this.ticksToSkip = backoffDelay(this.consecutiveFailures, { min: 1, max: maxTicks }) - 1;
  }

  private status(state: SourceStatus['state'], success: boolean, durationSeconds: number): SourceStatus {
    return {
      id: this.id,
      collection: this.opts.collection,
      type: this.opts.typeName,
      name: this.points.base.instance,
      state,
      success,
      durationSeconds,
      error: success ? undefined : (this.lastError ?? (state === 'skipped' ? 'previous probe still running' : undefined)),
      errorsTotal: this.errorsTotal,
      skippedTotal: this.skippedTotal,
      rejectedTotal: this.rejectedTotal,
      consecutiveFailures: this.consecutiveFailures,
    };
  }

  /**
   * Waits for a running probe until `deadline` (ms since the epoch), aborts it, then calls the
   * source's shutdown(). A probe already abandoned at its timeout is not waited for: its tick is
   * done, and it has had its abort signal.
   */
  async shutdown(deadline: number): Promise<void> {
    if (this.awaited) await within(this.awaited, deadline);
    this.stopping = true;
    this.running?.end('shutdown');
    const done = Promise.resolve().then(() => this.source.shutdown?.());
    done.catch((err: unknown) => this.opts.log.warn(`${this.id}: shutdown failed: ${errorMessage(err)}`));
    if (!(await within(done, deadline))) this.opts.log.warn(`${this.id}: shutdown did not finish in time`);
  }
}

/** Seconds since a performance.now() reading. */
function seconds(start: number): number {
  return (performance.now() - start) / 1000;
}
