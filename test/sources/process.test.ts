// Process against ps on real child processes, a process that retitles itself after starting,
// fake /proc trees with odd and broken entries, and the systeminformation path.
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { ProcessSource, type ProcessConfig } from '../../src/sources/process/index.js';
import type { Sample } from '../../src/sdk/index.js';
import { initSource, probeOnce, valueOf } from '../helpers/probe.js';
import { fakeProc, GARBAGE } from '../helpers/hostproc.js';
import { readPageSize } from '../../src/host/page-size.js';
import { build, type Params } from '../helpers/plugin.js';

const fake = fakeProc();
const children: ChildProcess[] = [];
afterEach(() => {
  fake.restore();
  for (const c of children.splice(0)) c.kill('SIGKILL');
});
afterAll(() => fake.remove());

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const marker = () => `pollect-proc-test-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;

/**
 * A node child holding 32 MiB; `busy` spins; `title` is set as process.title when a line arrives
 * on its stdin (it answers "retitled"), so a test decides when, whatever the machine's load.
 */
async function child(tag: string, opts: { busy?: boolean; title?: string } = {}): Promise<ChildProcess> {
  const script = `
    const b = Buffer.alloc(32 * 1024 * 1024, 1);
    ${opts.title ? `process.stdin.once('data', () => { process.title = ${JSON.stringify(opts.title)}; process.stdout.write('retitled'); });` : ''}
    ${opts.busy ? 'for (;;) b[0]++;' : 'setInterval(() => b[0]++, 1000);'}
    process.stdout.write('ready');`;
  const c = spawn(process.execPath, ['-e', script, tag], { stdio: [opts.title ? 'pipe' : 'ignore', 'pipe', 'ignore'] });
  children.push(c);
  if (!opts.busy) await new Promise((r) => c.stdout!.once('data', r));
  else await sleep(300);
  return c;
}

const HZ = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }));

/** CPU seconds `pid` has used (utime + stime of /proc/<pid>/stat), as the kernel counts them. */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / HZ;
}

function ps(pid: number): { rss: number; vsz: number } {
  const [rss, vsz] = execFileSync('ps', ['-o', 'rss=,vsz=', '-p', String(pid)], { encoding: 'utf8' })
    .trim()
    .split(/\s+/)
    .map(Number);
  return { rss: rss! * 1024, vsz: vsz! * 1024 };
}

async function make(cfg: Params<ProcessConfig> & { procRegex: string }): Promise<ProcessSource> {
  const s = build(ProcessSource, { type: 'Process', ...cfg });
  await initSource(s);
  return s;
}

describe('Process on this machine', () => {
  it('matches ps -o rss,vsz for each matching process, in pid order, and counts them', async () => {
    const tag = marker();
    const [a, b] = [await child(tag), await child(tag)];
    const [lo, hi] = [a.pid!, b.pid!].sort((x, y) => x - y);
    const s = await make({ procRegex: tag });
    const psLo = ps(lo!);
    const out = await probeOnce(s);
    const psHi = ps(hi!);
    expect(valueOf(out, 'process_count', { pidx: 'all' })).toBe(2);
    const near = (v: number, want: number, tol: number) => expect(Math.abs(v - want)).toBeLessThanOrEqual(tol);
    near(valueOf(out, 'virtual_memory', { pidx: '0' }), psLo.vsz, 8 * 1024 * 1024);
    near(valueOf(out, 'resident_memory', { pidx: '0' }), psLo.rss, 8 * 1024 * 1024);
    near(valueOf(out, 'resident_memory', { pidx: '1' }), psHi.rss, 8 * 1024 * 1024);
    expect(valueOf(out, 'resident_memory', { pidx: '0' })).toBeGreaterThan(32 * 1024 * 1024);
    // load_percent primes on the first probe, and is 0 there (psutil's first cpu_percent()).
    expect(out.filter((x) => x.name === 'load_percent').map((x) => x.value)).toEqual([0, 0]);
  });

  it('reports CPU load of a busy process from the second probe', async () => {
    const tag = marker();
    const c = await child(tag, { busy: true });
    const s = await make({ procRegex: tag, memory: false });
    await probeOnce(s);
    const [cpu0, t0] = [cpuSeconds(c.pid!), performance.now()];
    await sleep(500);
    const out = await probeOnce(s);
    const [cpu1, t1] = [cpuSeconds(c.pid!), performance.now()];
    expect(out.map((x) => x.name)).toEqual(['load_percent', 'process_count']);
    const load = valueOf(out, 'load_percent', { pidx: '0' });
    // The child spins, but gets only what the scheduler gives it (on a loaded machine, under 20 %
    // of a core): the load must be its own CPU time over the same half second.
    const share = ((cpu1 - cpu0) / ((t1 - t0) / 1000)) * 100;
    expect(load).toBeGreaterThan(0);
    expect(Math.abs(load - share), `load ${load} %, the kernel's count ${share} %`).toBeLessThan(15);
    expect(load).toBeLessThan(130);
  });

  it('notices a process that retitles itself after it started', async () => {
    const tag = marker();
    const later = `${tag}-retitled`;
    const c = await child(tag, { title: later });
    const started = Date.now();
    const s = await make({ procRegex: 'retitled$', load: false });
    // Right after start the command line does not match yet...
    expect(valueOf(await probeOnce(s), 'process_count', { pidx: 'all' })).toBe(0);
    const retitled = new Promise((r) => c.stdout!.once('data', r));
    c.stdin!.write('now\n');
    await retitled;
    // ...and once the process has settled (5 s after it started), its new title is read again.
    await sleep(Math.max(0, started + 5500 - Date.now()));
    const out = await probeOnce(s);
    expect(valueOf(out, 'process_count', { pidx: 'all' })).toBe(1);
  }, 15_000);

  it('emits only the count when nothing matches; rejects an invalid regex', async () => {
    const s = await make({ procRegex: `no-such-process-${marker()}` });
    expect(await probeOnce(s)).toEqual([{ name: 'process_count', value: 0, labels: { pidx: 'all' } }]);
    // A config error, found before start (`pollect --check`), at the param's path.
    expect(() => build(ProcessSource, { procRegex: '(unclosed' })).toThrow(
      expect.objectContaining({ name: 'ParamError', param: 'procRegex', message: 'invalid regex "(unclosed": Unterminated group' }),
    );
  });

  it('runs the non-Linux path (systeminformation)', async () => {
    const tag = marker();
    const c = await child(tag);
    const s = await make({ procRegex: tag, backend: 'systeminformation' });
    const out: Sample[] = await probeOnce(s);
    expect(valueOf(out, 'process_count', { pidx: 'all' })).toBe(1);
    const want = ps(c.pid!);
    expect(Math.abs(valueOf(out, 'resident_memory', { pidx: '0' }) - want.rss)).toBeLessThanOrEqual(8 * 1024 * 1024);
  });
});

