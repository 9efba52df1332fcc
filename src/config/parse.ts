// Finds the config file and parses it as JSON (comments allowed, as the Python pollect's
// samples have them) or YAML, with line and column in every syntax error.
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { ConfigError } from './errors.js';
import { locateJsonError } from '../core/json-locate.js';

const EXTENSIONS = ['.yml', '.yaml', '.json'];

/** Without `-c`: pollect's own names, then the Python pollect's default (`config.yml`, `config.json`). */
const DEFAULT_NAMES = ['pollect', 'config'];

/**
 * `-c NAME` without an extension tries NAME.yml, NAME.yaml, NAME.json (as pollect does); without
 * a name, `pollect` and then `config` in the working directory.
 */
export function resolveConfigPath(name?: string, cwd = process.cwd()): string {
  if (name === undefined) {
    const tried: string[] = [];
    for (const base of DEFAULT_NAMES) {
      try {
        return resolveConfigPath(path.join(cwd, base));
      } catch {
        tried.push(base, ...EXTENSIONS.map((e) => base + e));
      }
    }
    throw new ConfigError([`config file not found: tried ${tried.join(', ')} in ${cwd} (name one with -c)`]);
  }
  if (existsSync(name) && statSync(name).isFile()) return path.resolve(name);
  if (!path.extname(name)) {
    for (const ext of EXTENSIONS) if (existsSync(name + ext)) return path.resolve(name + ext);
    throw new ConfigError([`config file not found: tried ${[name, ...EXTENSIONS.map((e) => name + e)].join(', ')}`]);
  }
  throw new ConfigError([`config file not found: ${name}`]);
}

export async function readConfigFile(file: string): Promise<unknown> {
  return (await readConfig(file)).value;
}

/** The parsed config, and whether it was YAML (where yes/no/on/off may stand for booleans). */
export async function readConfig(file: string): Promise<{ value: unknown; yaml: boolean }> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError([`cannot read config file ${file}: ${(err as Error).message}`]);
  }
  const yaml = isYaml(text, file);
  return { value: await parseConfigText(text, file), yaml };
}

/** JSON for .json and .jsonc, YAML for .yml and .yaml; any other name: JSON if it looks like JSON. */
function isYaml(text: string, file: string): boolean {
  const ext = path.extname(file).toLowerCase();
  if (ext === '.yml' || ext === '.yaml') return true;
  if (ext === '.json' || ext === '.jsonc') return false;
  return !/^\s*[{[]/.test(text);
}

export async function parseConfigText(raw: string, file: string): Promise<unknown> {
  // Editors on Windows save UTF-8 with a byte order mark; JSON.parse would reject it.
  const text = raw.charCodeAt(0) === 0xfeff ? raw.slice(1) : raw;
  const value = isYaml(text, file) ? await parseYaml(text, file) : parseJson(text, file);
  checkDepth(value, file);
  return value;
}

/** Deeper than any real config; the loader's recursive steps stay far from the stack's limit. */
export const MAX_CONFIG_DEPTH = 64;

/** Refuses a config nested deeper than MAX_CONFIG_DEPTH (walked without recursion, so any depth is safe to check). */
function checkDepth(value: unknown, file: string): void {
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length) {
    const [v, depth] = stack.pop()!;
    if (v === null || typeof v !== 'object') continue;
    if (depth >= MAX_CONFIG_DEPTH) throw new ConfigError([`${file}: nested more than ${MAX_CONFIG_DEPTH} levels deep`]);
    for (const child of Object.values(v)) stack.push([child, depth + 1]);
  }
}

export function parseJson(text: string, file: string): unknown {
  const stripped = stripJsonComments(text);
  try {
    return JSON.parse(stripped);
  } catch (err) {
    // Too deep for the parser's stack: say so rather than look for a syntax error.
    if (err instanceof RangeError) throw new ConfigError([`${file}: nested too deeply`]);
    const problem = locateJsonError(stripped);
    if (!problem) throw new ConfigError([`${file}: invalid JSON: ${(err as Error).message}`]);
    const where = lineColumn(stripped, problem.offset);
    throw new ConfigError([`${file}:${where.line}:${where.column}: invalid JSON: ${problem.message}`]);
  }
}

async function parseYaml(text: string, file: string): Promise<unknown> {
  const { parseDocument, LineCounter } = await import('yaml');
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { prettyErrors: false, uniqueKeys: true, lineCounter });
  if (doc.errors.length > 0) {
    throw new ConfigError(
      doc.errors.map((e) => {
        const lp = lineCounter.linePos(e.pos[0]);
        return `${file}:${lp.line}:${lp.col}: invalid YAML: ${e.message.split('\n')[0]}`;
      }),
    );
  }
  try {
    // maxAliasCount bounds what aliases expand to (a "billion laughs" file).
    return doc.toJS({ maxAliasCount: 1000 });
  } catch (err) {
    throw new ConfigError([`${file}: invalid YAML: ${(err as Error).message.split('\n')[0]}`]);
  }
}

function lineColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: offset - lineStart + 1 };
}

/** Replaces // and /* *\/ comments outside strings with spaces, so offsets stay where they were. */
export function stripJsonComments(text: string): string {
  let out = '';
  let i = 0;
  const n = text.length;
  while (i < n) {
    const c = text[i]!;
    if (c === '"') {
      const start = i++;
      while (i < n && text[i] !== '"') i += text[i] === '\\' ? 2 : 1;
      i++;
      out += text.slice(start, i);
    } else if (c === '/' && text[i + 1] === '/') {
      while (i < n && text[i] !== '\n') {
        out += ' ';
        i++;
      }
    } else if (c === '/' && text[i + 1] === '*') {
      const end = text.indexOf('*/', i + 2);
      const stop = end === -1 ? n : end + 2;
      out += text.slice(i, stop).replace(/[^\n]/g, ' ');
      i = stop;
    } else {
      out += c;
      i++;
    }
  }
  return out;
}
