// Exec: runs a command and reads metrics from its output, in the format of collectd exec scripts,
// Telegraf exec scripts (InfluxDB line protocol), Prometheus textfile exporters, Graphite
// plaintext or JSON. Per tick (run, wait, parse) or long-running (one child printing lines as it
// goes, as collectd's exec plugin runs it). Commands run without a shell.
import {
  childEnvironment,
  ParamError,
  Source,
  SourceError,
  type InitContext,
  type JsonSchema,
  type Logger,
  type PluginContext,
  type ProbeContext,
  type Sample,
  type SourceParams,
} from '../../sdk/index.js';
import { resolvePath } from '../../sdk/params.js';
import { statSync } from 'node:fs';
import os from 'node:os';
import { DEFAULT_MAX_OUTPUT_BYTES, runCommand, firstLine } from '../../sdk/command.js';
import { createParser, parseOutput } from './formats.js';
import { loadTypesDb } from './collectd.js';
import { CommandError, resolveCommand } from './command.js';
import { LineChild, formatDelay } from '../../sdk/child.js';
import { FORMATS, ParseError, lineError, seriesKey, type DataSource, type LineParser, type Notification, type ParserOptions } from './parser.js';

const schema = {
  type: 'object',
  additionalProperties: false,
  required: ['command', 'format'],
  properties: {
    command: {
      description: 'The command: a string split into words like a simple shell command (no pipes, variables, globs), or a list of words',
      oneOf: [
        { type: 'string', minLength: 1 },
        { type: 'array', minItems: 1, items: { type: 'string' } },
      ],
    },
    format: { type: 'string', enum: FORMATS, description: 'Output format' },
    longRunning: { type: 'boolean', default: false, description: 'Start the command once and read lines as they come (restarted when it exits)' },
    env: {
      type: 'object',
      additionalProperties: { type: 'string' },
      description: 'Extra environment variables; values of secret-looking names (DB_PASSWORD, API_TOKEN, AWS_SECRET_ACCESS_KEY, API_KEY ...) are never logged',
    },
    passEnv: {
      type: 'array',
      items: { type: 'string', minLength: 1 },
      default: [],
      description:
        "Names of pollect's own environment variables the command sees too; otherwise it gets only PATH, HOME, USER, LOGNAME, SHELL, LANG, LANGUAGE, TZ, TMPDIR and LC_*",
    },
    cwd: { type: 'string', minLength: 1, description: "Working directory, relative to the config file (default: pollect's)" },
    typesDb: { type: 'string', minLength: 1, description: 'collectd only: a types.db with the data sets of custom types (relative to the config file)' },
    maxBytes: { type: 'integer', minimum: 1, default: DEFAULT_MAX_OUTPUT_BYTES, description: 'Per tick: largest output accepted, in bytes (16 MiB)' },
    staleAfter: { type: 'number', exclusiveMinimum: 0, default: 300, description: 'Long-running: seconds until a series not printed again is dropped' },
  },
} as const satisfies JsonSchema;

export type ExecConfig = SourceParams<typeof schema>;

const MAX_LINE_BYTES = 1024 * 1024;
const MAX_QUEUED_NOTIFICATIONS = 1000;

interface Held {
  sample: Sample;
  atMs: number;
}

export class ExecSource extends Source<ExecConfig> {
  static override description = 'Runs a command and parses its output: collectd PUTVAL, Influx line protocol, Prometheus text, Graphite or JSON';
  static override schema = schema;

  private readonly file: string;
  private readonly args: string[];
  private readonly env: NodeJS.ProcessEnv;
  private readonly cwd: string | undefined;
  private readonly types: Map<string, DataSource[]> | undefined;
  private log: Logger | undefined;
  // long-running state
  private runner: LineChild | undefined;
  private parser: LineParser | undefined;
  private readonly held = new Map<string, Held>();
  private problem: string | undefined;
  private problems = 0;
  /** Long-running: PUTNOTIF lines since the last probe, which hands them to ctx.notify. */
  private notifications: Notification[] = [];

  constructor(config: ExecConfig, context?: PluginContext) {
    super(config, context);
    try {
      ({ file: this.file, args: this.args } = resolveCommand(config.command, this.context.configDir));
    } catch (err) {
      if (err instanceof CommandError) throw new ParamError('command', err.message);
      throw err;
    }
    if (config.cwd !== undefined) {
      this.cwd = resolvePath(this.context, config.cwd);
      if (!isDirectory(this.cwd)) throw new ParamError('cwd', `${this.cwd} is not a directory`);
    }
    if (config.typesDb !== undefined) {
      const file = resolvePath(this.context, config.typesDb);
      try {
        this.types = loadTypesDb(file);
      } catch (err) {
        throw new ParamError('typesDb', `cannot read ${file}: ${(err as Error).message}`);
      }
    }
    // COLLECTD_* as collectd's exec plugin sets them, so its scripts run unchanged.
    this.env = childEnvironment({ COLLECTD_INTERVAL: String(this.context.tickTime), COLLECTD_HOSTNAME: os.hostname(), ...config.env }, config.passEnv);
  }

