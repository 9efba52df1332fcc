// Exec: runs a command and reads metrics from its output, in the format of collectd exec scripts,
// Telegraf exec scripts (InfluxDB line protocol), Prometheus textfile exporters, Graphite
// plaintext or JSON. Per tick (run, wait, parse) or long-running (one child printing lines as it
// goes, as collectd's exec plugin runs it). Commands run without a shell.
import os from 'node:os';
import path from 'node:path';
import { Source, SourceError, type InitContext, type ProbeContext, type Sample, type SourceConfig } from '../../sdk/index.js';
import type { JsonSchema } from '../../sdk/index.js';
import { runCommand, firstLine } from '../../sdk/command.js';
import { registerSecret, type Logger } from '../../log.js';
import { createParser, parseOutput } from './formats.js';
import { loadTypesDb } from './collectd.js';
import { CommandError, resolveCommand } from './command.js';
import { LineChild, formatDelay } from '../../sdk/child.js';
import { FORMATS, ParseError, lineError, seriesKey, type DataSource, type Format, type LineParser, type Notification, type ParserOptions } from './parser.js';

export interface ExecConfig extends SourceConfig {
  command: string | string[];
  format: Format;
  longRunning?: boolean;
  env?: Record<string, string>;
  cwd?: string;
  /** collectd: a types.db file with the data sets of custom types. */
  typesDb?: string;
  /** Per-tick mode: largest output accepted, in bytes. */
  maxBytes?: number;
  /** Long-running mode: seconds after which a series that was not printed again is dropped. */
  staleAfter?: number;
}

const SECRET_ENV = /pass|secret|token|key|auth|credential/i;
const DEFAULT_STALE_S = 300;
const MAX_LINE_BYTES = 1024 * 1024;
/** Restart waits after a long-running child failed: 1 s, doubling up to a minute. */
const MIN_RESTART_MS = 1000;
const MAX_RESTART_MS = 60_000;

interface Held {
  sample: Sample;
  atMs: number;
}

export class ExecSource extends Source<ExecConfig> {
  static override description = 'Runs a command and parses its output: collectd PUTVAL, Influx line protocol, Prometheus text, Graphite or JSON';
  static override schema: JsonSchema = {
    type: 'object',
    required: ['command', 'format'],
    properties: {
      command: {
        description: 'The command: a string split into words like a simple shell command (no pipes, variables, globs), or a list of words',
        oneOf: [
          { type: 'string', minLength: 1 },
          { type: 'array', minItems: 1, items: { type: 'string' } },
        ],
      },
      format: { enum: [...FORMATS], description: 'Output format: collectd, influx, prometheus, graphite or json' },
      longRunning: { type: 'boolean', default: false, description: 'Start the command once and read lines as they come (restarted when it exits)' },
      env: { type: 'object', additionalProperties: { type: 'string' }, description: 'Extra environment variables' },
      cwd: { type: 'string', minLength: 1, description: 'Working directory (relative to the config file)' },
      typesDb: { type: 'string', minLength: 1, description: 'collectd types.db with the data sets of custom types (relative to the config file)' },
      maxBytes: { type: 'integer', minimum: 1, description: 'Per tick: largest output accepted (default 16 MiB)' },
      staleAfter: { type: 'number', exclusiveMinimum: 0, description: 'Long-running: seconds until a series not printed again is dropped (default 300)' },
    },
  };

  private file = '';
  private args: string[] = [];
  private env: NodeJS.ProcessEnv = {};
  private cwd: string | undefined;
  private types: Map<string, DataSource[]> | undefined;
  private log: Logger | undefined;
  // long-running state
  private runner: LineChild | undefined;
  private parser: LineParser | undefined;
  private readonly held = new Map<string, Held>();
  private problem: string | undefined;
  private problems = 0;

  constructor(config: ExecConfig) {
    super(config);
    for (const [k, v] of Object.entries(config.env ?? {})) if (SECRET_ENV.test(k)) registerSecret(v);
    this.resolve(process.cwd(), 10);
  }

  private resolve(configDir: string, tickTime: number): void {
    try {
      ({ file: this.file, args: this.args } = resolveCommand(this.config.command, configDir));
    } catch (err) {
      if (err instanceof CommandError) throw new SourceError(err.message);
      throw err;
    }
    this.cwd = this.config.cwd ? path.resolve(configDir, this.config.cwd) : undefined;
    // As collectd's exec plugin does, so its scripts run unchanged.
    this.env = {
      ...process.env,
      COLLECTD_INTERVAL: String(tickTime),
      COLLECTD_HOSTNAME: os.hostname(),
      ...this.config.env,
    };
  }

  override async init(ctx: InitContext): Promise<void> {
    this.log = ctx.log;
    this.resolve(ctx.configDir, ctx.tickTime);
    if (this.config.typesDb) {
      const file = path.resolve(ctx.configDir, this.config.typesDb);
      try {
        this.types = loadTypesDb(file);
      } catch (err) {
        throw new SourceError(`cannot read typesDb ${file}: ${(err as Error).message}`);
      }
    }
    if (!this.config.longRunning) return;
    const runner = new LineChild({
      file: this.file,
      args: this.args,
      env: this.env,
      cwd: this.cwd,
      maxLineBytes: MAX_LINE_BYTES,
      minRestartMs: MIN_RESTART_MS,
      maxRestartMs: MAX_RESTART_MS,
      cleanRestartMs: Math.max(1, ctx.tickTime) * 1000,
      // A new child: a new parser, so no state (Prometheus TYPE lines) carries over.
      onStart: (pid) => {
        this.parser = createParser(this.config.format, this.parserOptions(ctx.log));
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
      return parseOutput(this.config.format, res.stdout, this.parserOptions(ctx.log));
    } catch (e) {
      if (e instanceof ParseError) throw new SourceError(`${this.config.format} output of ${this.file}: ${e.message}`);
      throw e;
    }
  }

  private probeLongRunning(_ctx: ProbeContext): Sample[] {
    if (this.problem) {
      const more = this.problems > 1 ? ` (and ${this.problems - 1} more problem${this.problems > 2 ? 's' : ''} since the last probe)` : '';
      const msg = `${this.problem}${more}`;
      this.problem = undefined;
      this.problems = 0;
      throw new SourceError(msg);
    }
    const cutoff = Date.now() - (this.config.staleAfter ?? DEFAULT_STALE_S) * 1000;
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

  private parserOptions(log: Logger): ParserOptions {
    return {
      types: this.types,
      notify: (n: Notification) => {
        const text = `notification from ${this.file}: ${n.message}`;
        if (n.severity === 'failure') log.error(text);
        else if (n.severity === 'warning') log.warn(text);
        else log.info(text);
      },
    };
  }
}
