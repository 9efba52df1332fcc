// Regex params in the Python pollect's syntax: translated where JavaScript means the same,
// refused (a ParamError, so at --check) where it does not.
import { describe, expect, it } from 'vitest';
import { compileRegex } from '../../src/sdk/params.js';
import { translatePythonRegex } from '../../src/sdk/regex.js';

describe("Python's re syntax in regex params", () => {
  it('translates inline flags at the start, named groups and their back-references, \\A and \\Z', () => {
    expect(translatePythonRegex('(?i)^nginx')).toEqual({ source: '^nginx', flags: 'i' });
    expect(translatePythonRegex('(?si)a.b')).toEqual({ source: 'a.b', flags: 'si' });
    const re = compileRegex('procRegex', '(?i)(?P<name>java|python)\\s+(?P=name)\\Z');
    expect(re.exec('x PYTHON python')?.groups).toEqual({ name: 'PYTHON' });
    expect(re.test('java javaZ')).toBe(false);
    expect(compileRegex('p', '\\Ansd[a-z]\\Z').test('nsda')).toBe(true);
    expect(compileRegex('p', '\\Ansd[a-z]\\Z').test('xnsda')).toBe(false);
    // \Z stays the end of the input with (?m), where $ would match before a newline.
    expect(compileRegex('p', '(?m)a\\Z').test('a\nb')).toBe(false);
    expect(compileRegex('p', '(?m)a$').test('a\nb')).toBe(true);
  });

  it('leaves character classes and escapes alone, and JavaScript patterns as they are', () => {
    expect(translatePythonRegex('[\\Z(?P<x>]').source).toBe('[\\Z(?P<x>]');
    expect(translatePythonRegex('[]\\]]a').source).toBe('[\\]\\]]a');
    expect(translatePythonRegex('(?<n>a)\\k<n>(?:b)(?=c)(?!d)(?<=e)').source).toBe('(?<n>a)\\k<n>(?:b)(?=c)(?!d)(?<=e)');
    // pollect.json's SmartCtl pattern: an unterminated class in Python too (re.error at its start).
    expect(() => compileRegex('devices[0]', 'sd[a-z}+$')).toThrow(/invalid regex "sd\[a-z\}\+\$": Unterminated character class/);
  });

  it('refuses what JavaScript cannot say, naming the param', () => {
    expect(() => compileRegex('procRegex', '(?x) a  b # comment')).toThrow(/invalid regex .*verbose mode \(\?x\)/);
    expect(() => compileRegex('procRegex', 'a(?i)b')).toThrow(/inline flags such as \(\?i\) must be at the start/);
    expect(() => compileRegex('procRegex', '(?L)a')).toThrow(/inline flag "L" is not supported/);
    expect(() => compileRegex('devices[0]', '(?P<1x>a)')).toThrow(expect.objectContaining({ name: 'ParamError', param: 'devices[0]' }));
  });
});
