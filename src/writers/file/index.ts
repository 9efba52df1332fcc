// File: appends every point to a file each tick, as JSON lines or CSV, like snap's file publisher
// and os-metrics' CSV output. A failing file (missing directory, full disk) is this writer's error
// only: it is logged and counted, never thrown into the executor.
import { appendFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { Writer, type Batch, type Point, type WriterConfig, type WriterContext, type WriterStats } from '../writer.js';
import type { JsonSchema } from '../../config/schema-types.js';
import { errorMessage, type Logger } from '../../log.js';

export interface FileConfig extends WriterConfig {
  path: string;
  format?: 'jsonl' | 'csv';
}

export const CSV_HEADER = 'name,labels,value,timestamp,type\n';

/** Lines waiting for the disk beyond this are dropped (and counted): a stuck disk must not eat memory. */
const MAX_PENDING_POINTS = 1_000_000;
/** While the file keeps failing, the error is logged again at most this often. */
const RELOG_MS = 60_000;

export class FileWriter extends Writer<FileConfig> {
  static override description = 'Appends the samples to a file, as JSON lines or CSV';
  static override schema: JsonSchema = {
    type: 'object',
    properties: {
      path: { type: 'string', minLength: 1, description: 'File to append to (relative to the config file)' },
      format: { enum: ['jsonl', 'csv'], default: 'jsonl', description: 'jsonl: one JSON object per line; csv: RFC 4180 with a header' },
    },
    required: ['path'],
  };

  private file: string;
  private log?: Logger;
  private chain: Promise<void> = Promise.resolve();
  private pending = 0;
  private written = 0;
  private dropped = 0;
  private errors = 0;
  private lastError = '';
  private lastLogged = 0;

  constructor(config: FileConfig) {
    super(config);
    this.file = path.resolve(config.path);
  }

  private get label(): string {
    return `File writer${this.id ? ` ${this.id}` : ''}`;
  }

  override async start(ctx: WriterContext): Promise<void> {
    this.log = ctx.log;
    this.file = path.resolve(ctx.configDir, this.config.path);
    // Said now so the user hears of it at startup; the directory may still appear later.
    const dir = path.dirname(this.file);
    try {
      if (!(await stat(dir)).isDirectory()) this.fail(`${dir} is not a directory`);
    } catch (err) {
      this.fail(describe(err as NodeJS.ErrnoException, this.file));
    }
  }

  write(batch: Batch): void {
    const n = batch.points.length;
    if (n === 0) return;
    if (this.pending + n > MAX_PENDING_POINTS) {
      this.dropped += n;
      return;
    }
    const csv = this.config.format === 'csv';
    let text = '';
    for (const p of batch.points) text += (csv ? csvLine(p) : jsonLine(p)) + '\n';
    this.pending += n;
    this.chain = this.chain.then(() => this.append(text, n));
  }

  private async append(text: string, n: number): Promise<void> {
    try {
      let head = '';
      if (this.config.format === 'csv') {
        // The header goes in once, whenever the file is new or empty (also after a log rotation).
        const size = await stat(this.file).then(
          (s) => s.size,
          () => 0,
        );
        if (size === 0) head = CSV_HEADER;
      }
      await appendFile(this.file, head + text);
      this.written += n;
      if (this.lastError) {
        this.log?.info(`${this.label}: writing to ${this.file} again`);
        this.lastError = '';
      }
    } catch (err) {
      this.dropped += n;
      this.fail(describe(err as NodeJS.ErrnoException, this.file));
    } finally {
      this.pending -= n;
    }
  }

  private fail(reason: string): void {
    this.errors++;
    const msg = `${this.label}: cannot append to ${this.file}: ${reason}`;
    const now = Date.now();
    if (msg !== this.lastError || now - this.lastLogged > RELOG_MS) {
      this.log?.error(this.dropped ? `${msg} (${this.dropped} points dropped so far)` : msg);
      this.lastLogged = now;
    }
    this.lastError = msg;
  }

  override flush(): Promise<void> {
    return this.chain;
  }

  override stop(): Promise<void> {
    return this.chain;
  }

  override stats(): WriterStats {
    return { writer: this.id, queueLength: this.pending, written: this.written, dropped: this.dropped, errors: this.errors };
  }

  /** The last error message, '' while the file is fine (tests, status pages). */
  get error(): string {
    return this.lastError;
  }
}

function describe(err: NodeJS.ErrnoException, file: string): string {
  switch (err.code) {
    case 'ENOENT':
      return `directory ${path.dirname(file)} does not exist`;
    case 'ENOSPC':
      return 'no space left on device (disk full)';
    case 'EDQUOT':
      return 'disk quota exceeded';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'EISDIR':
      return 'it is a directory';
    case 'ENOTDIR':
      return `a part of ${path.dirname(file)} is not a directory`;
    case 'EROFS':
      return 'read-only file system';
    default:
      return errorMessage(err);
  }
}

function numberJson(v: number): number | string {
  if (Number.isFinite(v)) return v;
  return Number.isNaN(v) ? 'NaN' : v > 0 ? '+Inf' : '-Inf';
}

/** `{"name":...,"labels":{...},"value":1.5,"timestamp":1700000000000,"type":"gauge"}`; NaN/Inf as strings. */
export function jsonLine(p: Point): string {
  return JSON.stringify({ name: p.name, labels: p.labels, value: numberJson(p.value), timestamp: p.timestamp, type: p.type });
}

/** One CSV record: name, labels (as a JSON object), value, timestamp (ms), type. */
export function csvLine(p: Point): string {
  const v = numberJson(p.value);
  return [csvField(p.name), csvField(JSON.stringify(p.labels)), String(v), String(p.timestamp), p.type].join(',');
}

/** RFC 4180: quoted when it holds a comma, quote, CR or LF (or edge spaces); quotes doubled. */
export function csvField(s: string): string {
  if (!/[",\r\n]/.test(s) && s.trim() === s) return s;
  return '"' + s.replace(/"/g, '""') + '"';
}
