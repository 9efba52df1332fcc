import { fixtureDir } from '../helpers/fixtures.js';
import { describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseConfigText, parseJson, resolveConfigPath, stripJsonComments } from '../../src/config/parse.js';
import { ConfigError } from '../../src/config/errors.js';
import { tempDir } from '../helpers/net.js';

const SNIPPETS = fixtureDir('pollect', 'readme-snippets');

function problemsOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) return [...err.problems];
    throw err;
  }
  throw new Error('expected a ConfigError');
}

async function asyncProblems(p: Promise<unknown>): Promise<string[]> {
  try {
    await p;
  } catch (err) {
    if (err instanceof ConfigError) return [...err.problems];
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('JSON', () => {
  it('gives line and column of a syntax error', () => {
    expect(problemsOf(() => parseJson('{\n  "a": 1,\n  "b": }\n', 'c.json'))).toEqual(["c.json:3:8: invalid JSON: unexpected '}'"]);
    expect(problemsOf(() => parseJson('{\n  "a": 1,\n}', 'c.json'))).toEqual(['c.json:3:1: invalid JSON: trailing comma before }']);
    expect(problemsOf(() => parseJson('{"a": [1, 2}', 'c.json'))).toEqual(["c.json:1:12: invalid JSON: expected ',' or ']' but found '}'"]);
    expect(problemsOf(() => parseJson('{"a": 1', 'c.json'))).toEqual(["c.json:1:8: invalid JSON: expected ',' or '}' but found end of input"]);
    expect(problemsOf(() => parseJson('{a: 1}', 'c.json'))).toEqual(["c.json:1:2: invalid JSON: expected a double-quoted key but found 'a'"]);
  });

  it('accepts // and /* */ comments (the Python pollect samples have them) without moving positions', () => {
    const text = readFileSync(path.join(SNIPPETS, '03-google-play-developer-console-gdc.jsonc'), 'utf8');
    const parsed = parseJson(text, 'gdc.jsonc') as Record<string, unknown>;
    expect(parsed.type).toBe('Gdc');
    expect(parsed.bucketName).toBe('pubsite_prod_rev_1234');
    const s = stripJsonComments('{"url": "http://x//y", /* c */ "a": 1} // end');
    expect(JSON.parse(s)).toEqual({ url: 'http://x//y', a: 1 });
    expect(s.length).toBe('{"url": "http://x//y", /* c */ "a": 1} // end'.length);
  });

  it('parses the Python pollect sample pollect.json (tab indented)', () => {
    const text = readFileSync(path.resolve(SNIPPETS, '../pollect.json'), 'utf8');
    const parsed = parseJson(text, 'pollect.json') as { executors: unknown[] };
    expect(parsed.executors).toHaveLength(3);
  });
});

describe('YAML', () => {
  it('parses the pollect README config', async () => {
    const text = readFileSync(path.join(SNIPPETS, '01-config.yml'), 'utf8');
    const parsed = (await parseConfigText(text, '01-config.yml')) as { executors: { collection: string }[] };
    expect(parsed.executors.map((e) => e.collection)).toEqual(['pollect', 'slowerMetrics']);
  });

  it('reports the invalid README snippet with line and column', async () => {
    const text = readFileSync(path.join(SNIPPETS, '12-extensions-source-INVALID-YAML.yml'), 'utf8');
    const problems = await asyncProblems(parseConfigText(text, 'ext.yml'));
    expect(problems.length).toBeGreaterThan(0);
    expect(problems[0]).toMatch(/^ext\.yml:\d+:\d+: invalid YAML: /);
  });

  it('rejects duplicate keys', async () => {
    const problems = await asyncProblems(parseConfigText('tickTime: 1\ntickTime: 2\n', 'd.yaml'));
    expect(problems[0]).toMatch(/^d\.yaml:2:1: invalid YAML: .*[Uu]nique/);
  });
});

describe('finding the file', () => {
  it("without a name: pollect.*, then the Python pollect's config.yml / config.json", () => {
    const t = tempDir();
    try {
      expect(problemsOf(() => resolveConfigPath(undefined, t.dir))[0]).toBe(
        `config file not found: tried pollect, pollect.yml, pollect.yaml, pollect.json, config, config.yml, config.yaml, config.json in ${t.dir} (name one with -c)`,
      );
      writeFileSync(path.join(t.dir, 'config.json'), '{}');
      expect(resolveConfigPath(undefined, t.dir)).toBe(path.join(t.dir, 'config.json'));
      writeFileSync(path.join(t.dir, 'config.yml'), '{}');
      expect(resolveConfigPath(undefined, t.dir)).toBe(path.join(t.dir, 'config.yml'));
      writeFileSync(path.join(t.dir, 'pollect.json'), '{}');
      expect(resolveConfigPath(undefined, t.dir)).toBe(path.join(t.dir, 'pollect.json'));
    } finally {
      t.remove();
    }
  });

  it('tries NAME.yml, NAME.yaml, NAME.json for a name without extension', () => {
    const t = tempDir();
    try {
      writeFileSync(path.join(t.dir, 'cfg.yaml'), 'executors: []');
      writeFileSync(path.join(t.dir, 'cfg.json'), '{}');
      expect(resolveConfigPath(path.join(t.dir, 'cfg'))).toBe(path.join(t.dir, 'cfg.yaml'));
      writeFileSync(path.join(t.dir, 'cfg.yml'), 'executors: []');
      expect(resolveConfigPath(path.join(t.dir, 'cfg'))).toBe(path.join(t.dir, 'cfg.yml'));
      expect(problemsOf(() => resolveConfigPath(path.join(t.dir, 'nope')))[0]).toMatch(
        /config file not found: tried .*nope, .*nope\.yml, .*nope\.yaml, .*nope\.json/,
      );
    } finally {
      t.remove();
    }
  });
});
