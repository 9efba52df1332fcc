// Prints one line per outage test: the figures the issue asks for (made, stored, missing).
import type { OutageResult } from '../helpers/outage.js';

export function report(writer: string, kill: boolean, r: OutageResult): void {
  const what = kill ? 'outage + SIGKILL/restart' : 'outage';
  console.log(
    `${writer} ${what}: made ${r.made}, stored ${r.stored}, missing ${r.missing.length}, duplicates ${r.duplicates}, all in ${r.recoverySeconds.toFixed(1)} s after the backend returned`,
  );
  if (r.missing.length > 0) console.log(r.output.slice(-3000));
}
