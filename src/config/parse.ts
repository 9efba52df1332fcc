// Finds the config file and parses it as JSON (comments allowed, as the Python pollect's
// samples have them) or YAML, with line and column in every syntax error.
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { ConfigError } from './errors.js';
import { locateJsonError } from '../core/json-locate.js';

const EXTENSIONS = ['.yml', '.yaml', '.json'];

/** `-c NAME` without an extension tries NAME.yml, NAME.yaml, NAME.json (as pollect does). */
export function resolveConfigPath(name: string): string {
  if (existsSync(name) && statSync(name).isFile()) return path.resolve(name);
  if (!path.extname(name)) {
    for (const ext of EXTENSIONS) if (existsSync(name + ext)) return path.resolve(name + ext);
    throw new ConfigError([`config file not found: tried ${[name, ...EXTENSIONS.map((e) => name + e)].join(', ')}`]);
  }
  throw new ConfigError([`config file not found: ${name}`]);
}

export async function readConfigFile(file: string): Promise<unknown> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError([`cannot read config file ${file}: ${(err as Error).message}`]);
  }
  return parseConfigText(text, file);
}

export async function parseConfigText(text: string, file: string): Promise<unknown> {
  const ext = path.extname(file).toLowerCase();
  if (ext === '.yml' || ext === '.yaml') return parseYaml(text, file);
  if (ext === '.json' || ext === '.jsonc') return parseJson(text, file);
  // No telling extension: JSON if it looks like JSON, else YAML.
  return /^\s*[{[]/.test(text) ? parseJson(text, file) : parseYaml(text, file);
}

export function parseJson(text: string, file: string): unknown {
  const stripped = stripJsonComments(text);
  try {
    return JSON.parse(stripped);
  } catch (err) {
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
  return doc.toJS();
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
