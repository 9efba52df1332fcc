// ${VAR}, ${VAR:-default} and ${VAR:?message} in every string of the config; $${ is a literal ${.
// A name is letters, digits, `_` and `-`, as in the Python pollect (`${MY-VAR}` is the variable
// MY-VAR); a default needs the colon form, `${VAR:-default}`.
import { formatPath } from './errors.js';

const PATTERN = /\$\$\{|\$\{([A-Za-z0-9_-]+)(?:(:[-?]|\?)((?:[^{}]|\{[^{}]*\})*))?\}/g;

/**
 * Returns a copy of `value` with variables substituted; problems (missing variables) are pushed
 * to `problems` with their config path.
 *
 * An object with `range: { label: X }` (SnmpGet's metrics) leaves `${X}` in its other strings for
 * the range to expand when no variable X is set, as the Python pollect does.
 */
export function substituteEnv(
  value: unknown,
  env: NodeJS.ProcessEnv,
  problems: string[],
  path: (string | number)[] = [],
  placeholders: readonly string[] = [],
): unknown {
  if (typeof value === 'string') return substituteString(value, env, problems, path, placeholders);
  if (Array.isArray(value)) return value.map((v, i) => substituteEnv(v, env, problems, [...path, i], placeholders));
  if (value !== null && typeof value === 'object') {
    const label = rangeLabel(value);
    const inner = label === undefined ? placeholders : [...placeholders, label];
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = substituteEnv(v, env, problems, [...path, k], k === 'range' ? placeholders : inner);
    return out;
  }
  return value;
}

function rangeLabel(obj: object): string | undefined {
  const range = (obj as { range?: unknown }).range;
  const label = range !== null && typeof range === 'object' ? (range as { label?: unknown }).label : undefined;
  return typeof label === 'string' ? label : undefined;
}

function substituteString(s: string, env: NodeJS.ProcessEnv, problems: string[], path: (string | number)[], placeholders: readonly string[]): string {
  if (!s.includes('$')) return s;
  return s.replace(PATTERN, (match, name: string | undefined, op: string | undefined, arg: string | undefined) => {
    if (match === '$${') return '${';
    const v = env[name!];
    const unsetOrEmpty = v === undefined || (op?.startsWith(':') && v === '');
    if (op === undefined) {
      if (v === undefined) {
        if (placeholders.includes(name!)) return match;
        problems.push(
          `${formatPath(path)}: environment variable ${name} is not set (write \${${name}:-default} for a default, $\${${name}} for a literal \${${name}})`,
        );
        return '';
      }
      return v;
    }
    if (op === ':-') return unsetOrEmpty ? substituteString(arg ?? '', env, problems, path, placeholders) : v!;
    // `?`: required, with a message of the user's own
    if (unsetOrEmpty) {
      problems.push(`${formatPath(path)}: ${name}: ${arg || 'environment variable is not set'}`);
      return '';
    }
    return v!;
  });
}
