// Zfs: the line parser on the Python pollect's test line, then the source driving a fake `zpool`
// on PATH through the child supervisor (the Python test_ZfsSource.py values), and broken output.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseZpoolIostatLine } from '../../src/sources/zfs/parse.js';
import { ZfsSource } from '../../src/sources/zfs/index.js';
import type { Sample } from '../../src/sdk/index.js';
import { initSource, probeOnce, valueOf } from '../helpers/probe.js';
import { tempDir } from '../helpers/net.js';
import { build, type ParamsOf } from '../helpers/plugin.js';
import { validate } from '../helpers/validate.js';

// tests/test_ZfsSource.py of the Python pollect (../shared/fixtures/pollect-tests/tests/).
const PY_LINE = 'pool1\t5975907581952\t24020144013312\t85\t290\t348241\t14127899';

describe('zpool iostat -Hp line parser', () => {
  it("reads the Python test's line", () => {
    expect(parseZpoolIostatLine(PY_LINE)).toEqual({
      pool: 'pool1',
      alloc: 5975907581952,
      free: 24020144013312,
      readOps: 85,
      writeOps: 290,
      readBytes: 348241,
      writeBytes: 14127899,
    });
  });
  it('refuses short lines, human-readable numbers and an unavailable pool', () => {
    expect(() => parseZpoolIostatLine('pool1 5975907581952 24020144013312 85 290 348241 14127899')).toThrow(/1 tab-separated fields, expected 7/);
    expect(() => parseZpoolIostatLine('pool1\t5.4T\t21.8T\t85\t290\t340K\t13.5M')).toThrow(/pool pool1: alloc is "5.4T", not a number/);
    expect(() => parseZpoolIostatLine('tank\t-\t-\t-\t-\t-\t-')).toThrow(/alloc is "-"/);
    expect(() => parseZpoolIostatLine('\t1\t2\t3\t4\t5\t6')).toThrow(/no pool name/);
    expect(() => parseZpoolIostatLine("cannot open 'x': no such pool")).toThrow(/not a zpool iostat/);
  });
});

let dir: string;
let removeDir: () => void;
beforeAll(() => {
  ({ dir, remove: removeDir } = tempDir('pollect-zfs-'));
});
afterAll(() => removeDir());

/** A fake `zpool` in its own folder: records its args, then runs `body`. */
function fakeZpool(name: string, body: string): string {
  const bin = path.join(dir, name);
  mkdirSync(bin, { recursive: true });
  const file = path.join(bin, 'zpool');
  writeFileSync(file, `#!/bin/sh\necho "$@" > '${file}.args'\n${body}\n`);
  chmodSync(file, 0o755);
  return bin;
}

const sources: ZfsSource[] = [];
function make(params: ParamsOf<typeof ZfsSource>): ZfsSource {
  const s = build(ZfsSource, params);
  sources.push(s);
  return s;
}
afterEach(async () => {
  for (const s of sources.splice(0)) await s.shutdown();
});
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function probeUntil(src: ZfsSource, ok: (r: Sample[] | Error) => boolean, ms = 10_000): Promise<Sample[] | Error> {
  const until = Date.now() + ms;
  for (;;) {
    const r = await probeOnce(src, { timeoutMs: 2000 }).catch((e: Error) => e);
    if (ok(r) || Date.now() > until) return r;
    await sleep(50);
  }
}

/** The boot line first (since-boot averages), then the Python test's line every 50 ms. */
const BOOT = 'pool1\t5975907581952\t24020144013312\t1\t2\t3\t4';
const printing = `printf '${BOOT.replaceAll('\t', '\\t')}\\n'; while :; do printf '${PY_LINE.replaceAll('\t', '\\t')}\\n'; sleep 0.05; done`;

