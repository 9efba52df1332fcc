// CollectdPython: runs unmodified collectd Python plugins (collectd-python(5)) in one long-lived
// python3 child that imports pollect's own `collectd` module (collectd.py in this folder). The
// child calls the read callbacks on their intervals and sends what they dispatch as JSON lines;
// a probe reports the latest value of every series. See README.md for the config and the naming.
import { existsSync, statSync } from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { LineChild, formatDelay } from '../../sdk/child.js';
import { resolvePath } from '../../sdk/params.js';
import {
  childEnvironment,
  ParamError,
  Source,
  SourceError,
  type InitContext,
  type JsonSchema,
  type Logger,
  type NotificationInput,
  type PluginContext,
  type ProbeContext,
  type Sample,
  type SourceParams,
} from '../../sdk/index.js';
import { checkModules, type ConfigTree } from './config.js';
import { toSamples, type ValuesMessage } from './naming.js';
import { DEFAULT_TYPES_DB, GENERIC_TYPES, loadTypesDbs, parseTypesDb, type DataSource } from './types.js';

const schema = {
  type: 'object',
  additionalProperties: false,
  required: ['import'],
  properties: {
    modulePath: {
      description: "Folders added to Python's module path, before the standard ones (relative to the config file): collectd's ModulePath",
      oneOf: [
        { type: 'string', minLength: 1 },
        { type: 'array', items: { type: 'string', minLength: 1 } },
      ],
    },
    import: { type: 'array', minItems: 1, items: { type: 'string', minLength: 1 }, description: "Modules to import, in order: collectd's Import" },
    logTraces: { type: 'boolean', default: false, description: "Log a callback's exception with its full stack trace: collectd's LogTraces" },
    modules: {
      type: 'object',
      additionalProperties: { oneOf: [{ type: 'object' }, { type: 'array', minItems: 1, items: { type: 'object' } }] },
      default: {},
      description:
        "Per module name, the config tree its config callback gets as a collectd Config: collectd's <Module name> block, or a list of trees for several blocks, one call each (see below)",
    },
    typesDb: {
      description: `types.db files with the data sets of the types (relative to the config file; default ${DEFAULT_TYPES_DB}, or only gauge, derive, counter and absolute when that is not installed)`,
      oneOf: [
        { type: 'string', minLength: 1 },
        { type: 'array', minItems: 1, items: { type: 'string', minLength: 1 } },
      ],
    },
    hostname: { type: 'string', minLength: 1, description: "The host of values dispatched without one: collectd's Hostname (default: this machine's name)" },
    interval: {
      type: 'number',
      exclusiveMinimum: 0,
      description: "Seconds between reads of a callback registered without an interval: collectd's Interval (default: the source's tickTime)",
    },
    callbackTimeout: {
      type: 'number',
      exclusiveMinimum: 0,
      default: 60,
      description: 'Seconds a callback (an import, config, init, read or shutdown) may run; then the child is killed and restarted',
    },
    python: { type: 'string', minLength: 1, default: 'python3', description: 'The Python 3 interpreter' },
    passEnv: {
      type: 'array',
      items: { type: 'string', minLength: 1 },
      default: [],
      description: "Names of pollect's own environment variables the plugins see too (PYTHONPATH, a plugin's credentials)",
    },
  },
} as const satisfies JsonSchema;

export type CollectdPythonConfig = SourceParams<typeof schema>;

const MAX_LINE_BYTES = 1024 * 1024;
const MAX_CHILD_CONFIG = 120_000;
/** A series not dispatched again for this many of its intervals is dropped (collectd's Timeout). */
const STALE_INTERVALS = 2;

interface Held {
  sample: Sample;
  atMs: number;
  staleMs: number;
}

type ChildMessage =
  | ValuesMessage
  | { t: 'call'; kind: string; name: string }
  | { t: 'done' }
  | { t: 'ready' }
  | { t: 'primed' }
  | { t: 'log'; severity: number; message: string }
  | { t: 'failed'; kind: string; name: string; message: string }
  | NotificationMessage
  | { t: 'fatal'; message: string };

/** A plugin's Notification.dispatch(); time in seconds since the epoch; severity collectd's NOTIF_* (1, 2, 4). */
interface NotificationMessage {
  t: 'notification';
  severity: number;
  message: string;
  host: string;
  plugin: string;
  plugin_instance: string;
  type: string;
  type_instance: string;
  time: number;
  meta?: Record<string, string | number | boolean>;
}

/** Notifications kept for the next probe; older ones go first. */
const MAX_QUEUED_NOTIFICATIONS = 1000;

