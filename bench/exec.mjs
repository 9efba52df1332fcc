// Benchmark of the Exec source (run `npm run build` first): parse throughput of each output
// format on generated output of BENCH_LINES lines (default 100000), then whole per-tick probes
// of a small command (the cost of spawning and reaping it), and the line rate a long-running
// child can feed.
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { parseOutput } = await import(join(root, 'dist/sources/exec/formats.js'));
const { ExecSource } = await import(join(root, 'dist/sources/exec/index.js'));
const { buildSource } = await import(join(root, 'dist/config/build.js'));
const { createLogger } = await import(join(root, 'dist/log.js'));
const log = createLogger('bench', { level: 'error', write: () => {} });
const lines = Number(process.env.BENCH_LINES ?? 100_000);

const gen = {
  collectd: (i) => `PUTVAL host${i % 50}/interface-eth${i % 4}/if_octets interval=10 N:${i * 1000}:${i * 2000}`,
  influx: (i) => `cpu,host=web${i % 50},cpu=cpu${i % 8} usage_idle=${(i % 100) + 0.5},usage_user=1.5,count=${i}i 1700000000000000000`,
  prometheus: (i) =>
    (i === 0 ? '# HELP http_requests_total Requests.\n# TYPE http_requests_total counter\n' : '') +
    `http_requests_total{code="${200 + (i % 5)}",handler="/api/v${i % 7}",instance="i${i}"} ${i} 1700000000000`,
  graphite: (i) => `servers.web${i % 50}.cpu${i % 8}.load ${i / 7} 1700000000`,
};

for (const [format, line] of Object.entries(gen)) {
  const text = Array.from({ length: lines }, (_, i) => line(i)).join('\n') + '\n';
  parseOutput(format, text);
  const t0 = process.hrtime.bigint();
  const samples = parseOutput(format, text);
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  console.log(
    `${format.padEnd(10)} ${lines} lines (${(text.length / 1024 / 1024).toFixed(1)} MiB) -> ${samples.length} samples: ${ms.toFixed(0)} ms, ${Math.round(lines / (ms / 1000)).toLocaleString('en')} lines/s`,
  );
}
{
  const doc = JSON.stringify(Array.from({ length: lines }, (_, i) => ({ name: `m${i % 100}`, value: i, labels: { a: String(i) } })));
  const t0 = process.hrtime.bigint();
  const samples = parseOutput('json', doc);
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  console.log(`${'json'.padEnd(10)} list of ${samples.length} samples (${(doc.length / 1024 / 1024).toFixed(1)} MiB): ${ms.toFixed(0)} ms`);
}

// Per-tick probes: spawn, read, reap.
{
  const src = await buildSource(ExecSource, { type: 'Exec', command: ['echo', 'a.b 1'], format: 'graphite' });
  await src.init({ log, tickTime: 10, configDir: root });
  const n = 200;
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) await src.probe({ signal: AbortSignal.timeout(5000), timeoutMs: 5000, tickTime: 10, log });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6 / n;
  console.log(`per-tick probe of "echo": ${ms.toFixed(2)} ms each (${n} probes)`);
}

// Long-running: how many lines per second one child can feed into the source.
{
  const total = 200_000;
  const src = await buildSource(ExecSource, {
    type: 'Exec',
    command: [
      process.execPath,
      '-e',
      `let s='';for(let i=0;i<${total};i++){s+='m'+(i%1000)+' '+i+'\\n';if(s.length>65536){process.stdout.write(s);s=''}}process.stdout.write(s+'done 1\\n');setInterval(()=>{},1000)`,
    ],
    format: 'graphite',
    longRunning: true,
  });
  const t0 = process.hrtime.bigint();
  await src.init({ log, tickTime: 10, configDir: root });
  for (;;) {
    const s = await src.probe({ signal: AbortSignal.timeout(5000), timeoutMs: 5000, tickTime: 10, log });
    if (s.some((x) => x.name === 'done')) break;
    await new Promise((r) => setTimeout(r, 5));
  }
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  await src.shutdown();
  console.log(
    `long-running: ${total} lines read in ${ms.toFixed(0)} ms, ${Math.round(total / (ms / 1000)).toLocaleString('en')} lines/s (incl. node start-up)`,
  );
}
