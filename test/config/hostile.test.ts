// Config files an attacker or a careless editor writes: each is a config error naming the file,
// never a crash, a stack trace or a silent exit.
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { writeFileSync, mkdirSync } from 'node:fs';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { loadConfig } from '../../src/config/load.js';
import { ConfigError } from '../../src/config/errors.js';
import { PLUGIN_LOAD_TIMEOUT_MS, resolveSourceClass } from '../../src/config/plugins.js';
import { MAX_CONFIG_DEPTH } from '../../src/config/parse.js';
import { tempDir as makeTempDir } from '../helpers/net.js';

const BIN = path.resolve(import.meta.dirname, '../../bin/pollect.js');

async function problemsOf(file: string): Promise<string[]> {
  try {
    await loadConfig(file, { writersOptional: true });
  } catch (err) {
    if (err instanceof ConfigError) return [...err.problems];
    throw err;
  }
  throw new Error('expected the config to be rejected');
}

const temps: { remove: () => void }[] = [];
afterAll(() => temps.forEach((t) => t.remove()));
function tempDir(): string {
  const t = makeTempDir();
  temps.push(t);
  return t.dir;
}

function write(name: string, text: string | Buffer): string {
  const file = path.join(tempDir(), name);
  writeFileSync(file, text);
  return file;
}

describe('hostile config files', () => {
  it('a UTF-8 byte order mark is accepted', async () => {
    const body = '{"executors":[{"sources":[{"type":"Dummy"}]}]}';
    const file = write('bom.json', Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(body)]));
    const cfg = await loadConfig(file, { writersOptional: true });
    expect(cfg.executors[0]!.sources[0]!.typeName).toBe('Dummy');
  });

  it('200,000 levels of valid JSON: refused with the file name', async () => {
    const d = 200_000;
    const file = write('deep.json', `{"executors":${'['.repeat(d)}${']'.repeat(d)}}`);
    expect(await problemsOf(file)).toEqual([`${file}: nested more than ${MAX_CONFIG_DEPTH} levels deep`]);
  });

  it('200,000 levels of broken JSON: refused with the file name', async () => {
    const d = 200_000;
    const file = write('deepbad.json', `{"executors":${'['.repeat(d)}${']'.repeat(d - 1)}}`);
    const [line] = await problemsOf(file);
    expect(line).toMatch(new RegExp(`^${file.replace(/[/.]/g, '\\$&')}(:\\d+:\\d+)?: (invalid JSON: )?nested too deeply$`));
  });

  it('a YAML alias bomb is refused before it expands', async () => {
    const lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
    let prev = 'a';
    for (const n of 'bcdefghi') {
      lines.push(`${n}: &${n} [${Array(9).fill(`*${prev}`).join(',')}]`);
      prev = n;
    }
    lines.push('executors: [{sources: [{type: Dummy}]}]');
    const file = write('bomb.yaml', lines.join('\n') + '\n');
    const started = Date.now();
    const [line] = await problemsOf(file);
    expect(line).toBe(`${file}: invalid YAML: Excessive alias count indicates a resource exhaustion attack`);
    expect(Date.now() - started).toBeLessThan(5_000);
  });
});

describe('hostile plugin files', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('a top-level await that never settles is an error after the load timeout', async () => {
    const dir = tempDir();
    writeFileSync(path.join(dir, 'HangSource.mjs'), 'await new Promise(() => {});\nexport class HangSource { probe() { return 1; } }\n');
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const loading = resolveSourceClass('./HangSource.mjs', dir, []);
    const settled = expect(loading).rejects.toThrow(`did not finish loading within ${PLUGIN_LOAD_TIMEOUT_MS / 1000} s`);
    await vi.advanceTimersByTimeAsync(PLUGIN_LOAD_TIMEOUT_MS);
    await settled;
  });

  it('a TypeScript syntax error names the line, column and reason (installed build, through the launcher)', async () => {
    const dir = tempDir();
    mkdirSync(path.join(dir, 'p'));
    writeFileSync(
      path.join(dir, 'p', 'BadSource.ts'),
      "import { Source } from 'pollect';\nexport class BadSource extends Source {\n  probe(): number {\n    return 1 +;\n  }\n}\n",
    );
    const config = path.join(dir, 'c.json');
    writeFileSync(config, '{"executors":[{"sources":[{"type":"./p/BadSource.ts"}]}]}');
    const { code, stderr } = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
      const child = execFile(process.execPath, [BIN, '-c', config, '--check', '--dry-run'], (err, _out, stderr) =>
        resolve({ code: err ? ((err as { code?: number }).code ?? null) : 0, stderr }),
      );
      child.stdin?.end();
    });
    expect(code).toBe(2);
    expect(stderr).toContain(
      `executors[0].sources[0].type: cannot load plugin ${path.join(dir, 'p', 'BadSource.ts')}: ${path.join(dir, 'p', 'BadSource.ts')}:4:15: Unexpected ";"`,
    );
  });
});
