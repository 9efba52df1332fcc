// Google Play Console's crash export `crashes_<package>_<YYYYMM>_app_version.csv`: UTF-16 CSV, one
// row per day and app version (Date, Package Name, App Version Code, Daily Crashes, Daily ANRs).

export interface VersionCrashes {
  /** Epoch milliseconds of the row's day, local midnight (as the Python pollect's naive datetime). */
  date: number;
  versionCode: number;
  crashes: number;
  anrs: number;
}

/** The export's text: UTF-16 (little-endian unless a BOM says otherwise), or UTF-8 if it has no zero bytes. */
export function decodeExport(buf: Buffer): string {
  if (buf[0] === 0xff && buf[1] === 0xfe) return buf.subarray(2).toString('utf16le');
  if (buf[0] === 0xfe && buf[1] === 0xff) return Buffer.from(buf.subarray(2)).swap16().toString('utf16le');
  if (buf.length >= 2 && buf[1] === 0 && buf[0] !== 0) return buf.toString('utf16le');
  return buf.toString('utf8').replace(/^\uFEFF/, '');
}

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** Every row of the export; throws naming the line for one that is not a date and three whole numbers. */
export function parseCrashExport(text: string): VersionCrashes[] {
  const lines = text.split(/\r?\n/);
  const rows: VersionCrashes[] = [];
  // Line 1 is the header.
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line === '') continue;
    const cells = line.split(',');
    const d = DATE.exec(cells[0] ?? '');
    const [versionCode, crashes, anrs] = [cells[2], cells[3], cells[4]].map((c) => (c !== undefined && /^\d+$/.test(c.trim()) ? Number(c) : NaN));
    if (!d || !(versionCode! >= 0) || !(crashes! >= 0) || !(anrs! >= 0)) {
      throw new Error(`line ${i + 1} is not "date,package,version code,crashes,ANRs": ${JSON.stringify(line.slice(0, 80))}`);
    }
    rows.push({ date: new Date(Number(d[1]), Number(d[2]) - 1, Number(d[3])).getTime(), versionCode: versionCode!, crashes: crashes!, anrs: anrs! });
  }
  return rows;
}

/** Google adds no row for a day without crashes: a last day older than this means none since. */
const STALE_MS = 3 * 86_400_000;

/**
 * The last day's rows (the day of the file's last row), as the Python pollect reports them:
 * crashes and ANRs of a day more than three days before `now` count as 0.
 */
export function latestDay(rows: readonly VersionCrashes[], now: number): VersionCrashes[] {
  const last = rows.at(-1);
  if (!last) return [];
  return rows.filter((r) => r.date === last.date).map((r) => (r.date < now - STALE_MS ? { ...r, crashes: 0, anrs: 0 } : r));
}