describe('Process on a fake /proc', () => {
  const stat = (pid: number, comm: string, utime: number, start: number) =>
    `${pid} (${comm}) S 1 ${pid} ${pid} 0 -1 4194560 100 0 0 0 ${utime} 5 0 0 20 0 1 0 ${start} 104857600 2560 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 0 0 0 0 0 0\n`;

  it('skips garbage, truncated and vanished entries, reads odd comm names', async () => {
    fake.write({
      '100/stat': GARBAGE,
      '100/cmdline': 'myapp\0--serve\0',
      '101/stat': stat(101, 'my app (worker)', 10, 50),
      '101/cmdline': 'myapp\0--serve\0--port\x008080\0',
      '102/stat': stat(102, 'myapp', 10, 50).slice(0, 40),
      '102/cmdline': 'myapp\0--serve\0',
      '103/cmdline': 'myapp\0--serve\0', // no stat: the process exited meanwhile
      '104/stat': stat(104, 'other', 1, 50),
      '104/cmdline': 'other\0',
      'self/stat': 'not a pid',
    });
    fake.use();
    const s = await make({ procRegex: '^myapp --serve' });
    const out = await probeOnce(s);
    expect(out).toEqual([
      { name: 'load_percent', value: 0, labels: { pidx: '0' }, unit: 'percent', naming: 'pollect' },
      { name: 'virtual_memory', value: 104857600, labels: { pidx: '0' }, unit: 'bytes' },
      { name: 'resident_memory', value: 2560 * readPageSize(), labels: { pidx: '0' }, unit: 'bytes' },
      { name: 'process_count', value: 1, labels: { pidx: 'all' } },
    ]);
  });

  it('fails clearly when /proc cannot be listed', async () => {
    process.env.HOST_PROC = '/nonexistent';
    await expect(probeOnce(await make({ procRegex: 'x' }))).rejects.toThrow(/^cannot read \/proc: ENOENT$/);
  });
});
