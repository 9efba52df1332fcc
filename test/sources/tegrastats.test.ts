// Tegrastats: the line parser on every fixture line (values written by hand in
// tegrastats-expected.ts), then the source driving a real child process: a small script placed as
// `path` that prints fixture lines at an interval, one that dies, one that prints garbage.
import { fixtureDir } from '../helpers/fixtures.js';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { chmodSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseTegrastatsLine, type TegraReading } from '../../src/sources/tegrastats/parse.js';
import { TegrastatsSource, type TegrastatsConfig } from '../../src/sources/tegrastats/index.js';
import { SourceError, type Sample } from '../../src/sdk/index.js';
import { initSource, probeOnce, valueOf } from '../helpers/probe.js';
import { tempDir } from '../helpers/net.js';
import { EXPECTED, type LineExpect } from './tegrastats-expected.js';
import { validate } from '../helpers/validate.js';
import { build, type Params } from '../helpers/plugin.js';

const FIX = fixtureDir('tegrastats');
const MB = 1024 * 1024;
const lines = (file: string): string[] =>
  readFileSync(path.join(FIX, file), 'utf8')
    .split('\n')
    .filter((l) => l !== '');

function expectedReading(e: LineExpect): TegraReading {
  const r: TegraReading = {
    ram: { used: e.ram[0] * MB, total: e.ram[1] * MB },
    cpus: e.cpu.split(' ').map((c, core) => {
      if (c === 'off') return { core, online: false };
      const [load, freq] = c.split('@');
      return freq === undefined ? { core, online: true, load: Number(load) } : { core, online: true, load: Number(load), freq: Number(freq) };
    }),
    temps: e.temps
      .split(' ')
      .filter((t) => t !== '')
      .map((t) => {
        const [zone, c] = t.split('=');
        return { zone: zone!, celsius: Number(c) };
      }),
    rails: e.rails
      .split(' ')
      .filter((t) => t !== '')
      .map((t) => {
        const [rail, v] = t.split('=');
        const [current, average] = v!.split('/');
        return { rail: rail!, current: Number(current), average: Number(average) };
      }),
  };
  if (e.swap) r.swap = { used: e.swap[0] * MB, total: e.swap[1] * MB, cached: e.swap[2] * MB };
  if (e.gpu) {
    const [load, ...freqs] = e.gpu;
    r.gpu = load === null ? { freqs } : { load, freqs };
  }
  return r;
}

describe('tegrastats line parser on every fixture line', () => {
  it('has an expectation for every fixture file and line', () => {
    for (const file of readdirSync(FIX)) expect(EXPECTED[file]?.length, file).toBe(lines(file).length);
  });
  for (const [file, expects] of Object.entries(EXPECTED)) {
    describe(file, () => {
      expects.forEach((e, i) => {
        it(`line ${i + 1}`, () => {
          const line = lines(file)[i]!;
          expect(parseTegrastatsLine(line)).toEqual(expectedReading(e));
        });
      });
    });
  }

  it('rejects a line without RAM, and a malformed CPU list', () => {
    expect(() => parseTegrastatsLine('<html><body>502</body></html>')).toThrow(/not a tegrastats line/);
    expect(() => parseTegrastatsLine('RAM 1/2MB CPU [x%@1,2%@3]')).toThrow(/unrecognised CPU entry "x%@1"/);
  });
  it('reads kB units (lfb in kB is not RAM)', () => {
    const r = parseTegrastatsLine('RAM 2048/4096kB (lfb 2x128kB) SWAP 1/2GB (cached 0kB)');
    expect(r.ram).toEqual({ used: 2048 * 1024, total: 4096 * 1024 });
    expect(r.swap).toEqual({ used: 1024 ** 3, total: 2 * 1024 ** 3, cached: 0 });
  });
});

// ---------------------------------------------------------------------------------------------
// The source with a real child process.

let dir: string;
let removeDir: () => void;
beforeAll(() => {
  ({ dir, remove: removeDir } = tempDir('pollect-tegrastats-'));
});
afterAll(() => removeDir());

/** An executable that prints `file`'s lines, one every `delay` seconds, looping; records its args. */
function printer(name: string, file: string, delay = 0.05, loop = true): string {
  const p = path.join(dir, name);
  const body = loop
    ? `while :; do while IFS= read -r line; do printf '%s\\n' "$line"; sleep ${delay}; done < '${file}'; done`
    : `while IFS= read -r line; do printf '%s\\n' "$line"; sleep ${delay}; done < '${file}'`;
  writeFileSync(p, `#!/bin/sh\necho "$@" > '${p}.args'\n${body}\n`);
  chmodSync(p, 0o755);
  return p;
}

function script(name: string, body: string): string {
  const p = path.join(dir, name);
  writeFileSync(p, `#!/bin/sh\n${body}\n`);
  chmodSync(p, 0o755);
  return p;
}

const sources: TegrastatsSource[] = [];
function make(cfg: Params<TegrastatsConfig>): TegrastatsSource {
  const s = build(TegrastatsSource, { type: 'Tegrastats', ...cfg });
  sources.push(s);
  return s;
}
afterEach(async () => {
  for (const s of sources.splice(0)) await s.shutdown();
});

