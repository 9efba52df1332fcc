// The launcher's V8 flags (bin/v8-flags.js): an option V8 no longer knows must never print an
// error or stop pollect. CI runs this file under every supported Node (.ci/run: 20 and 24).
import { describe, expect, it } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import path from 'node:path';
import { CHECKED_V8, knownFlags, V8_FLAGS } from '../bin/v8-flags.js';
import { BIN } from './helpers/cli.js';

const MODULE = path.resolve(__dirname, '../bin/v8-flags.js');

const [major, minor] = process.versions.v8.split('.').map(Number) as [number, number];
const checkedHere = major < CHECKED_V8[0] || (major === CHECKED_V8[0] && minor <= CHECKED_V8[1]);

describe('V8 flags', () => {
  it.runIf(checkedHere)('are all listed by this Node, whose V8 is one they were checked on', () => {
    const listed = execFileSync(process.execPath, ['--v8-options'], { encoding: 'utf8' });
    for (const flag of V8_FLAGS) {
      const name = flag.replace(/^--(no-)?/, '').replace(/=.*$/, '');
      expect(listed, flag).toMatch(new RegExp(`^\\s+--${name} \\(`, 'm'));
    }
  });

  it('on a checked V8 are set as they are, without asking V8', () => {
    const ask = (): string => {
      throw new Error('asked');
    };
    expect(knownFlags(V8_FLAGS, `${CHECKED_V8[0]}.${CHECKED_V8[1]}.1`, ask)).toEqual(V8_FLAGS);
    expect(knownFlags(V8_FLAGS, '11.3.244.8-node.38', ask)).toEqual(V8_FLAGS);
  });

  it('on a newer V8 are only those it lists, and none when it cannot be asked', () => {
    const listing = '  --max-opt (Set the maximal optimisation tier)\n        type: int  default: --max-opt=999\n  --semi-space-growth-factor-x (other)\n';
    expect(knownFlags(V8_FLAGS, '99.0.0', () => listing)).toEqual(['--max-opt=1']);
    expect(
      knownFlags(V8_FLAGS, `${CHECKED_V8[0]}.${CHECKED_V8[1] + 1}.0`, () => {
        throw new Error('no node');
      }),
    ).toEqual([]);
  });

  it('leave out an unknown flag on this Node: nothing on stderr, the program goes on', () => {
    const script = `const m = await import(${JSON.stringify(MODULE)});
const { setFlagsFromString } = await import('node:v8');
for (const f of m.knownFlags([...m.V8_FLAGS, '--no-such-pollect-flag', '--no-such-pollect-option=1'], '99.0.0')) setFlagsFromString(f);
console.log('alive');`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 20_000 });
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('alive\n');
    expect(r.status).toBe(0);
  });

  it('let the launcher start with nothing on stderr', () => {
    const r = spawnSync(process.execPath, [BIN, '--version'], { encoding: 'utf8', timeout: 20_000 });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });
});
