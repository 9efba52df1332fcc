// ${VAR}, ${VAR:-default} and ${VAR:?message} in every string of the config; $${ is a literal ${.
import { formatPath } from './errors.js';

const PATTERN = /\$\$\{|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])((?:[^{}]|\{[^{}]*\})*))?\}/g;

/**
 * Returns a copy of `value` with variables substituted; problems (missing variables) are pushed
 * to `problems` with their config path.
 */
export function substituteEnv(value: unknown, env: NodeJS.ProcessEnv, problems: string[], path: (string | number)[] = []): unknown {
  if (typeof value === 'string') return substituteString(value, env, problems, path);
  if (Array.isArray(value)) return value.map((v, i) => substituteEnv(v, env, problems, [...path, i]));
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = substituteEnv(v, env, problems, [...path, k]);
    return out;
  }
  return value;
}

function substituteString(s: string, env: NodeJS.ProcessEnv, problems: string[], path: (string | number)[]): string {
  if (!s.includes('$')) return s;
  return s.replace(PATTERN, (match, name: string | undefined, op: string | undefined, arg: string | undefined) => {
    if (match === '$${') return '${';
    const v = env[name!];
    const unsetOrEmpty = v === undefined || ((op?.startsWith(':') ?? false) && v === '');
    if (op === undefined) {
      if (v === undefined) {
        problems.push(
          `${formatPath(path)}: environment variable ${name} is not set (write \${${name}:-default} for a default, $\${${name}} for a literal \${${name}})`,
        );
        return '';
      }
      return v;
    }
    if (op.endsWith('-')) return unsetOrEmpty ? substituteString(arg ?? '', env, problems, path) : v!;
    // `?`: required, with a message of the user's own
    if (unsetOrEmpty) {
      problems.push(`${formatPath(path)}: ${name}: ${arg || 'environment variable is not set'}`);
      return '';
    }
    return v!;
  });
}