describe('Zfs source with a fake zpool on PATH', () => {
  it("runs `zpool iostat -Hp 10` from PATH and reports the Python test's values", async () => {
    const bin = fakeZpool('py', printing);
    const savedPath = process.env.PATH;
    process.env.PATH = `${bin}:${savedPath}`;
    try {
      const src = make({});
      await initSource(src);
      const r = await probeUntil(src, (x) => Array.isArray(x) && valueOf(x, 'operations_per_sec', { io: 'read' }) === 85);
      expect(Array.isArray(r)).toBe(true);
      const samples = r as Sample[];
      // As Python: a `capacity` set (used, free) and an I/O set (ops and bandwidth, read and write).
      expect(samples.map((s) => [s.name, s.labels, s.value])).toEqual([
        ['capacity', { pool: 'pool1', capacity: 'used' }, 5975907581952],
        ['capacity', { pool: 'pool1', capacity: 'free' }, 24020144013312],
        ['operations_per_sec', { pool: 'pool1', io: 'read' }, 85],
        ['operations_per_sec', { pool: 'pool1', io: 'write' }, 290],
        ['bandwidth_per_sec', { pool: 'pool1', io: 'read' }, 348241],
        ['bandwidth_per_sec', { pool: 'pool1', io: 'write' }, 14127899],
      ]);
      expect(readFileSync(path.join(bin, 'zpool.args'), 'utf8').trim()).toBe('iostat -Hp 10');
    } finally {
      process.env.PATH = savedPath;
    }
  });

  it('reports the since-boot line until a real interval comes, then the mean of the intervals since the last probe', async () => {
    // The fake prints the boot line (ops 7), then on each flag file the test creates, more lines.
    const l = (...ops: number[]): string => `printf '${ops.map((o) => `tank\\t100\\t200\\t${o}\\t0\\t0\\t0\\n`).join('')}'`;
    const wait = (flag: string): string => `until [ -e '${path.join(dir, flag)}' ]; do sleep 0.02; done`;
    const bin = fakeZpool('mean', `${l(7)}; ${wait('f1')}; ${l(10, 30)}; ${wait('f2')}; ${l(50)}; sleep 30`);
    const src = make({ path: path.join(bin, 'zpool'), pools: ['tank'] });
    await initSource(src);
    const readOps = (r: Sample[] | Error): number | undefined =>
      Array.isArray(r) ? valueOf(r, 'operations_per_sec', { pool: 'tank', io: 'read' }) : undefined;
    expect(readOps(await probeUntil(src, (x) => Array.isArray(x)))).toBe(7);
    writeFileSync(path.join(dir, 'f1'), '');
    // Both lines come in one write: the probe after them reports their mean.
    expect(readOps(await probeUntil(src, (x) => readOps(x) !== 7))).toBe(20);
    // Nothing new since: the last mean stays.
    expect(readOps(await probeOnce(src))).toBe(20);
    writeFileSync(path.join(dir, 'f2'), '');
    expect(readOps(await probeUntil(src, (x) => readOps(x) !== 20))).toBe(50);
    expect(readFileSync(path.join(bin, 'zpool.args'), 'utf8').trim()).toBe('iostat -Hp 10 tank');
  });

  it('keeps pools apart', async () => {
    const bin = fakeZpool('two', `while :; do printf 'a\\t1\\t2\\t3\\t4\\t5\\t6\\nb\\t10\\t20\\t30\\t40\\t50\\t60\\n'; sleep 0.05; done`);
    const src = make({ path: path.join(bin, 'zpool') });
    await initSource(src);
    const r = (await probeUntil(src, (x) => Array.isArray(x) && x.length === 12)) as Sample[];
    expect(valueOf(r, 'bandwidth_per_sec', { pool: 'a', io: 'write' })).toBe(6);
    expect(valueOf(r, 'bandwidth_per_sec', { pool: 'b', io: 'write' })).toBe(60);
  });

  it('fails the probe with what zpool said when it exits, and says when the command is missing', async () => {
    const bin = fakeZpool('dies', `echo "The ZFS modules are not loaded." >&2; exit 1`);
    const src = make({ path: path.join(bin, 'zpool') });
    await initSource(src);
    const r = await probeUntil(src, (x) => x instanceof Error && /exited/.test(x.message));
    expect((r as Error).message).toMatch(/zpool exited with code 1: The ZFS modules are not loaded\.; restarting in/);

    const missing = make({ path: path.join(dir, 'nowhere', 'zpool') });
    await initSource(missing);
    const m = await probeUntil(missing, (x) => x instanceof Error);
    expect((m as Error).message).toMatch(/zpool: command not found/);
  });

  it('reports garbage and binary output as errors, and recovers on the next good line', async () => {
    const bin = fakeZpool('garbage', `echo 'no pools available'; sleep 0.5; printf '${PY_LINE.replaceAll('\t', '\\t')}\\n'; sleep 30`);
    const src = make({ path: path.join(bin, 'zpool') });
    await initSource(src);
    const bad = await probeUntil(src, (x) => x instanceof Error);
    expect((bad as Error).message).toMatch(/not a zpool iostat -Hp line/);
    const good = await probeUntil(src, (x) => Array.isArray(x));
    expect(valueOf(good as Sample[], 'capacity', { pool: 'pool1', capacity: 'used' })).toBe(5975907581952);

    const bin2 = fakeZpool('binary', `printf 'pool\\001\\377\\376\\n'; sleep 30`);
    const src2 = make({ path: path.join(bin2, 'zpool') });
    await initSource(src2);
    const b = await probeUntil(src2, (x) => x instanceof Error);
    expect((b as Error).message).toMatch(/line 1: binary data, not text/);
  });

  it('shutdown() ends the child', async () => {
    const bin = fakeZpool('stop', printing);
    const src = make({ path: path.join(bin, 'zpool') });
    await initSource(src);
    await probeUntil(src, (x) => Array.isArray(x));
    const pid = src.childPid()!;
    expect(pid).toBeGreaterThan(0);
    await src.shutdown();
    expect(() => process.kill(pid, 0)).toThrow();
    await expect(probeOnce(src)).rejects.toThrow(/shut down/);
  });
});

describe('Zfs params schema', () => {
  it('fills the defaults and names bad params', () => {
    const cfg: Record<string, unknown> = {};
    expect(validate(ZfsSource.schema, cfg, ['source'])).toEqual([]);
    expect(cfg).toEqual({ path: 'zpool', interval: 10, pools: [], rescan: 1200 });
    expect(validate(ZfsSource.schema, { interval: 0 }, ['source']).join('\n')).toMatch(/source\.interval/);
    expect(validate(ZfsSource.schema, { pools: ['-x'] }, ['source']).join('\n')).toMatch(/source\.pools\[0\]/);
  });
});
