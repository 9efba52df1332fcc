// Benchmark of the Tegrastats source (run `npm run build` first): parse cost per line over every
// fixture line, then the in-process CPU cost of following a child that prints a line every
// BENCH_INTERVAL ms (default 10) for BENCH_SECONDS (default 5), with a probe every 100 ms.
import { readFileSync, readdirSync, writeFileSync, chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const fixtures = process.env.TEGRASTATS_FIXTURES ?? join(root, '..', 'shared', 'fixtures', 'tegrastats');
const { parseTegrastatsLine } = await import(join(root, 'dist/sources/tegrastats/parse.js'));
const { TegrastatsSource } = await import(join(root, 'dist/sources/tegrastats/index.js'));
const { buildSource } = await import(join(root, 'dist/config/build.js'));
const { createLogger } = await import(join(root, 'dist/log.js'));

const lines = readdirSync(fixtures).flatMap((f) => readFileSync(join(fixtures, f), 'utf8').split('\n').filter(Boolean));
const rounds = 2000;
for (const l of lines) parseTegrastatsLine(l); // warm-up
const t = process.hrtime.bigint();
for (let i = 0; i < rounds; i++) for (const l of lines) parseTegrastatsLine(l);
const perLineUs = Number(process.hrtime.bigint() - t) / 1000 / (rounds * lines.length);
console.log(`parse: ${lines.length} fixture lines x ${rounds}: ${perLineUs.toFixed(2)} µs per line`);

const seconds = Number(process.env.BENCH_SECONDS ?? 5);
const interval = Number(process.env.BENCH_INTERVAL ?? 10);
const dir = mkdtempSync(join(tmpdir(), 'pollect-bench-tegrastats-'));
const all = join(dir, 'lines.txt');
writeFileSync(all, lines.join('\n') + '\n');
const printer = join(dir, 'tegrastats');
// The printer ignores --interval and uses the benchmark's own pace.
writeFileSync(printer, `#!/bin/sh\nwhile :; do while IFS= read -r l; do printf '%s\\n' "$l"; sleep ${interval / 1000}; done < '${all}'; done\n`);
chmodSync(printer, 0o755);
const log = createLogger('bench', { level: 'error', write: () => {} });
const src = await buildSource(TegrastatsSource, { type: 'Tegrastats', path: printer, interval, metrics: ['ram', 'temp', 'cpu', 'gpu', 'power', 'swap'] });
await src.init({ log, tickTime: 1, configDir: dir });
let probes = 0;
let samples = 0;
let errors = 0;
const cpu0 = process.cpuUsage();
const start = Date.now();
while (Date.now() - start < seconds * 1000) {
  try {
    samples += (await src.probe({ signal: AbortSignal.timeout(1000), timeoutMs: 1000, tickTime: 0.1, log })).length;
  } catch {
    errors++;
  }
  probes++;
  await new Promise((r) => setTimeout(r, 100));
}
const cpu = process.cpuUsage(cpu0);
await src.shutdown();
rmSync(dir, { recursive: true, force: true });
const expectedLines = (seconds * 1000) / interval;
console.log(
  `follow: ${seconds} s at ~${interval} ms per line (~${Math.round(expectedLines)} lines), ${probes} probes (${samples} samples, ${errors} errors): ` +
    `${((cpu.user + cpu.system) / 1000).toFixed(0)} ms CPU in pollect's process, ${((cpu.user + cpu.system) / 1000 / seconds / 10).toFixed(2)} % of one core`,
);
