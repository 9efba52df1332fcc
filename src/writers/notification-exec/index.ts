// NotificationExec: runs a program once per notification with the notification on its stdin, in
// collectd's format, as collectd's exec plugin runs its NotificationExec programs: so a collectd
// notification script runs unchanged. Samples are not taken: write() ignores them.
import { accessSync, constants, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  childEnvironment,
  errorMessage,
  ParamError,
  Writer,
  type Batch,
  type JsonSchema,
  type Logger,
  type Notification,
  type PluginContext,
  type WriterContext,
  type WriterParams,
} from '../../sdk/index.js';
import { firstLine, runCommand } from '../../sdk/command.js';
import { CommandError, resolveCommand } from '../../sources/exec/command.js';
import { notificationText } from './format.js';

const schema = {
  type: 'object',
  required: ['command'],
  properties: {
    command: {
      description: 'The program and its arguments: a string split into words like a simple shell command (no pipes, variables, globs), or a list of words',
      oneOf: [
        { type: 'string', minLength: 1 },
        { type: 'array', minItems: 1, items: { type: 'string' } },
      ],
    },
    env: {
      type: 'object',
      additionalProperties: { type: 'string' },
      description: 'Extra environment variables; values of secret-looking names (API_TOKEN, SMTP_PASSWORD ...) are never logged',
    },
    passEnv: {
      type: 'array',
      items: { type: 'string', minLength: 1 },
      default: [],
      description:
        "Names of pollect's own environment variables the program sees too; otherwise it gets only PATH, HOME, USER, LOGNAME, SHELL, LANG, LANGUAGE, TZ, TMPDIR and LC_*",
    },
    timeout: { type: 'number', exclusiveMinimum: 0, default: 10, description: 'Seconds one run may take; then it is killed (with the processes it started)' },
  },
} as const satisfies JsonSchema;

export type NotificationExecConfig = WriterParams<typeof schema>;

export class NotificationExecWriter extends Writer<NotificationExecConfig> {
  static override description = "Runs a program per notification, the notification on its stdin in collectd's NotificationExec format (takes no samples)";
  static override schema = schema;

  private readonly file: string;
  private readonly args: string[];
  private readonly env: NodeJS.ProcessEnv;
  private log: Logger;

  constructor(config: NotificationExecConfig, context?: PluginContext) {
    super(config, context);
    this.log = this.context.log;
    try {
      ({ file: this.file, args: this.args } = resolveCommand(config.command, this.context.configDir));
    } catch (err) {
      if (err instanceof CommandError) throw new ParamError('command', err.message);
      throw err;
    }
    if (!findExecutable(this.file)) {
      throw new ParamError('command', this.file.includes('/') ? `${this.file} is not an executable file` : `${this.file} is not on PATH`);
    }
    // COLLECTD_* as collectd's exec plugin sets them, so its scripts run unchanged.
    this.env = childEnvironment({ COLLECTD_INTERVAL: String(this.context.tickTime), COLLECTD_HOSTNAME: os.hostname(), ...config.env }, config.passEnv);
  }

  override start(ctx: WriterContext): void {
    this.log = ctx.log;
  }

  /** Samples are not for this writer: the core never hands it any. */
  override takesSamples = false;

  write(_batch: Batch): void {}

  /**
   * Runs the program once per notification, all at once (as collectd does). A run that fails (the
   * program is gone, exits non-zero, passes `timeout`) is logged, not retried: it may have done
   * part of its job (sent the mail), and a second run would do it twice.
   */
  override async notify(list: readonly Notification[]): Promise<void> {
    await Promise.all(list.map((n) => this.run(n)));
  }

  private async run(n: Notification): Promise<void> {
    const what = `${n.severity} notification "${n.message}"`;
    try {
      const res = await runCommand(this.file, this.args, {
        timeoutMs: this.config.timeout * 1000,
        env: this.env,
        input: notificationText(n),
        maxBytes: 64 * 1024,
      });
      const err = firstLine(res.stderr);
      if (res.code !== 0) {
        const how = res.signal ? `was killed by ${res.signal}` : `exited with code ${res.code}`;
        this.log.warn(`writer ${this.id}: ${this.file} ${how} for the ${what}${err ? `: ${err}` : ''}`);
      } else if (err) this.log.debug(`writer ${this.id}: ${this.file} stderr: ${err}`);
    } catch (err) {
      this.log.warn(`writer ${this.id}: ${errorMessage(err)} (for the ${what})`);
    }
  }
}

/** True when `file` (a path, or a name looked up on PATH) is an executable file. */
function findExecutable(file: string): boolean {
  const candidates = file.includes('/')
    ? [file]
    : (process.env.PATH ?? '')
        .split(':')
        .filter(Boolean)
        .map((d) => path.join(d, file));
  return candidates.some((f) => {
    try {
      accessSync(f, constants.X_OK);
      return statSync(f).isFile();
    } catch {
      return false;
    }
  });
}
