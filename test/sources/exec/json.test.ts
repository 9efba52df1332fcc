import { describe, it, expect } from 'vitest';
import { parseOutput } from '../../../src/sources/exec/formats.js';
import { JsonLineParser } from '../../../src/sources/exec/json.js';
import { valueOf } from '../../helpers/probe.js';

describe('json output', () => {
  it('reads a number', () => {
    expect(parseOutput('json', '42\n')).toEqual([{ value: 42 }]);
  });

  it('reads a record, flattening nested objects, booleans as 1/0, skipping null', () => {
    const text = JSON.stringify({ queue: { depth: 12, workers: { busy: 3, idle: 1 } }, healthy: true, last_error: null, ratio: 0.25 }, null, 2);
    const s = parseOutput('json', text);
    expect(s).toEqual([
      { name: 'queue.depth', value: 12 },
      { name: 'queue.workers.busy', value: 3 },
      { name: 'queue.workers.idle', value: 1 },
      { name: 'healthy', value: 1 },
      { name: 'ratio', value: 0.25 },
    ]);
  });

  it('reads a list of samples', () => {
    const text = JSON.stringify([
      { name: 'requests', value: 1027, labels: { code: '200', port: 8080 }, type: 'counter', help: 'Requests' },
      { value: 3, unit: 'ms' },
    ]);
    const s = parseOutput('json', text);
    expect(valueOf(s, 'requests', { code: '200', port: '8080' })).toBe(1027);
    expect(s[0]).toMatchObject({ type: 'counter', help: 'Requests' });
    expect(s[1]).toEqual({ value: 3, unit: 'ms' });
  });

  it('gives clear errors, with the line of a syntax error', () => {
    expect(() => parseOutput('json', '{\n  "a": 1,\n  "b": oops\n}')).toThrow(/^line 3: invalid JSON/);
    expect(() => parseOutput('json', '')).toThrow(/printed nothing/);
    expect(() => parseOutput('json', '"text"')).toThrow(/expected a number, an object or a list of samples, got a string/);
    expect(() => parseOutput('json', '{"a": "12"}')).toThrow(/"a" is a string \("12"\), not a number/);
    expect(() => parseOutput('json', '{"a": [1]}')).toThrow(/"a" is a list, not a number/);
    expect(() => parseOutput('json', '[{"name": "x"}]')).toThrow(/sample 0: "value" must be a finite number/);
    expect(() => parseOutput('json', '[{"value": 1, "labels": {"a": {}}}]')).toThrow(/label "a" must be a string/);
    expect(() => parseOutput('json', '[{"value": 1, "type": "histogram"}]')).toThrow(/"type" must be "gauge" or "counter"/);
    expect(() => parseOutput('json', '[{"value": 1, "colour": "red"}]')).toThrow(/unknown key "colour"/);
    expect(() => parseOutput('json', '[1, 2]')).toThrow(/sample 0 is a number, not an object/);
  });

  it('reads one document per line in long-running mode', () => {
    const p = new JsonLineParser();
    expect(p.line('{"a": 1}')).toEqual([{ name: 'a', value: 1 }]);
    expect(p.line('')).toEqual([]);
    expect(() => p.line('{"a": ')).toThrow(/invalid JSON/);
  });
});
