// Debian's chromium, headless, as the tests' browser: a page's DOM after its scripts ran
// (--dump-dom) or a screenshot of it. No browser driver: one chromium process per call.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

function chromium(args: string[], url: string): Promise<string> {
  // Its own profile folder, removed after: nothing is read from or left in the home folder.
  const profile = mkdtempSync(path.join(tmpdir(), 'pollect-chromium-'));
  const all = ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--hide-scrollbars', `--user-data-dir=${profile}`, ...args, url];
  return new Promise<string>((resolve, reject) => {
    // Async: the page's server may run in this very process.
    execFile('chromium', all, { timeout: 60_000, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      rmSync(profile, { recursive: true, force: true });
      if (err) reject(new Error(`chromium failed: ${err.message}\n${stderr.slice(-2000)}`));
      else resolve(stdout);
    });
  });
}

/** The DOM of `url` as chromium has it once the page loaded, serialized. */
export function dumpDom(url: string): Promise<string> {
  return chromium(['--dump-dom'], url);
}

/** Saves a PNG screenshot of `url` as `file`, the window `width`×`height` pixels. */
export async function screenshot(url: string, file: string, width = 1280, height = 900): Promise<void> {
  await chromium([`--screenshot=${file}`, `--window-size=${width},${height}`], url);
}