  override async init(ctx: InitContext): Promise<void> {
    this.log = ctx.log;
    if (!this.config.longRunning) return;
    const runner = new LineChild({
      file: this.file,
      args: this.args,
      env: this.env,
      cwd: this.cwd,
      maxLineBytes: MAX_LINE_BYTES,
      cleanRestartMs: Math.max(1, ctx.tickTime) * 1000,
      // A new child: a new parser, so no state (Prometheus TYPE lines) carries over.
      onStart: (pid) => {
        this.parser = createParser(
          this.config.format,
          this.parserOptions((n) => this.queueNotification(n)),
        );
        ctx.log.debug(`started ${this.file} (pid ${pid})`);
      },
      onLine: (line, lineNo) => this.onLine(line, lineNo),
      onBadLine: (lineNo, reason) => this.report(`${this.config.format} output of ${this.file}: line ${lineNo}: ${reason}`),
      onExit: ({ message, clean, restartInMs }) => {
        if (clean) ctx.log.debug(`${message}; starting again in ${formatDelay(restartInMs)}`);
        else this.report(`${message}; restarting in ${formatDelay(restartInMs)}`);
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
    return this.config.longRunning ? this.probeLongRunning(ctx) : this.probeOnce(ctx);
  }

  override async shutdown(): Promise<void> {
    await this.runner?.stop();
    this.runner = undefined;
  }

  private async probeOnce(ctx: ProbeContext): Promise<Sample[]> {
    let res;
    try {
      res = await runCommand(this.file, this.args, {
        timeoutMs: ctx.timeoutMs,
        signal: ctx.signal,
        env: this.env,
        cwd: this.cwd,
        maxBytes: this.config.maxBytes,
        killGroup: true,
      });
    } catch (err) {
      // The executor aborts at the probe timeout: say so rather than "aborted".
      if (ctx.signal.aborted && err instanceof SourceError && / was aborted /.test(err.message)) {
        throw new SourceError(`${this.file} timed out after ${ctx.timeoutMs} ms and was killed`);
      }
      throw err;
    }
    const err = firstLine(res.stderr);
    if (res.code !== 0) {
      const how = res.signal ? `was killed by ${res.signal}` : `exited with code ${res.code}`;
      throw new SourceError(`${this.file} ${how}${err ? `: ${err}` : ''}`);
    }
    if (err) ctx.log.debug(`${this.file} stderr: ${err}`);
    try {
      return parseOutput(
        this.config.format,
        res.stdout,
        this.parserOptions((n) => ctx.notify(n)),
      );
    } catch (e) {
      if (e instanceof ParseError) throw new SourceError(`${this.config.format} output of ${this.file}: ${e.message}`);
      throw e;
    }
  }

  private probeLongRunning(ctx: ProbeContext): Sample[] {
    for (const n of this.notifications.splice(0)) ctx.notify(n);
    if (this.problem) {
      const more = this.problems > 1 ? ` (and ${this.problems - 1} more problem${this.problems > 2 ? 's' : ''} since the last probe)` : '';
      const msg = `${this.problem}${more}`;
      this.problem = undefined;
      this.problems = 0;
      throw new SourceError(msg);
    }
    const cutoff = Date.now() - this.config.staleAfter * 1000;
    const out: Sample[] = [];
    for (const [k, h] of this.held) {
      if (h.atMs < cutoff) this.held.delete(k);
      else out.push(h.sample);
    }
    return out;
  }

  private onLine(line: string, lineNo: number): void {
    try {
      const now = Date.now();
      for (const s of this.parser!.line(line)) this.held.set(seriesKey(s), { sample: s, atMs: now });
    } catch (err) {
      // Called from a stream event: nothing may escape, whatever the line holds.
      const message = err instanceof ParseError ? err.message : `cannot parse: ${(err as Error).message}`;
      this.report(`${this.config.format} output of ${this.file}: ${lineError(lineNo, message, line)}`);
    }
  }

  /** A problem of the long-running child: logged now, and the next probe fails with it. */
  private report(msg: string): void {
    this.log?.warn(msg);
    this.problems++;
    this.problem ??= msg;
  }

  /**
   * A long-running child's PUTNOTIF arrives between probes: it waits for the next probe, stamped
   * with the time it arrived (unless it names its own). A bounded wait: the oldest go first.
   */
  private queueNotification(n: Notification): void {
    if (this.notifications.length >= MAX_QUEUED_NOTIFICATIONS) this.notifications.shift();
    this.notifications.push({ ...n, time: n.time ?? Date.now() });
  }

  private parserOptions(notify: (n: Notification) => void): ParserOptions {
    return { types: this.types, notify };
  }
}

function isDirectory(dir: string): boolean {
  try {
    return statSync(dir).isDirectory();
  } catch {
    return false;
  }
}
