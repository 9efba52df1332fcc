// A writer's buffer on disk (opt-in, `diskQueue`): every batch the core buffers for the writer is
// also a file in the writer's folder, removed once the writer took it (or the buffer dropped it),
// so a pollect restarted during a backend outage sends what it had buffered. One file per batch,
// written to `<seq>.tmp` and renamed to `<seq>.batch`: a crash mid-write leaves a `.tmp` file
// (torn, skipped and removed at the next start), never half a batch under a batch name; a file
// that does not parse (a power loss after the rename) is skipped too. Both are counted and logged.
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Batch, Logger } from '../sdk/index.js';
import { errorMessage } from '../log.js';

/** JSON has no NaN or Infinity: they are written as strings and read back as numbers. */
function replacer(_key: string, v: unknown): unknown {
  return typeof v === 'number' && !Number.isFinite(v) ? String(v) : v;
}

function reviver(key: string, v: unknown): unknown {
  return key === 'value' && (v === 'NaN' || v === 'Infinity' || v === '-Infinity') ? Number(v) : v;
}

export class DiskQueue {
  readonly dir: string;
  private readonly log: Logger;
  private seq = 0;
  private readonly files = new WeakMap<Batch, string>();
  /** The folder could not be written: batches stay in memory only (said once). */
  private failing = false;
  /** Files found broken at load (torn or unreadable). */
  skipped = 0;

  constructor(dir: string, log: Logger) {
    this.dir = dir;
    this.log = log;
  }

  /** The batches a previous run left, oldest first; broken files are removed and counted. */
  load(): Batch[] {
    let names: string[];
    try {
      mkdirSync(this.dir, { recursive: true });
      names = readdirSync(this.dir);
    } catch (err) {
      this.fail(err);
      return [];
    }
    const seqOf = (n: string) => Number(n.slice(0, n.indexOf('.')));
    const batches: Batch[] = [];
    for (const name of names.filter((n) => /^\d+\.(batch|tmp)$/.test(n)).sort((a, b) => seqOf(a) - seqOf(b))) {
      const file = path.join(this.dir, name);
      this.seq = Math.max(this.seq, seqOf(name));
      let batch: Batch | undefined;
      if (name.endsWith('.batch')) {
        try {
          batch = JSON.parse(readFileSync(file, 'utf8'), reviver) as Batch;
          if (!Array.isArray(batch.points)) batch = undefined;
        } catch {
          batch = undefined;
        }
      }
      if (!batch) {
        this.skipped++;
        rmSync(file, { force: true });
        continue;
      }
      this.files.set(batch, file);
      batches.push(batch);
    }
    if (this.skipped) this.log.warn(`disk queue ${this.dir}: skipped ${this.skipped} torn or unreadable batch file(s)`);
    return batches;
  }

  /** Writes the batch to its file before the core buffers it. */
  save(batch: Batch): void {
    const name = String(++this.seq);
    const tmp = path.join(this.dir, `${name}.tmp`);
    const file = path.join(this.dir, `${name}.batch`);
    try {
      writeFileSync(tmp, JSON.stringify(batch, replacer));
      renameSync(tmp, file);
    } catch (err) {
      rmSync(tmp, { force: true });
      this.fail(err);
      return;
    }
    if (this.failing) {
      this.failing = false;
      this.log.info(`disk queue ${this.dir}: writable again`);
    }
    this.files.set(batch, file);
  }

  /** The batch was taken by the writer, or dropped: its file goes. */
  remove(batch: Batch): void {
    const file = this.files.get(batch);
    if (file === undefined) return;
    this.files.delete(batch);
    rmSync(file, { force: true });
  }

  private fail(err: unknown): void {
    if (this.failing) return;
    this.failing = true;
    this.log.error(`disk queue ${this.dir}: ${errorMessage(err)}; buffering in memory only`);
  }
}
