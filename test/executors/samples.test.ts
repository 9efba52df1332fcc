import { describe, expect, it } from 'vitest';
import { checkSample, toSamples } from '../../src/executors/samples.js';
import type { ProbeResult } from '../../src/sdk/index.js';

function collect(result: unknown): { samples: unknown[]; rejected: string[] } {
  const rejected: string[] = [];
  const samples = toSamples(result as ProbeResult, (r) => rejected.push(r));
  return { samples, rejected };
}

describe('toSamples', () => {
  it('takes a number, a record of numbers and a list of samples', () => {
    expect(collect(5).samples).toEqual([{ value: 5 }]);
    expect(collect({ a: 1, b: 2 }).samples).toEqual([
      { name: 'a', value: 1 },
      { name: 'b', value: 2 },
    ]);
    expect(collect([{ name: 'x', value: 3, type: 'counter' }]).samples).toEqual([{ name: 'x', value: 3, type: 'counter' }]);
    expect(collect(undefined).samples).toEqual([]);
  });

  it.each([
    [new Date(0), 'a Date'],
    [new Map([['a', 1]]), 'a Map'],
    [new Number(5), 'a Number'],
    ['5', '"5"'],
    [true, 'true'],
    [() => 1, 'a function'],
  ])('names what came back when the result has the wrong shape: %s', (result, what) => {
    expect(() => collect(result)).toThrow(`probe() returned ${what}; expected a number, a record of numbers or a list of samples`);
  });

  it("never calls a returned object's own toString (which may throw)", () => {
    const hostile = [
      {
        value: {
          toString: () => {
            throw new Error('boom');
          },
        },
      },
    ];
    const { samples, rejected } = collect(hostile);
    expect(samples).toEqual([]);
    expect(rejected).toEqual(['sample (unnamed): value an object is not a number']);
  });

  it('takes a record with a null prototype', () => {
    const r = Object.create(null) as Record<string, number>;
    r.a = 1;
    expect(collect(r).samples).toEqual([{ name: 'a', value: 1 }]);
  });

  it('leaves a bad sample out, keeps the others and says why', () => {
    const { samples, rejected } = collect([
      { name: 'ok', value: 1 },
      { name: 'bad_type', value: 1, type: 'foo bar' },
      { name: 'bad_part_of', value: 1, partOf: 'gaugehistogram' },
      { name: 'bad_label', value: 1, labels: { a: { nested: 1 } } },
      { name: 'inf', value: Infinity },
      { name: 'text', value: 'abc' },
      { name: 'line\nbreak', value: 1 },
      null,
      { name: 'bad_naming', value: 1, naming: 'graphite' },
      { name: 'also_ok', value: 2 },
      { name: 'raw', value: 3, naming: 'prometheus' },
    ]);
    expect(samples).toEqual([
      { name: 'ok', value: 1 },
      { name: 'also_ok', value: 2 },
      { name: 'raw', value: 3, naming: 'prometheus' },
    ]);
    expect(rejected).toEqual([
      'sample "bad_type": type "foo bar" is not "gauge" or "counter"',
      'sample "bad_part_of": partOf "gaugehistogram" is not "histogram" or "summary"',
      'sample "bad_label": label "a" is an object, not a string',
      'sample "inf": value Infinity is not a number',
      'sample "text": value "abc" is not a number',
      'sample name "line\\nbreak" is not a non-empty string without control characters',
      'a sample must be an object, not null',
      'sample "bad_naming": naming "graphite" is not "pollect" or "prometheus"',
    ]);
  });

  it("coerces numbers that are only spelled differently, without touching the source's objects", () => {
    const labels = { port: 8080, up: true, name: 'x' } as unknown as Record<string, string>;
    const sample = { name: 'n', value: '42', labels };
    const { samples, rejected } = collect([sample, { name: 'big', value: 7n }, { name: 'boxed', value: new Number(3) }]);
    expect(rejected).toEqual([]);
    expect(samples).toEqual([
      { name: 'n', value: 42, labels: { port: '8080', up: 'true', name: 'x' } },
      { name: 'big', value: 7 },
      { name: 'boxed', value: 3 },
    ]);
    expect(sample.value).toBe('42');
    expect(labels.port).toBe(8080);
  });

  it('keeps NaN, which a source may report on purpose', () => {
    const s = checkSample({ name: 'n', value: NaN });
    expect(typeof s).toBe('object');
    expect((s as { value: number }).value).toBeNaN();
  });

  it('returns the very sample object when nothing needs fixing', () => {
    const s = { name: 'n', value: 1, labels: { a: 'b' } };
    expect(checkSample(s)).toBe(s);
  });
});
