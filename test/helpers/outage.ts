// The outage test of issue 15, for any push writer: the real pollect (bin/pollect.js, from dist/)
// at a 1 s tick writes to a real backend, which goes away for 30 s and comes back; with `kill`,
// pollect is also killed (SIGKILL) halfway through the outage and started again on the same
// config (the writer's diskQueue). Every sample pollect made is counted in the backend.
//
// The source is an Exec printing the time in milliseconds, so each tick's sample has its own
// value (MQTT carries no timestamp); a File writer beside the one tested is the ledger of what
// pollect made.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { BIN } from './cli.js';
import { spawnDaemon, tempDir, type Daemon } from './net.js';

export interface Backend {
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Every sample value the backend holds (a value twice if it holds it twice). */
  values(): Promise<number[]>;
}

export interface OutageResult {
  /** Samples pollect made (the ledger). */
  made: number;
  /** Of those, how many the backend holds, and which it lacks. */
  stored: number;
  missing: number[];
  /** Values the backend holds more than once (an at-least-once retry). */
  duplicates: number;
  /** Seconds from the backend's return until it held everything made by then. */
  recoverySeconds: number;
  output: string;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export const OUTAGE_S = 30;

export async function outage(opts: { writer: Record<string, unknown>; backend: Backend; kill: boolean }): Promise<OutageResult> {
  const tmp = tempDir('pollect-outage-');
  try {
    return await run(tmp.dir, opts);
  } finally {
    tmp.remove();
  }
}

async function run(dir: string, { writer, backend, kill }: { writer: Record<string, unknown>; backend: Backend; kill: boolean }): Promise<OutageResult> {
  const config = path.join(dir, 'pollect.json');
  const ledger = path.join(dir, 'ledger.jsonl');
  writeFileSync(
    config,
    JSON.stringify({
      tickTime: 1,
      selfMetrics: false,
      executors: [
        {
          collection: 'out',
          sources: [{ type: 'Exec', command: ['sh', '-c', 'echo t.v $(date +%s%3N)'], format: 'graphite' }],
          writers: [
            { ...writer, ...(kill ? { diskQueue: 'queue' } : {}) },
            { type: 'File', path: ledger },
          ],
        },
      ],
    }),
  );
  const made = (): number[] => {
    let text = '';
    try {
      text = readFileSync(ledger, 'utf8');
    } catch {
      return [];
    }
    return text
      .split('\n')
      .filter(Boolean)
      .map((l) => (JSON.parse(l) as { value: number }).value);
  };
  const waitMade = async (n: number) => {
    for (const end = Date.now() + 30_000; made().length < n; ) {
      if (Date.now() > end) throw new Error(`pollect made ${made().length} sample(s), not ${n}:\n${output()}`);
      await sleep(100);
    }
  };
  let output = () => '';
  const spawnPollect = (): Daemon => {
    const d = spawnDaemon(process.execPath, [BIN, '-c', config]);
    const before = output;
    output = () => before() + d.output();
    return d;
  };

  await backend.start();
  let pollect = spawnPollect();
  try {
    await waitMade(5);
    await backend.stop();
    const down = Date.now();
    if (kill) {
      await sleep((OUTAGE_S * 1000) / 2);
      pollect.child.kill('SIGKILL');
      await pollect.stop();
      // Started in the next second: its first tick (at once) must not share a second with the
      // killed one's last, which carbon's one-second slots would store as one datapoint.
      await sleep(1000 - (Date.now() % 1000));
      pollect = spawnPollect();
    }
    await sleep(Math.max(0, down + OUTAGE_S * 1000 - Date.now()));
    const madeInOutage = made().length;
    await backend.start();
    const up = Date.now();
    // Everything made so far reaches the backend (bounded by the core's longest backoff, 30 s).
    let recoverySeconds = Number.NaN;
    for (const end = up + 60_000; Date.now() < end; await sleep(500)) {
      const want = made().slice(0, madeInOutage);
      const have = new Set(await backend.values());
      if (want.every((v) => have.has(v))) {
        recoverySeconds = (Date.now() - up) / 1000;
        break;
      }
    }
    await waitMade(madeInOutage + 3);
    await pollect.stop();
    // What pollect flushed at its stop has landed too.
    let values: number[] = [];
    for (const end = Date.now() + 15_000; Date.now() < end; await sleep(500)) {
      values = await backend.values();
      const have = new Set(values);
      if (made().every((v) => have.has(v))) break;
    }
    const all = made();
    const have = new Set(values);
    const missing = all.filter((v) => !have.has(v));
    const counts = new Map<number, number>();
    for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
    return {
      made: all.length,
      stored: all.length - missing.length,
      missing,
      duplicates: [...counts.values()].filter((c) => c > 1).length,
      recoverySeconds,
      output: output(),
    };
  } finally {
    await pollect.stop();
  }
}
