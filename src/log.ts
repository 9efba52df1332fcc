// A small leveled logger to stderr. Every message passes through redact() (the secret policy,
// src/core/secrets.ts), so a secret from the config never reaches a log line or an error message.
import { redact } from './core/secrets.js';

// Re-exported for modules that still import them from here (the writers); sources use the SDK.
export { redact, registerSecret } from './core/secrets.js';

export type LogLevel = 'error' | 'warn' | 'info' | 'debug';

const ORDER: Record<LogLevel, number> = { error: 0, warn: 1, info: 2, debug: 3 };

export interface Logger {
  error(msg: string): void;
  warn(msg: string): void;
  info(msg: string): void;
  debug(msg: string): void;
  child(prefix: string): Logger;
}

export interface LoggerOptions {
  level?: LogLevel;
  write?: (line: string) => void;
}

let globalLevel: LogLevel = 'info';
export function setLogLevel(level: LogLevel): void {
  globalLevel = level;
}
export function isLogLevel(s: string): s is LogLevel {
  return s in ORDER;
}

export function createLogger(prefix = '', opts: LoggerOptions = {}): Logger {
  const write = opts.write ?? ((line: string) => process.stderr.write(line + '\n'));
  const emit = (level: LogLevel, msg: string): void => {
    if (ORDER[level] > ORDER[opts.level ?? globalLevel]) return;
    const head = `${new Date().toISOString()} ${level.toUpperCase().padEnd(5)}`;
    write(redact(prefix ? `${head} [${prefix}] ${msg}` : `${head} ${msg}`));
  };
  return {
    error: (m) => emit('error', m),
    warn: (m) => emit('warn', m),
    info: (m) => emit('info', m),
    debug: (m) => emit('debug', m),
    child: (p) => createLogger(prefix ? `${prefix} ${p}` : p, opts),
  };
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
