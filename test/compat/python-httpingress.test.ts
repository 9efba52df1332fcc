// The Python pollect's tests/test_httpIngressSource.py (../shared/fixtures/pollect-tests/tests/,
// MIT), ported: counter and gauge pushes as there, plus the bodies it accepts (a numeric string
// value, no value at all) and its default address (every interface).
import { afterEach, describe, expect, it } from 'vitest';
import { HttpIngressSource } from '../../src/sources/httpingress/index.js';
import { createLogger } from '../../src/log.js';
import { build } from '../helpers/plugin.js';
import { probeOnce } from '../helpers/probe.js';

const log = createLogger('test', { level: 'error', write: () => {} });
const running: HttpIngressSource[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((s) => s.shutdown()));
});

async function start(type?: 'counter'): Promise<{ src: HttpIngressSource; url: string }> {
  // The Python tests' config, on a free port.
  const src = build(HttpIngressSource, { type: 'HttpIngress', port: 0, metrics: { sample_metric: { ...(type && { type }), labels: ['host'] } } });
  await src.init({ log, tickTime: 10, configDir: '.', signal: AbortSignal.timeout(10_000) });
  running.push(src);
  return { src, url: `http://127.0.0.1:${src.boundPort}` };
}

async function push(url: string, entry: object): Promise<number> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ metrics: { sample_metric: entry } }),
  });
  await res.arrayBuffer();
  return res.status;
}

describe('test_httpIngressSource', () => {
  it('test_counter: nothing before a push, then 1, then 1 + 2 = 3', async () => {
    const { src, url } = await start('counter');
    expect(await probeOnce(src)).toEqual([]);
    expect(await push(url, { value: 1, labels: { host: 'a' } })).toBe(200);
    let values = await probeOnce(src);
    expect(values).toHaveLength(1);
    expect(values[0]!.value).toBe(1);
    expect(await push(url, { value: 2, labels: { host: 'a' } })).toBe(200);
    values = await probeOnce(src);
    expect(values).toHaveLength(1);
    expect(values[0]!.value).toBe(3);
  });

  it('test_gauge: nothing before a push, then 1, then 2', async () => {
    const { src, url } = await start();
    expect(await probeOnce(src)).toEqual([]);
    expect(await push(url, { value: 1, labels: { host: 'a' } })).toBe(200);
    expect((await probeOnce(src)).map((v) => v.value)).toEqual([1]);
    expect(await push(url, { value: 2, labels: { host: 'a' } })).toBe(200);
    expect((await probeOnce(src)).map((v) => v.value)).toEqual([2]);
  });

  it("takes the Python pollect's bodies: a numeric string value, and no value (0)", async () => {
    const { src, url } = await start('counter');
    expect(await push(url, { value: '5', labels: { host: 'a' } })).toBe(200);
    expect(await push(url, { value: ' 2.5 ', labels: { host: 'a' } })).toBe(200);
    expect(await push(url, { labels: { host: 'b' } })).toBe(200);
    const values = await probeOnce(src);
    expect(values.map((v) => [v.labels!.host, v.value])).toEqual([
      ['a', 7.5],
      ['b', 0],
    ]);
  });

  it('listens on every interface by default, as there (a push receiver is for other hosts)', () => {
    expect(build(HttpIngressSource, { type: 'HttpIngress', port: 0, metrics: { m: {} } }).config.host).toBe('0.0.0.0');
  });
});