export class CollectdPythonSource extends Source<CollectdPythonConfig> {
  static override description = "Runs collectd's Python plugins unchanged (collectd-python(5)) in a long-lived python3 child";
  static override schema = schema;

  private readonly modulePath: string[];
  private readonly datasets: Map<string, DataSource[]>;
  private readonly typesNote: string | undefined;
  private readonly interval: number;
  /** What the child is told, as JSON: it travels in one environment variable. */
  private readonly childConfig: string;
  private runner: LineChild | undefined;
  private log: Logger | undefined;
  private readonly held = new Map<string, Held>();
  private problem: string | undefined;
  private problems = 0;
  /** Notifications the plugins dispatched since the last probe, which hands them to ctx.notify. */
  private notifications: NotificationInput[] = [];
  /** The callback now running and the timer that kills the child when it runs too long. */
  private running: { what: string; timer: NodeJS.Timeout } | undefined;
  /** Settles when the first child has run every read callback once, or failed: the first probe waits for it. */
  private readonly primed: Promise<void>;
  private setPrimed!: () => void;
  /** Why pollect killed the child, or what the child said before it gave up: the exit is reported with it. */
  private exitReason: string | undefined;

  constructor(config: CollectdPythonConfig, context?: PluginContext) {
    super(config, context);
    const paths = config.modulePath === undefined ? [] : typeof config.modulePath === 'string' ? [config.modulePath] : config.modulePath;
    this.modulePath = paths.map((p, i) => {
      const dir = resolvePath(this.context, p);
      if (!isDirectory(dir)) throw new ParamError(typeof config.modulePath === 'string' ? 'modulePath' : `modulePath[${i}]`, `${dir} is not a folder`);
      return dir;
    });
    checkModules(config.modules as Record<string, ConfigTree>);
    const typesDbs = config.typesDb === undefined ? (existsSync(DEFAULT_TYPES_DB) ? [DEFAULT_TYPES_DB] : []) : [config.typesDb].flat();
    if (typesDbs.length > 0) {
      try {
        this.datasets = loadTypesDbs(typesDbs.map((f) => resolvePath(this.context, f)));
      } catch (err) {
        throw new ParamError('typesDb', (err as Error).message);
      }
    } else {
      this.datasets = parseTypesDb(GENERIC_TYPES);
      this.typesNote = `${DEFAULT_TYPES_DB} is not installed (Debian: collectd-core): only the types gauge, derive, counter and absolute are known`;
    }
    this.interval = config.interval ?? config.tickTime ?? this.context.tickTime;
    this.primed = new Promise((resolve) => (this.setPrimed = resolve));
    this.childConfig = JSON.stringify({
      modulePath: this.modulePath,
      import: config.import,
      logTraces: config.logTraces,
      modules: config.modules,
      interval: this.interval,
      hostname: config.hostname ?? os.hostname(),
      datasets: Object.fromEntries(this.datasets),
    });
    // Linux takes no environment variable over 128 KiB.
    const bytes = Buffer.byteLength(this.childConfig);
    if (bytes > MAX_CHILD_CONFIG) {
      throw new ParamError('modules', `the modules' config and the data sets come to ${bytes} bytes, more than ${MAX_CHILD_CONFIG}`);
    }
  }

  override async init(ctx: InitContext): Promise<void> {
    this.log = ctx.log;
    if (this.typesNote) ctx.log.warn(this.typesNote);
    const runner = new LineChild({
      file: this.config.python,
      args: [collectdModuleFile()],
      env: childEnvironment({ POLLECT_COLLECTD_CONFIG: this.childConfig, PYTHONDONTWRITEBYTECODE: '1' }, this.config.passEnv),
      cwd: this.context.configDir,
      maxLineBytes: MAX_LINE_BYTES,
      onStart: (pid) => {
        this.exitReason = undefined;
        ctx.log.debug(`started ${this.config.python} (pid ${pid})`);
      },
      onLine: (line) => this.onMessage(JSON.parse(line) as ChildMessage),
      onBadLine: (lineNo, reason) => this.report(`line ${lineNo} from the python child: ${reason}`),
      onExit: ({ message, restartInMs }) => {
        this.stopTimer();
        // A clean exit is a failure too: the child runs until pollect stops it.
        this.report(`${this.exitReason ?? `python child ended: ${message}`}; restarting in ${formatDelay(restartInMs)}`);
        this.exitReason = undefined;
      },
    });
    try {
      await runner.start();
    } catch (err) {
      await runner.stop();
      throw new SourceError((err as Error).message);
    }
    this.runner = runner;
  }

