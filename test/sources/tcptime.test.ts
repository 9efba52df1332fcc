import { describe, it, expect, afterAll } from 'vitest';
import net from 'node:net';
import { spawn } from 'node:child_process';
import { TcpTimeSource } from '../../src/sources/tcptime/index.js';
import { freePort } from '../helpers/net.js';
import { probeOnce, valueOf } from '../helpers/probe.js';
import { readmeExamples, paramProblems } from '../helpers/readme-examples.js';
import { build } from '../helpers/plugin.js';

// A listener whose process never accepts: once its tiny backlog is full the kernel drops
// further SYNs, so a connect hangs like one to a black-holed host (all on loopback).
async function blackHole(port: number): Promise<() => void> {
  const code = `
    const srv = require('net').createServer();
    srv.listen({ port: ${port}, host: '127.0.0.1', backlog: 1 }, () => {
      process.stdout.write('ready\\n');
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 30000);
      process.exit(0);
    });`;
  const child = spawn(process.execPath, ['-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
  // Fill the accept queue.
  const fillers: net.Socket[] = [];
  for (let i = 0; i < 8; i++) {
    const s = net.connect({ port, host: '127.0.0.1' });
    s.on('error', () => {});
    fillers.push(s);
  }
  await new Promise((r) => setTimeout(r, 200));
  return () => {
    for (const s of fillers) s.destroy();
    child.kill('SIGKILL');
  };
}

describe('TcpTime', () => {
  const cleanups: (() => void)[] = [];
  afterAll(() => cleanups.forEach((c) => c()));

  it('measures the connect time to a listening port', async () => {
    const srv = net.createServer((s) => s.destroy());
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
    cleanups.push(() => srv.close());
    const port = (srv.address() as net.AddressInfo).port;
    const src = build(TcpTimeSource, { type: 'TcpTime', host: '127.0.0.1', port, timeout: 2 });
    const samples = await probeOnce(src);
    const ms = valueOf(samples, undefined);
    expect(ms).toBeGreaterThanOrEqual(0);
    expect(ms).toBeLessThan(2000);
    expect(valueOf(samples, 'success')).toBe(1);
    expect(samples.find((s) => s.name === undefined)?.unit).toBe('ms');
  });

  it('reports a refused connection as timeout*1000 ms with success 0', async () => {
    const port = await freePort();
    const src = build(TcpTimeSource, { type: 'TcpTime', host: '127.0.0.1', port, timeout: 3 });
    const samples = await probeOnce(src);
    expect(valueOf(samples, undefined)).toBe(3000);
    expect(valueOf(samples, 'success')).toBe(0);
  });

  it('gives up at its timeout when the SYN is never answered', async () => {
    const port = await freePort();
    cleanups.push(await blackHole(port));
    const src = build(TcpTimeSource, { type: 'TcpTime', host: '127.0.0.1', port, timeout: 0.3 });
    const started = Date.now();
    const samples = await probeOnce(src);
    expect(valueOf(samples, 'success')).toBe(0);
    expect(valueOf(samples, undefined)).toBe(300);
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('uses the default 10 s timeout value for a failure, whatever the probe budget (the tickTime)', async () => {
    const port = await freePort();
    const src = build(TcpTimeSource, { type: 'TcpTime', host: '127.0.0.1', port });
    expect(valueOf(await probeOnce(src), undefined)).toBe(10_000);
    expect(valueOf(await probeOnce(src, { timeoutMs: 5000 }), undefined)).toBe(10_000);
  });

  it('fails with a SourceError when the probe is aborted', async () => {
    const port = await freePort();
    cleanups.push(await blackHole(port));
    const src = build(TcpTimeSource, { type: 'TcpTime', host: '127.0.0.1', port, timeout: 10 });
    await expect(probeOnce(src, { signal: AbortSignal.timeout(200), timeoutMs: 10_000 })).rejects.toThrow(/aborted at the probe timeout/);
  });
  it('schema: accepts the README example, rejects missing or bad params', () => {
    for (const ex of readmeExamples('tcptime')) expect(paramProblems(TcpTimeSource.schema, 'TcpTime', ex)).toEqual([]);
    expect(paramProblems(TcpTimeSource.schema, 'TcpTime', { type: 'TcpTime', host: 'h' }).join('\n')).toMatch(/port: is required/);
    expect(paramProblems(TcpTimeSource.schema, 'TcpTime', { type: 'TcpTime', host: 'h', port: 70000 }).join('\n')).toMatch(/port/);
    expect(paramProblems(TcpTimeSource.schema, 'TcpTime', { type: 'TcpTime', host: 'h', port: 22, prot: 1 }).join('\n')).toMatch(/unknown key "prot"/);
  });
});
