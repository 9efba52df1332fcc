// The command line: `pollect -c config.json [--dry-run] [--once] [--check]`, `pollect sources`,
// `pollect schema`. Exit codes: 0 fine, 1 a source failed in --once or a runtime error,
// 2 a bad config.
import { Command, InvalidArgumentError, Option } from 'commander';
import { readFileSync } from 'node:fs';
import { ConfigError } from './config/errors.js';
import { loadConfig } from './config/load.js';
import { createLogger, errorMessage, isLogLevel, setLogFormat, setLogLevel, stderrIsJournal, type LogFormat, type Logger } from './log.js';

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

interface RunOptions {
  config?: string;
  dryRun?: boolean;
  once?: boolean;
  onceInterval: number;
  check?: boolean;
  selfMetrics?: boolean;
  logLevel: string;
  logFormat: LogFormat;
}

export async function main(argv: string[] = process.argv): Promise<number> {
  const program = new Command('pollect')
    .description('Metrics collection daemon: executors probe sources on their own timers and hand samples to writers')
    .option(
      '-c, --config <file>',
      "config file (JSON or YAML; without an extension tries .yml, .yaml, .json); default: pollect, then config (the Python pollect's)",
    )
    .option('-r, --dry-run', 'print samples to stdout instead of the configured writers')
    .option('--once', 'run one tick of every executor, write, flush and exit (1 if any source failed)')
    .option(
      '--once-interval <seconds>',
      'with --once: how long before the tick sources that report rates (Cpu, Interface, IO ...) take their first reading',
      parseInterval,
      1,
    )
    .option('--check', 'validate the config and exit')
    .option('--self-metrics', "with --dry-run: print pollect's own metrics too")
    // `warning` is the Python pollect's spelling of warn.
    .addOption(new Option('--log-level <level>', 'log level').choices(['error', 'warn', 'warning', 'info', 'debug']).default('info'))
    .addOption(new Option('--log-format <format>', 'log lines: text, or JSON for log shippers').choices(['text', 'json']).default('text'))
    .version(version(), '-V, --version')
    .showHelpAfterError()
    .exitOverride();

  let code = 0;
  program.action(async (opts: RunOptions) => {
    code = await run(opts);
  });
  program
    .command('sources')
    .description('list every source type with a one-line description')
    .action(async () => {
      const { describeSources } = await import('./config/full-schema.js');
      const list = await describeSources();
      const width = Math.max(...list.map((s) => s.type.length));
      await print(list.map((s) => `${s.type.padEnd(width)}  ${s.description}\n`).join(''));
    });
  program
    .command('schema')
    .description('print the JSON schema of the whole config')
    .action(async () => {
      const { fullSchema } = await import('./config/full-schema.js');
      await print(JSON.stringify(await fullSchema(), null, 2) + '\n');
    });

  try {
    await program.parseAsync(argv);
  } catch (err) {
    const e = err as { code?: string; exitCode?: number };
    if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version') return 0;
    if (typeof e.exitCode === 'number') return 2;
    throw err;
  }
  return code;
}

function parseInterval(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n < 0 || n > 60) throw new InvalidArgumentError('a number of seconds from 0 to 60');
  return n;
}

/** Writes to stdout and waits until it is handed over: the launcher exits right after main(), which would cut a pipe short. */
function print(text: string): Promise<void> {
  return new Promise((resolve) => process.stdout.write(text, () => resolve()));
}

async function run(opts: RunOptions): Promise<number> {
  const level = opts.logLevel === 'warning' ? 'warn' : opts.logLevel;
  if (isLogLevel(level)) setLogLevel(level);
  const journal = stderrIsJournal();
  setLogFormat(opts.logFormat, journal);
  const log = createLogger();
  const { Daemon, StartError } = await import('./executors/daemon.js');
  let config;
  let daemon;
  try {
    config = await loadConfig(opts.config, { writersOptional: opts.dryRun });
    // Building the sources and writers runs their constructors, which check what a schema cannot.
    daemon = new Daemon(config, { dryRun: opts.dryRun, selfMetrics: opts.selfMetrics || undefined, log });
  } catch (err) {
    if (err instanceof ConfigError) {
      // For people a block; for log shippers one JSON line a problem; in the journal, errors.
      if (opts.logFormat === 'json') for (const p of err.problems) log.error(`invalid config: ${p}`);
      else {
        const at = journal ? '<3>' : '';
        process.stderr.write(`${at}pollect: invalid config:\n${err.problems.map((p) => `${at}  ${p}`).join('\n')}\n`);
      }
      return 2;
    }
    throw err;
  }
  if (opts.check) {
    const sources = config.executors.reduce((n, e) => n + e.sources.length, 0);
    process.stdout.write(`${config.file}: OK (${config.executors.length} executor(s), ${sources} source(s))\n`);
    return 0;
  }
  // A plugin's stray throw or unawaited rejection must not end the daemon.
  const uninstall = daemon.crashGuard.install();
  // SIGHUP reloads the config (`systemctl reload`); left unhandled it would end the process.
  const running = daemon;
  const onHangup = (): void => {
    if (!running.running) return void log.warn('SIGHUP before pollect has started: ignored');
    log.info(`SIGHUP: reloading ${config.file}`);
    running.reload(() => loadConfig(opts.config, { writersOptional: opts.dryRun })).catch((err: unknown) => log.error(`reload failed: ${errorMessage(err)}`));
  };
  if (!opts.once) process.on('SIGHUP', onHangup);
  try {
    if (opts.once) {
      const ignore = (): void => {}; // a reader that went away (`| head`) is not a failure
      process.stdout.on('error', ignore);
      try {
        return (await daemon.runOnce({ interval: opts.onceInterval })) ? 0 : 1;
      } finally {
        process.stdout.off('error', ignore);
      }
    }
    await daemon.start();
  } catch (err) {
    process.off('SIGHUP', onHangup);
    uninstall();
    if (err instanceof StartError) {
      log.error(err.message);
      return 1;
    }
    throw err;
  } finally {
    if (opts.once) uninstall();
  }
  try {
    return await waitForSignal(daemon, log);
  } finally {
    process.off('SIGHUP', onHangup);
    uninstall();
  }
}

function waitForSignal(daemon: { stop(): Promise<void> }, log: Logger): Promise<number> {
  return new Promise((resolve) => {
    let stopping = false;
    const onSignal = (sig: NodeJS.Signals): void => {
      if (stopping) {
        log.warn(`${sig} again: exiting now`);
        process.exit(1);
      }
      stopping = true;
      log.info(`${sig}: stopping`);
      daemon.stop().then(
        () => resolve(0),
        (err: unknown) => {
          log.error(`stop failed: ${errorMessage(err)}`);
          resolve(1);
        },
      );
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    // stdout closed under us (`pollect -r | head`): stop as for a signal, so sources shut down cleanly.
    process.stdout.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EPIPE' && !stopping) onSignal('SIGPIPE');
    });
  });
}