  async probe(ctx: ProbeContext): Promise<Sample[]> {
    // The first probe waits (within its timeout) for the first reads, so `--once` has values.
    if (!ctx.signal.aborted) await Promise.race([this.primed, new Promise((resolve) => ctx.signal.addEventListener('abort', resolve, { once: true }))]);
    for (const n of this.notifications.splice(0)) ctx.notify(n);
    if (this.problem) {
      const more = this.problems > 1 ? ` (and ${this.problems - 1} more problem${this.problems > 2 ? 's' : ''} since the last probe)` : '';
      const msg = `${this.problem}${more}`;
      this.problem = undefined;
      this.problems = 0;
      throw new SourceError(msg);
    }
    const now = Date.now();
    const out: Sample[] = [];
    for (const [k, h] of this.held) {
      if (now - h.atMs > h.staleMs) this.held.delete(k);
      else out.push(h.sample);
    }
    return out;
  }

  override async shutdown(): Promise<void> {
    this.stopTimer();
    await this.runner?.stop();
    this.runner = undefined;
  }

  private onMessage(m: ChildMessage): void {
    switch (m.t) {
      case 'values': {
        const now = Date.now();
        const staleMs = STALE_INTERVALS * Math.max(m.interval, this.interval) * 1000;
        for (const [key, sample] of toSamples(m)) this.held.set(key, { sample, atMs: now, staleMs });
        return;
      }
      case 'call':
        return this.startTimer(`${m.kind === 'import' ? 'importing module' : `the ${m.kind} callback`} ${m.name}`);
      case 'done':
        return this.stopTimer();
      case 'ready':
        return this.log?.debug('plugins imported, configured and initialised');
      case 'primed':
        return this.setPrimed();
      case 'log':
        return logAt(this.log, m.severity, m.message);
      case 'failed':
        return this.report(m.message);
      case 'notification':
        // Dispatched between probes: the next probe hands it on (the core logs and routes it).
        if (this.notifications.length >= MAX_QUEUED_NOTIFICATIONS) this.notifications.shift();
        this.notifications.push(toNotification(m));
        return;
      case 'fatal':
        this.exitReason = m.message;
        return;
    }
  }

  private startTimer(what: string): void {
    this.stopTimer();
    const ms = this.config.callbackTimeout * 1000;
    const timer = setTimeout(() => {
      this.running = undefined;
      const pid = this.runner?.pid;
      if (pid === undefined) return;
      this.exitReason = `${what} ran for more than ${this.config.callbackTimeout} s: the python child was killed`;
      try {
        process.kill(-pid, 'SIGKILL'); // its process group: what a plugin started goes too
      } catch {
        // gone already; its exit is reported
      }
    }, ms);
    timer.unref();
    this.running = { what, timer };
  }

  private stopTimer(): void {
    if (this.running) clearTimeout(this.running.timer);
    this.running = undefined;
  }

  /** A problem of the child: logged now, and the next probe fails with it. */
  private report(msg: string): void {
    this.setPrimed();
    this.log?.warn(msg);
    this.problems++;
    this.problem ??= msg;
  }
}

/** collectd's notification as pollect's: NOTIF_FAILURE 1, NOTIF_WARNING 2, NOTIF_OKAY 4; empty fields left out. */
export function toNotification(m: NotificationMessage): NotificationInput {
  const n: NotificationInput = {
    severity: m.severity === 4 ? 'okay' : m.severity === 2 ? 'warning' : 'failure',
    message: m.message,
    time: Math.round(m.time * 1000),
    host: m.host,
    plugin: m.plugin,
  };
  if (m.plugin_instance) n.pluginInstance = m.plugin_instance;
  if (m.type) n.type = m.type;
  if (m.type_instance) n.typeInstance = m.type_instance;
  if (m.meta && Object.keys(m.meta).length) n.meta = m.meta;
  return n;
}

/** collectd's log levels (LOG_ERR 3 ... LOG_DEBUG 7) on pollect's logger. */
function logAt(log: Logger | undefined, severity: number, message: string): void {
  if (!log) return;
  if (severity <= 3) log.error(message);
  else if (severity === 4) log.warn(message);
  else if (severity <= 6) log.info(message);
  else log.debug(message);
}

/**
 * collectd.py next to this module: in src/ (tests, a TypeScript run) it is here; the build does not
 * copy it into dist/, so from dist/ it is found in the src/ folder the package ships too.
 */
function collectdModuleFile(): string {
  const here = fileURLToPath(new URL('./collectd.py', import.meta.url));
  if (existsSync(here)) return here;
  return fileURLToPath(new URL('../../../src/sources/collectd-python/collectd.py', import.meta.url));
}

function isDirectory(dir: string): boolean {
  try {
    return statSync(dir).isDirectory();
  } catch {
    return false;
  }
}
