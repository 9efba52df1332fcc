// Fake /proc trees for the host sources' tests: files written to a temp dir that HOST_PROC
// points at while a test runs, so a source's own reading and parsing code runs on odd contents.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface FakeProc {
  root: string;
  /** Writes (or rewrites) files, paths relative to the fake /proc. */
  write(files: Record<string, string>): void;
  /** Points HOST_PROC here until restore(). */
  use(): void;
  restore(): void;
  remove(): void;
}

export function fakeProc(files: Record<string, string> = {}): FakeProc {
  const root = mkdtempSync(join(tmpdir(), 'pollect-proc-'));
  const write = (f: Record<string, string>) => {
    for (const [rel, text] of Object.entries(f)) {
      mkdirSync(join(root, rel, '..'), { recursive: true });
      writeFileSync(join(root, rel), text, 'latin1');
    }
  };
  write(files);
  return {
    root,
    write,
    use: () => {
      process.env.HOST_PROC = root;
    },
    restore: () => {
      delete process.env.HOST_PROC;
    },
    remove: () => {
      delete process.env.HOST_PROC;
      rmSync(root, { recursive: true, force: true });
    },
  };
}

export const GARBAGE = '\x00\xff\xfe<html><body>502 Bad Gateway</body></html>\x1b[31m';
