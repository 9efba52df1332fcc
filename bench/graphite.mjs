// Benchmark of the Graphite writer's pickle encoder: 1,000,000 datapoints encoded into 500-point
// carbon messages (length header included), and in the same run CPython's C pickler doing
// pickle.dumps(protocol=2) on the same list in the same 500-point chunks (no header: in its
// favour). Also checks that Python decodes our first message to exactly its own list slice.
// Then the whole writer: the same datapoints as 1,000-point batches through write() (paths built
// from the series names, encoded, queued) to a loopback socket that discards them, until flush().
// Run: npm run bench:graphite   (needs python3 on PATH)
import { execFileSync } from 'node:child_process';
import net from 'node:net';
import { Ajv } from 'ajv';
import { PickleEncoder } from '../dist/writers/graphite/pickle.js';
import { GraphiteWriter } from '../dist/writers/graphite/index.js';
import { writerParamsSchema } from '../dist/config/schema.js';
import { AJV_OPTIONS } from '../dist/config/validate.js';

const N = 1_000_000;
const ROUNDS = 5;
const T0 = 1795306119;

// The same data on both sides: 20,000 series (50 hosts x 400 values) over 50 seconds.
const pathOf = (i) => `pollect.Host.host${i % 50}.cpu.core${(i >> 4) % 25}.value_${i % 20000}`;
const tsOf = (i) => T0 + Math.floor(i / 20000);
const valueOf = (i) => i * 0.37 - 1000;

function encodeAll(enc, paths, ts, vals) {
  let bytes = 0;
  let messages = 0;
  let first = null;
  for (let i = 0; i < N; ) {
    const m = enc.encode(paths, ts, vals, i, N);
    if (!first) first = m.bytes;
    i += m.count;
    bytes += m.bytes.length;
    messages++;
  }
  return { bytes, messages, first };
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function benchNode(label, pathFn) {
  const paths = new Array(N);
  const ts = new Float64Array(N);
  const vals = new Float64Array(N);
  for (let i = 0; i < N; i++) {
    paths[i] = pathFn(i);
    ts[i] = tsOf(i);
    vals[i] = valueOf(i);
  }
  const enc = new PickleEncoder();
  encodeAll(enc, paths, ts, vals); // warm-up
  const rates = [];
  let out;
  for (let r = 0; r < ROUNDS; r++) {
    const t = process.hrtime.bigint();
    out = encodeAll(enc, paths, ts, vals);
    const s = Number(process.hrtime.bigint() - t) / 1e9;
    rates.push(N / s);
  }
  console.log(
    `node  ${label.padEnd(24)} median ${(median(rates) / 1e6).toFixed(2)} M points/s  (best ${(Math.max(...rates) / 1e6).toFixed(2)})  ` +
      `${out.messages} messages, ${(out.bytes / 1e6).toFixed(1)} MB`,
  );
  return { rate: median(rates), first: out.first };
}

const PY = `
import sys, time, pickle, json, struct, platform
import _pickle
assert pickle.dumps is _pickle.dumps, 'C pickler not in use'
N, ROUNDS, T0 = ${N}, ${ROUNDS}, ${T0}
def path(i): return 'pollect.Host.host%d.cpu.core%d.value_%d' % (i % 50, (i >> 4) % 25, i % 20000)
pts = [(path(i), (T0 + i // 20000, i * 0.37 - 1000)) for i in range(N)]
first = sys.stdin.buffer.read()
(n,) = struct.unpack('!L', first[:4])
assert pickle.loads(first[4:4 + n]) == pts[:500], 'our first message decodes differently'
chunks = [pts[i:i + 500] for i in range(0, N, 500)]
for c in chunks[:200]: pickle.dumps(c, protocol=2)
rates = []
size = 0
for r in range(ROUNDS):
    t = time.perf_counter()
    size = 0
    for c in chunks:
        size += len(pickle.dumps(c, protocol=2))
    rates.append(N / (time.perf_counter() - t))
rates.sort()
print(json.dumps({'median': rates[len(rates) // 2], 'best': rates[-1], 'bytes': size, 'version': platform.python_version()}))
`;

console.log(`Graphite pickle encoding: ${N.toLocaleString('en')} datapoints in 500-point messages, ${ROUNDS} rounds each`);
const ascii = benchNode('ASCII paths', pathOf);
benchNode('non-ASCII paths', (i) => pathOf(i).replace('cpu', 'température'));

let py;
try {
  const out = execFileSync('python3', ['-c', PY], { input: ascii.first, maxBuffer: 1 << 20 });
  py = JSON.parse(out.toString());
} catch (err) {
  console.log(`python3 failed: ${err.message}`);
  process.exit(1);
}
console.log(
  `CPython ${py.version} pickle.dumps(protocol=2) median ${(py.median / 1e6).toFixed(2)} M points/s  (best ${(py.best / 1e6).toFixed(2)})  ` +
    `${(py.bytes / 1e6).toFixed(1)} MB (memo opcodes make it larger)`,
);
const ratio = ascii.rate / py.median;
console.log(`ratio node/CPython: ${ratio.toFixed(2)}x  (target >= 1.0: ${ratio >= 1 ? 'met' : 'NOT met'})`);
console.log('first message decoded by Python equals its own list: yes');

// The writer end to end, to a sink on loopback.
const sink = net.createServer((s) => s.on('data', () => {}));
await new Promise((r) => sink.listen(0, '127.0.0.1', r));
const config = { type: 'Graphite', host: '127.0.0.1', port: sink.address().port };
new Ajv(AJV_OPTIONS).compile(writerParamsSchema(GraphiteWriter.schema, 'Graphite'))(config); // fills the defaults
const silent = { error() {}, warn() {}, info() {}, debug() {}, child: () => silent };
const context = { configDir: process.cwd(), tickTime: 1, log: silent };
const writer = new GraphiteWriter(config, context);
writer.start(context);
// Series names are made once and handed over tick after tick, as the core does.
const names = Array.from({ length: 20000 }, (_, i) => {
  const id = pathOf(i);
  const [collection, source, ...rest] = id.split('.');
  return { collection, source, value: rest.join('.'), id };
});
const batches = [];
for (let b = 0; b < N / 1000; b++) {
  const points = [];
  for (let i = b * 1000; i < (b + 1) * 1000; i++) {
    points.push({ name: names[i % 20000], value: valueOf(i), labels: {}, type: 'gauge', timestamp: tsOf(i) * 1000, source: 'bench' });
  }
  batches.push({ collection: 'pollect', timestamp: tsOf(b * 1000) * 1000, points, sources: [] });
}
const writerRates = [];
for (let r = 0; r < ROUNDS + 1; r++) {
  const t = process.hrtime.bigint();
  for (const batch of batches) await writer.write(batch);
  await writer.flush();
  const s = Number(process.hrtime.bigint() - t) / 1e9;
  if (r > 0) writerRates.push(N / s); // the first round warms up
}
await writer.stop();
sink.close();
console.log(
  `node  writer: write() to a socket, until flush() median ${(median(writerRates) / 1e6).toFixed(2)} M points/s  (best ${(Math.max(...writerRates) / 1e6).toFixed(2)})`,
);
