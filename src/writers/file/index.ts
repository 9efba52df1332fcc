// File: appends every point to a file each tick, as JSON lines or CSV, like snap's file publisher
// and os-metrics' CSV output. A failing file (missing directory, full disk) is this writer's error
// only: it is logged and counted, never thrown into the executor. It can rotate the file itself,
// by size and by time, keeping a number of old files; the file is opened for each write, so an
// external logrotate that moves it away needs no signal (a SIGHUP is harmless).
import { appendFile, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { Writer, type Batch, type JsonSchema, type Point, type WriterContext, type WriterParams } from '../../sdk/index.js';
import { errorMessage } from '../../log.js';

const schema = {
  type: 'object',
  properties: {
    path: { type: 'string', minLength: 1, description: 'File to append to (relative to the config file)' },
    format: { enum: ['jsonl', 'csv'], default: 'jsonl', description: 'jsonl: one JSON object per line; csv: RFC 4180 with a header' },
    rotation: {
      type: 'object',
      description: "Rotate the file: it becomes path.1, the one before path.2, and so on (logrotate's numbering)",
      properties: {
        maxSize: { type: 'integer', minimum: 1, description: 'Rotate before the file would grow past this many bytes' },
        interval: {
          type: 'number',
          minimum: 1,
          description: "Rotate when the samples' time passes a multiple of this many seconds (3600: hourly, 86400: daily at 00:00 UTC)",
        },
        keep: { type: 'integer', minimum: 1, default: 5, description: 'Rotated files kept; older ones are deleted' },
      },
      additionalProperties: false,
    },
  },
  required: ['path'],
} as const satisfies JsonSchema;

export type FileConfig = WriterParams<typeof schema>;

export const CSV_HEADER = 'name,labels,value,timestamp,type\n';

export class FileWriter extends Writer<FileConfig> {
  static override description = 'Appends the samples to a file, as JSON lines or CSV';
  static override schema = schema;

  private readonly file = path.resolve(this.context.configDir, this.config.path);
  /** With rotation.interval: the period (timestamp / interval) of the samples in the file now. */
  private period: number | undefined;

  override async start(ctx: WriterContext): Promise<void> {
    // A file left from an earlier run belongs to the period it was last written in.
    if (this.config.rotation?.interval) {
      const mtime = await stat(this.file).then(
        (s) => s.mtimeMs,
        () => undefined,
      );
      if (mtime !== undefined) this.period = this.periodOf(mtime);
    }
    // Said now so the user hears of it at startup; the directory may still appear later.
    const dir = path.dirname(this.file);
    const problem = await stat(dir).then(
      (s) => (s.isDirectory() ? undefined : `${dir} is not a directory`),
      (err: NodeJS.ErrnoException) => describe(err, this.file),
    );
    if (problem) ctx.log.error(`writer ${this.id}: cannot append to ${this.file}: ${problem}`);
  }

  async write(batch: Batch): Promise<void> {
    if (batch.points.length === 0) return;
    const csv = this.config.format === 'csv';
    let text = '';
    for (const p of batch.points) text += (csv ? csvLine(p) : jsonLine(p)) + '\n';
    // The size matters to the CSV header and to rotation only: plain JSON lines need no stat.
    let size = csv || this.config.rotation ? await fileSize(this.file) : undefined;
    if (size && this.rotationDue(size, Buffer.byteLength(text), batch.timestamp)) {
      try {
        await this.rotate();
      } catch (err) {
        const e = err as NodeJS.ErrnoException;
        const at = e.path ?? this.file;
        throw new Error(`cannot rotate ${this.file}: ${at}: ${describe(e, at)}`);
      }
      size = 0;
    }
    try {
      // The CSV header goes in whenever the file is new or empty (also after a rotation).
      if (csv && size === 0) text = CSV_HEADER + text;
      await appendFile(this.file, text);
    } catch (err) {
      throw new Error(`cannot append to ${this.file}: ${describe(err as NodeJS.ErrnoException, this.file)}`);
    }
    if (this.config.rotation?.interval) this.period = Math.max(this.period ?? -Infinity, this.periodOf(batch.timestamp));
  }

  private periodOf(ms: number): number {
    return Math.floor(ms / (this.config.rotation!.interval! * 1000));
  }

  /**
   * Whether the file must be rotated before `bytes` more of samples taken at `timestamp`. Time
   * is the samples' own (their tick's start), so a file holds the samples of one period; a batch
   * that is late (retried) goes into the current file.
   */
  private rotationDue(size: number, bytes: number, timestamp: number): boolean {
    const r = this.config.rotation;
    if (!r) return false;
    if (r.maxSize !== undefined && size + bytes > r.maxSize) return true;
    return r.interval !== undefined && this.period !== undefined && this.periodOf(timestamp) > this.period;
  }

  /** path -> path.1 -> path.2 ... -> path.<keep>; the one past `keep` is deleted. */
  private async rotate(): Promise<void> {
    const keep = this.config.rotation!.keep;
    await rm(`${this.file}.${keep}`, { force: true });
    for (let i = keep - 1; i >= 1; i--) {
      await rename(`${this.file}.${i}`, `${this.file}.${i + 1}`).catch((err: NodeJS.ErrnoException) => {
        if (err.code !== 'ENOENT') throw err;
      });
    }
    await rename(this.file, `${this.file}.1`);
  }
}

function fileSize(file: string): Promise<number> {
  return stat(file).then(
    (s) => s.size,
    () => 0,
  );
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
    case 'ERR_FS_EISDIR': // fs.rm's
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
  return JSON.stringify({ name: p.name.id, labels: p.labels, value: numberJson(p.value), timestamp: p.timestamp, type: p.type });
}

/** One CSV record: name, labels (as a JSON object), value, timestamp (ms), type. */
export function csvLine(p: Point): string {
  const v = numberJson(p.value);
  return [csvField(p.name.id), csvField(JSON.stringify(p.labels)), String(v), String(p.timestamp), p.type].join(',');
}

/** RFC 4180: quoted when it holds a comma, quote, CR or LF (or edge spaces); quotes doubled. */
export function csvField(s: string): string {
  if (!/[",\r\n]/.test(s) && s.trim() === s) return s;
  return '"' + s.replace(/"/g, '""') + '"';
}
