// Running Debian's collectd (python.so, csv.so) beside pollect's CollectdPython on the same plugins:
// its config, its CSV output read back as identifiers, and pollect's samples named the same way.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Sample } from '../../src/sdk/index.js';

/** One row of a collectd CSV file: identifier, the time collectd stamped, value per data source. */
export interface Row {
  id: string;
  time: number;
  values: Record<string, number>;
}

/** csv/<host>/<plugin[-pinst]>/<type[-tinst]>-<date>: every row, per read index (row n is read n+1). */
export function readCsv(dir: string): Map<string, Row[]> {
  const out = new Map<string, Row[]>();
  if (!existsSync(dir)) return out;
  for (const host of readdirSync(dir)) {
    for (const plugin of readdirSync(path.join(dir, host))) {
      for (const file of readdirSync(path.join(dir, host, plugin))) {
        const type = file.replace(/-\d{4}-\d{2}-\d{2}$/, '');
        const [header, ...lines] = readFileSync(path.join(dir, host, plugin, file), 'utf8')
          .trim()
          .split('\n');
        const names = header!.split(',').slice(1);
        const id = `${host}/${plugin}/${type}`;
        out.set(
          id,
          lines.map((l) => {
            const [time, ...values] = l.split(',');
            return { id, time: Number(time), values: Object.fromEntries(values.map((v, i) => [names[i]!, Number(v)])) };
          }),
        );
      }
    }
  }
  return out;
}

/** pollect's samples back to collectd identifiers, by the README's mapping. */
export function identifiers(samples: readonly Sample[], dsNames: Record<string, string[]>): Map<string, Record<string, number>> {
  const out = new Map<string, Record<string, number>>();
  for (const s of samples) {
    const l = s.labels ?? {};
    // name = <plugin>.<type>[.<ds>]: the plugin may hold dots (python.spam), the type does not.
    const parts = s.name!.split('.');
    const multi = parts.length >= 3 && dsNames[parts.at(-2)!]?.includes(parts.at(-1)!);
    const ds = multi ? parts.pop()! : 'value';
    const type = parts.pop()!;
    const plugin = parts.join('.');
    const id = `${l['host']}/${plugin}${l['plugin_instance'] ? `-${l['plugin_instance']}` : ''}/${type}${l['type_instance'] ? `-${l['type_instance']}` : ''}`;
    out.set(id, { ...out.get(id), [ds]: s.value });
  }
  return out;
}

/** A <Module name> block of collectd.conf, its lines indented inside. */
export function moduleBlock(name: string, lines: string): string {
  return `  <Module ${name}>\n${lines}\n  </Module>\n`;
}

/**
 * collectd.conf writing CSV into <dir>/csv at Interval 1, host "side": python.so imports `imports`
 * from "plugins" (relative to collectd's working directory, as pollect's modulePath is to the config
 * file) and gets the <Module> blocks given; `typesDb` adds types.db files after Debian's.
 */
export function collectdConf(dir: string, imports: readonly string[], modules: string, typesDb: readonly string[] = []): string {
  return `Hostname "side"
FQDNLookup false
Interval 1
BaseDir "${dir}"
PIDFile "${dir}/collectd.pid"
TypesDB "/usr/share/collectd/types.db"
${typesDb.map((f) => `TypesDB "${f}"\n`).join('')}LoadPlugin csv
<Plugin csv>
  DataDir "${dir}/csv"
  StoreRates false
</Plugin>
<LoadPlugin python>
  Globals true
</LoadPlugin>
<Plugin python>
  ModulePath "plugins"
${imports.map((m) => `  Import "${m}"\n`).join('')}${modules}</Plugin>
`;
}

/** collectd in the foreground on `conf`, in `dir`; stderr() is what it logged so far. */
export function startCollectd(dir: string, conf: string): { proc: ChildProcess; stderr: () => string } {
  const proc = spawn('collectd', ['-f', '-C', conf], { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  proc.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  return { proc, stderr: () => stderr };
}

/** The CSV files of `csvDir` once `done` holds (polled every 200 ms), or as they are after `ms`. */
export async function waitForCsv(csvDir: string, done: (csv: Map<string, Row[]>) => boolean, ms = 15_000): Promise<Map<string, Row[]>> {
  const until = Date.now() + ms;
  let csv = readCsv(csvDir);
  while (!done(csv) && Date.now() < until) {
    await new Promise((r) => setTimeout(r, 200));
    csv = readCsv(csvDir);
  }
  return csv;
}
