// A small leveled logger to stderr. Every message passes through redact() (the secret policy,
// src/core/secrets.ts), so a secret from the config never reaches a log line or an error message.
// Lines are text (`2026-01-01T00:00:00.000Z INFO  [web.Http.shop] message`) or, for log shippers,
// JSON (`{"time":...,"level":"info","message":...,"source":"web.Http.shop"}`). When stderr is the
// systemd journal, each line starts with its syslog priority (`<3>` error ... `<7>` debug) and
// carries no time of its own (the journal stamps it), so `journalctl -p warning` works.
import { fstatSync } from 'node:fs';
import { redact } from './core/secrets.js';

// Re-exported for modules that still import them from here (the writers); sources use the SDK.
export { redact, registerSecret } from './core/secrets.js';

export type LogLevel = 'error' | 'warn' | 'info' | 'debug';
export type LogFormat = 'text' | 'json';
/** What a line is about, as JSON fields: `{ source: 'web.Http.shop' }`, `{ writer: 'Prometheus' }`. */
export type LogFields = Readonly<Record<string, string>>;

const ORDER: Record<LogLevel, number> = { error: 0, warn: 1, info: 2, debug: 3 };
/** syslog priorities (sd-daemon(3)): err, warning, info, debug. */
const PRIORITY: Record<LogLevel, number> = { error: 3, warn: 4, info: 6, debug: 7 };

export interface Logger {
  error(msg: string): void;
  warn(msg: string): void;
  info(msg: string): void;
  debug(msg: string): void;
  /**
   * A logger whose lines are about one thing: `prefix` is shown in text lines (`[prefix]`), and
   * `fields` are added to JSON lines; a prefix without fields shows in the JSON message instead.
   */
  child(prefix: string, fields?: LogFields): Logger;
}

export interface LoggerOptions {
  level?: LogLevel;
  format?: LogFormat;
  /** Lines for the systemd journal: a priority prefix, and text lines without a time. */
  journal?: boolean;
  write?: (line: string) => void;
}

let globalLevel: LogLevel = 'info';
let globalFormat: LogFormat = 'text';
let globalJournal = false;
export function setLogLevel(level: LogLevel): void {
  globalLevel = level;
}
export function isLogLevel(s: string): s is LogLevel {
  return s in ORDER;
}
/** How every logger that was not given its own options writes its lines from now on. */
export function setLogFormat(format: LogFormat, journal = false): void {
  globalFormat = format;
  globalJournal = journal;
}

/**
 * True when stderr is the systemd journal: systemd sets JOURNAL_STREAM to `device:inode` of the
 * stream it connects, and a redirected stderr (`2>file`) no longer matches it.
 */
export function stderrIsJournal(env: NodeJS.ProcessEnv = process.env, fd = 2): boolean {
  const stream = env.JOURNAL_STREAM;
  if (!stream) return false;
  try {
    const st = fstatSync(fd, { bigint: true });
    return stream === `${st.dev}:${st.ino}`;
  } catch {
    return false;
  }
}

interface Scope {
  /** Shown in text lines as `[label]`. */
  label: string;
  /** Labels without fields, shown in JSON messages. */
  bare: string;
  fields: LogFields;
}

export function createLogger(prefix = '', opts: LoggerOptions = {}): Logger {
  return scoped({ label: prefix, bare: prefix, fields: {} }, opts);
}

function scoped(scope: Scope, opts: LoggerOptions): Logger {
  const write = opts.write ?? ((line: string) => process.stderr.write(line + '\n'));
  const emit = (level: LogLevel, msg: string): void => {
    if (ORDER[level] > ORDER[opts.level ?? globalLevel]) return;
    write(formatLine(level, msg, scope, opts.format ?? globalFormat, opts.journal ?? globalJournal));
  };
  const join = (a: string, b: string): string => (a && b ? `${a} ${b}` : a || b);
  return {
    error: (m) => emit('error', m),
    warn: (m) => emit('warn', m),
    info: (m) => emit('info', m),
    debug: (m) => emit('debug', m),
    child: (p, fields) =>
      scoped({ label: join(scope.label, p), bare: fields ? scope.bare : join(scope.bare, p), fields: { ...scope.fields, ...fields } }, opts),
  };
}

function formatLine(level: LogLevel, msg: string, scope: Scope, format: LogFormat, journal: boolean): string {
  const priority = journal ? `<${PRIORITY[level]}>` : '';
  if (format === 'json') {
    // Redacted before escaping: a secret with a quote in it would not match its JSON form.
    const message = redact(scope.bare ? `[${scope.bare}] ${msg}` : msg);
    const fields = Object.fromEntries(Object.entries(scope.fields).map(([k, v]) => [k, redact(v)]));
    return priority + JSON.stringify({ time: new Date().toISOString(), level, message, ...fields });
  }
  const head = journal ? level.toUpperCase().padEnd(5) : `${new Date().toISOString()} ${level.toUpperCase().padEnd(5)}`;
  return redact(`${priority}${head}${scope.label ? ` [${scope.label}]` : ''} ${msg}`);
}

/** A message for any thrown value, redacted, without a stack trace. */
export function errorMessage(err: unknown): string {
  // Whatever was thrown: its getters or toString may throw too, and it may have no prototype.
  try {
    if (err instanceof Error) {
      const code = (err as NodeJS.ErrnoException).code;
      const msg = String(err.message || String(code ?? err.name));
      return redact(typeof code === 'string' && !msg.includes(code) ? `${msg} (${code})` : msg);
    }
    return redact(String(err));
  } catch {
    return 'an error that cannot be shown as text';
  }
}
