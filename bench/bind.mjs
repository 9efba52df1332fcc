// Benchmark of the Bind source (run `npm run build` first): the parse cost of the captured XML v3
// and JSON v1 server statistics, and of a large XML document made from the captured one by
// repeating its `_default` view BENCH_VIEWS times (default 200; about 1.5 MB, as a server with
// many views), then whole probes of that document served over loopback HTTP.
import { fixtureDir } from './fixtures.mjs';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { parseBindStats } = await import(join(root, 'dist/sources/bind/parse.js'));
const { BindSource } = await import(join(root, 'dist/sources/bind/index.js'));
const { buildSource } = await import(join(root, 'dist/config/build.js'));
const { createLogger } = await import(join(root, 'dist/log.js'));
const FIX = fixtureDir('bind');
const views = Number(process.env.BENCH_VIEWS ?? 200);

const xml = readFileSync(join(FIX, 'xml-v3-server.xml'), 'utf8');
const json = readFileSync(join(FIX, 'json-v1-server.json'), 'utf8');
const view = /<view name="_default">[\s\S]*?<\/view>/.exec(xml)[0];
const big = xml.replace(view, Array.from({ length: views }, (_, i) => view.replace('name="_default"', `name="v${i}"`)).join('\n'));

async function time(label, body, iterations) {
  await parseBindStats(body);
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < iterations; i++) await parseBindStats(body);
  const ms = Number(process.hrtime.bigint() - t0) / 1e6 / iterations;
  console.log(
    `${label} (${(body.length / 1024).toFixed(0)} KiB): ${ms.toFixed(2)} ms per parse, ${(body.length / 1024 / 1024 / (ms / 1000)).toFixed(1)} MiB/s`,
  );
}
await time('parse XML v3 server fixture', xml, 500);
await time('parse JSON v1 server fixture', json, 2000);
await time(`parse XML v3 with ${views} views`, big, 10);

const server = http.createServer((req, res) => res.writeHead(200, { 'content-type': 'application/xml' }).end(big));
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const log = createLogger('bench', { level: 'error', write: () => {} });
const src = await buildSource(BindSource, {
  type: 'Bind',
  url: `http://127.0.0.1:${server.address().port}/xml/v3/server`,
  views: Array.from({ length: views }, (_, i) => `v${i}`),
});
const ctx = () => ({ signal: AbortSignal.timeout(10_000), timeoutMs: 10_000, tickTime: 10, log });
await src.probe(ctx());
const probes = 20;
const cpu0 = process.cpuUsage();
const t0 = process.hrtime.bigint();
let samples = 0;
for (let i = 0; i < probes; i++) samples = (await src.probe(ctx())).length;
const wall = Number(process.hrtime.bigint() - t0) / 1e6 / probes;
const cpu = process.cpuUsage(cpu0);
console.log(
  `probe of the ${views}-view document over HTTP: ${wall.toFixed(1)} ms per probe, ${((cpu.user + cpu.system) / 1000 / probes).toFixed(1)} ms CPU, ${samples} samples`,
);
server.close();