const byName = (s: readonly Sample[], name: string): Sample[] => s.filter((x) => x.name === name);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Probes until `ok` holds for the samples or an error, bounded. */
async function probeUntil(src: TegrastatsSource, ok: (r: Sample[] | Error) => boolean, ms = 10_000): Promise<Sample[] | Error> {
  const until = Date.now() + ms;
  for (;;) {
    const r = await probeOnce(src, { timeoutMs: 2000 }).catch((e: Error) => e);
    if (ok(r) || Date.now() > until) return r;
    await sleep(50);
  }
}

describe('Tegrastats source with a child process', () => {
  it('runs `path --interval <ms>` once and reports ram and temperature by default', async () => {
    const file = path.join(dir, 'nano13.txt');
    writeFileSync(file, lines('nano.txt')[12] + '\n');
    const src = make({ path: printer('ts-nano', file), interval: 250 });
    await initSource(src);
    const s = await probeOnce(src);
    expect(readFileSync(path.join(dir, 'ts-nano.args'), 'utf8').trim()).toBe('--interval 250');
    expect(valueOf(s, 'ram.used')).toBe(534 * MB);
    expect(valueOf(s, 'ram.free')).toBe((3964 - 534) * MB);
    expect(valueOf(s, 'temperature', { zone: 'cpu' })).toBe(36.5);
    expect(valueOf(s, 'temperature', { zone: 'thermal' })).toBe(36.25);
    expect(
      byName(s, 'temperature')
        .map((x) => x.labels?.zone)
        .sort(),
    ).toEqual(['ao', 'cpu', 'gpu', 'pll', 'thermal']);
    expect(new Set(s.map((x) => x.name))).toEqual(new Set(['ram.used', 'ram.free', 'temperature']));
    // Still the same child after several probes: one long-lived process, not one per tick.
    const pid = src.childPid();
    await sleep(200);
    await probeOnce(src);
    expect(src.childPid()).toBe(pid);
  });

  it('reports cpu, gpu, power and swap when asked, handling off cores', async () => {
    const file = path.join(dir, 'tx2-11.txt');
    writeFileSync(file, lines('tx2.txt')[12] + '\n'); // tx2.txt:13, 2 cores off, SWAP, GR3D_FREQ 0%@624
    const src = make({ path: printer('ts-tx2', file), metrics: ['cpu', 'gpu', 'power', 'swap'] });
    const s = await probeOnce(src);
    expect(byName(s, 'ram.used')).toEqual([]);
    expect(valueOf(s, 'cpu.load', { core: '0' })).toBe(1);
    expect(valueOf(s, 'cpu.freq', { core: '5' })).toBe(345);
    expect(valueOf(s, 'cpu.online', { core: '1' })).toBe(0);
    expect(valueOf(s, 'cpu.online', { core: '3' })).toBe(1);
    expect(byName(s, 'cpu.load').map((x) => x.labels?.core)).toEqual(['0', '3', '4', '5']);
    expect(valueOf(s, 'gpu.load')).toBe(0);
    expect(valueOf(s, 'gpu.freq', { gpc: '0' })).toBe(624);
    expect(valueOf(s, 'power.current', { rail: 'VDD_IN' })).toBe(3056);
    expect(valueOf(s, 'power.average', { rail: 'VDD_SYS_DDR' })).toBe(883);
    expect(valueOf(s, 'swap.used')).toBe(0);
    expect(valueOf(s, 'swap.free')).toBe(3926 * MB);
    expect(valueOf(s, 'swap.cached')).toBe(0);
  });

  it('follows the lines as they arrive and reports the latest', async () => {
    const src = make({ path: printer('ts-nx', path.join(FIX, 'xavier-nx.txt'), 0.1), metrics: ['ram'] });
    const seen = new Set<number>();
    const until = Date.now() + 8000;
    while (seen.size < 3 && Date.now() < until) {
      seen.add(valueOf(await probeOnce(src), 'ram.used'));
      await sleep(60);
    }
    expect(seen.size).toBeGreaterThanOrEqual(3);
  });

  it('parses the lines of every board as they come from the child', async () => {
    for (const file of Object.keys(EXPECTED)) {
      const src = make({ path: printer(`ts-${file}`, path.join(FIX, file), 0.02), metrics: ['ram', 'temp', 'cpu', 'gpu', 'power', 'swap'] });
      const s = await probeOnce(src);
      const used = valueOf(s, 'ram.used') / MB;
      expect(
        EXPECTED[file]!.some((e) => e.ram[0] === used),
        file,
      ).toBe(true);
      await src.shutdown();
    }
  });

  it('reports an error while the child is dead, restarts it with backoff, and recovers', async () => {
    const file = path.join(dir, 'once.txt');
    writeFileSync(file, lines('orin-jp6.txt')[0] + '\n');
    const counter = path.join(dir, 'starts');
    writeFileSync(counter, '');
    // Prints one line, then dies with a message on stderr.
    const p = script('ts-dies', `echo start >> '${counter}'\ncat '${file}'\nsleep 0.3\necho 'tegrastats: lost /dev/nvhost' >&2\nexit 3`);
    const src = make({ path: p, restartDelay: 0.2, metrics: ['ram'] });
    expect(valueOf(await probeOnce(src), 'ram.used')).toBe(17953 * MB);
    const err = await probeUntil(src, (r) => r instanceof Error);
    expect(err).toBeInstanceOf(SourceError);
    expect((err as Error).message).toMatch(/exited with code 3: tegrastats: lost \/dev\/nvhost; restarting in/);
    // It comes back: the restarted child prints its line again.
    const back = await probeUntil(src, (r) => !(r instanceof Error));
    expect(back).not.toBeInstanceOf(Error);
    expect(readFileSync(counter, 'utf8').split('\n').filter(Boolean).length).toBeGreaterThanOrEqual(2);
  });

  it('says when a child that dies at once is started again (the backoff itself: test/sdk/child.test.ts)', async () => {
    const p = script('ts-dies-fast', 'exit 1');
    const src = make({ path: p, restartDelay: 0.1 });
    const err = await probeOnce(src, { timeoutMs: 2000 }).catch((e: unknown) => e);
    expect((err as Error).message).toMatch(/ts-dies-fast exited with code 1; restarting in 100 ms$/);
  });

  it('says so when the command does not exist', async () => {
    const src = make({ path: path.join(dir, 'no-such-tegrastats'), restartDelay: 0.2 });
    const err = await probeOnce(src, { timeoutMs: 2000 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SourceError);
    expect((err as Error).message).toMatch(/no-such-tegrastats: command not found/);
  });

  it('reports garbage output as an error', async () => {
    const p = script('ts-garbage', `while :; do echo '<html><body>Not tegrastats</body></html>'; sleep 0.05; done`);
    const src = make({ path: p });
    const err = await probeOnce(src, { timeoutMs: 2000 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SourceError);
    expect((err as Error).message).toMatch(/not a tegrastats line \(no "RAM used\/total"\): "<html><body>Not tegrastats/);
  });

  it('reports binary output as an error', async () => {
    const p = script('ts-binary', `while :; do head -c 300 /dev/urandom; printf '\\001\\000\\n'; sleep 0.05; done`);
    const src = make({ path: p });
    const err = await probeOnce(src, { timeoutMs: 2000 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SourceError);
    expect((err as Error).message).toMatch(/ts-binary: line \d+: binary data, not text/);
  });

  it('reports an endless line without newline as an error, without buffering it all', async () => {
    const p = script('ts-endless', `while :; do printf 'RAM 1/2MB %01000d' 0; done`);
    const src = make({ path: p });
    const err = await probeOnce(src, { timeoutMs: 3000 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SourceError);
    expect((err as Error).message).toMatch(/ts-endless: line 1: longer than 65536 bytes/);
  });

  it('fails the probe at its timeout when the child prints nothing', async () => {
    const p = script('ts-silent', 'exec sleep 60');
    const src = make({ path: p });
    const err = await probeOnce(src, { timeoutMs: 400 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SourceError);
    expect((err as Error).message).toMatch(/no output from .*ts-silent within 400 ms/);
  });

  it('reports a stale reading when the child stops printing', async () => {
    const file = path.join(dir, 'one.txt');
    writeFileSync(file, lines('thor.txt')[0] + '\n');
    const p = script('ts-stalls', `cat '${file}'\nexec sleep 60`);
    const src = make({ path: p, interval: 100, metrics: ['ram'] });
    expect(valueOf(await probeOnce(src), 'ram.used')).toBe(4208 * MB);
    const err = await probeUntil(src, (r) => r instanceof Error, 5000);
    expect((err as Error).message).toMatch(/no new line from .*ts-stalls for \d+ ms/);
  });

  it('shutdown() kills the child and stops restarting', async () => {
    const file = path.join(dir, 'nano1.txt');
    writeFileSync(file, lines('nano.txt')[0] + '\n');
    const src = make({ path: printer('ts-kill', file), restartDelay: 0.1 });
    await probeOnce(src);
    const pid = src.childPid()!;
    expect(() => process.kill(pid, 0)).not.toThrow();
    await src.shutdown();
    expect(() => process.kill(pid, 0)).toThrow();
    await sleep(300);
    expect(src.childPid()).toBeUndefined();
    await expect(probeOnce(src)).rejects.toThrow(/shut down/);
  });
});

describe('Tegrastats params schema', () => {
  it('fills the documented defaults and rejects an unknown metric', () => {
    const cfg: Record<string, unknown> = {};
    expect(validate(TegrastatsSource.schema, cfg, ['source'])).toEqual([]);
    expect(cfg).toEqual({ path: 'tegrastats', interval: 1000, metrics: ['ram', 'temp'], restartDelay: 1 });
    expect(validate(TegrastatsSource.schema, { metrics: ['ram', 'fan'] }, ['source']).join('\n')).toMatch(/metrics\[1\]|metrics\/1|must be one of/);
  });
});
