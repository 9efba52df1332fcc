// Preloaded with `node --import` by bench/host.mjs: records every child process the daemon
// starts, one line per spawn appended to $BENCH_SPAWN_FILE at once (so the count survives any
// way the process ends). Every async API (spawn, exec, execFile, fork) goes through
// ChildProcess.prototype.spawn; the sync ones are wrapped on the module and re-synced to ESM.
import { appendFileSync } from 'node:fs';
import childProcess, { ChildProcess } from 'node:child_process';
import { syncBuiltinESMExports } from 'node:module';

const file = process.env.BENCH_SPAWN_FILE;
function record(kind, what) {
  if (file) appendFileSync(file, `${kind} ${String(what).slice(0, 200)}\n`);
}

const spawn = ChildProcess.prototype.spawn;
ChildProcess.prototype.spawn = function (options) {
  record('spawn', options?.file ?? '?');
  return spawn.call(this, options);
};
for (const name of ['spawnSync', 'execSync', 'execFileSync']) {
  const orig = childProcess[name];
  childProcess[name] = function (cmd, ...rest) {
    record(name, cmd);
    return orig.call(this, cmd, ...rest);
  };
}
syncBuiltinESMExports();
