import { fixtureDir } from '../helpers/fixtures.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync, chmodSync } from 'node:fs';
import path from 'node:path';
import { SensorsSource } from '../../src/sources/sensors/index.js';
import { chipMatches, cleanSensorsJson, parseSensorsJson } from '../../src/sources/sensors/parse.js';
import { SourceError } from '../../src/sdk/index.js';
import { probeOnce, valueOf } from '../helpers/probe.js';
import { tempDir } from '../helpers/net.js';
import { build } from '../helpers/plugin.js';
import { needs } from '../helpers/servers.js';

/** Whether a process runs (a killed one waiting to be reaped by init, state Z, does not). */
function alive(pid: number): boolean {
  try {
    const state = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ').pop()![0];
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

const FIX = fixtureDir('sensors');
const nct = readFileSync(path.join(FIX, 'nct6798-coretemp-nvme.json'), 'utf8');
const acpi = readFileSync(path.join(FIX, 'acpitz-coretemp-nvme.json'), 'utf8');

/** Every `<prefix>N_input` number in a sensors -j document, counted independently of the parser. */
function countInputs(text: string): number {
  return [...text.matchAll(/"(temp|fan|in|power|curr|energy|humidity)\d+_input":\s*-?[0-9.]+/g)].length;
}

describe('parseSensorsJson on real sensors -j output', () => {
  it('reads every *_input of the nct6798 board with kinds and feature labels', () => {
    const r = parseSensorsJson(nct);
    expect(r.length).toBe(countInputs(nct));
    const data = JSON.parse(nct) as Record<string, Record<string, Record<string, number>>>;
    expect(r.find((x) => x.device === 'nct6798-isa-02a0' && x.name === 'in0')).toEqual({
      device: 'nct6798-isa-02a0',
      name: 'in0',
      kind: 'voltage',
      value: data['nct6798-isa-02a0']!['in0']!['in0_input'],
    });
    expect(r.some((x) => x.kind === 'fan')).toBe(true);
    expect(r.some((x) => x.kind === 'temperature' && x.device.startsWith('coretemp'))).toBe(true);
    // No min/max/alarm/beep subfeature becomes a reading.
    expect(r.every((x) => Number.isFinite(x.value))).toBe(true);
  });

  it('reads the many-core coretemp with non-consecutive core numbers', () => {
    const r = parseSensorsJson(acpi);
    expect(r.length).toBe(countInputs(acpi));
    const core39 = r.find((x) => x.name === 'Core 39');
    expect(core39?.kind).toBe('temperature');
    expect(r.find((x) => x.device === 'acpitz-acpi-0')?.value).toBe(27.8);
    expect(r.find((x) => x.device === 'nvme-pci-0500' && x.name === 'Composite')?.value).toBe(32.85);
  });

  it('tolerates the lm-sensors ERROR lines inside the JSON (issue #346 form and a dangling comma)', () => {
    const broken = `{
   "thinkpad-isa-0000":{
      "Adapter": "ISA adapter",
      "fan1":{
         "fan1_input": 2100.000
      },
      "temp2":{
ERROR: Can't get value of subfeature temp2_input: Can't read

      },
      "temp3":{
         "temp3_input": 41.000,
ERROR: Can't get value of subfeature temp3_max: Can't read
      }
   }
}`;
    expect(() => JSON.parse(broken)).toThrow();
    const r = parseSensorsJson(broken);
    expect(r).toEqual([
      { device: 'thinkpad-isa-0000', name: 'fan1', kind: 'fan', value: 2100 },
      { device: 'thinkpad-isa-0000', name: 'temp3', kind: 'temperature', value: 41 },
    ]);
    expect(cleanSensorsJson(broken)).not.toContain('ERROR');
  });

  it('rejects garbage and truncated JSON with a SourceError', () => {
    expect(() => parseSensorsJson('<html>nope</html>')).toThrow(SourceError);
    expect(() => parseSensorsJson(nct.slice(0, nct.length / 2))).toThrow(/invalid JSON/);
    expect(() => parseSensorsJson('[1,2]')).toThrow(/not an object/);
  });

  it('matches chips by full name, prefix and glob', () => {
    expect(chipMatches('coretemp-isa-0000', 'coretemp')).toBe(true);
    expect(chipMatches('coretemp-isa-0000', 'coretemp-isa-0000')).toBe(true);
    expect(chipMatches('coretemp-isa-0000', 'core*')).toBe(true);
    expect(chipMatches('coretemp-isa-0000', 'nvme')).toBe(false);
    expect(chipMatches('nvme-pci-0500', '*-pci-*')).toBe(true);
  });
});

describe('SensorsSource running a command', () => {
  const tmp = tempDir('pollect-sensors-');
  const script = (name: string, body: string): string => {
    const p = path.join(tmp.dir, name);
    writeFileSync(p, `#!/bin/sh\n${body}\n`);
    chmodSync(p, 0o755);
    return p;
  };
  let fixtureCmd: string;
  beforeAll(() => {
    fixtureCmd = script('sensors-fixture', `[ "$1" = "-j" ] || exit 9\ncat '${path.join(FIX, 'nct6798-coretemp-nvme.json')}'`);
  });
  afterAll(() => tmp.remove());

  it("emits one family with device, name and unit labels, as the Python pollect's", async () => {
    const src = build(SensorsSource, { type: 'Sensors', path: fixtureCmd });
    const samples = await probeOnce(src);
    expect(samples.length).toBe(countInputs(nct));
    expect(new Set(samples.map((s) => s.name))).toEqual(new Set([undefined]));
    const data = JSON.parse(nct) as Record<string, Record<string, Record<string, number>>>;
    expect(valueOf(samples, undefined, { device: 'nct6798-isa-02a0', name: 'in0', unit: 'V' })).toBe(data['nct6798-isa-02a0']!['in0']!['in0_input']);
    const fan = samples.find((s) => s.labels?.unit === 'RPM')!;
    expect(fan.labels?.name).toMatch(/^fan\d$/);
    expect(fan.unit).toBe('rpm');
    const t = samples.find((s) => s.labels?.device === 'coretemp-isa-0000')!;
    expect(t.labels).toMatchObject({ unit: '°C', name: expect.stringMatching(/^(package_id_0|core_\d+)$/) });
    expect(t.unit).toBe('celsius');
  });

  it('include and exclude chips', async () => {
    const inc = await probeOnce(build(SensorsSource, { type: 'Sensors', path: fixtureCmd, include: ['coretemp'] }));
    expect(inc.length).toBeGreaterThan(0);
    expect(inc.every((s) => s.labels?.device === 'coretemp-isa-0000')).toBe(true);
    const exc = await probeOnce(build(SensorsSource, { type: 'Sensors', path: fixtureCmd, exclude: ['coretemp', 'nvme-pci-0200'] }));
    expect(exc.length).toBeGreaterThan(0);
    expect(exc.every((s) => s.labels?.device === 'nct6798-isa-02a0')).toBe(true);
  });

  it('useBaseUnits false: values in the unit sensors prints (mV), fans and temperatures unchanged', async () => {
    const base = await probeOnce(build(SensorsSource, { type: 'Sensors', path: fixtureCmd }));
    const raw = await probeOnce(build(SensorsSource, { type: 'Sensors', path: fixtureCmd, useBaseUnits: false }));
    const v = base.find((s) => s.labels?.unit === 'V' && s.value > 0 && s.value < 1)!;
    const mv = raw.find((s) => s.labels?.name === v.labels?.name && s.labels?.device === v.labels?.device)!;
    expect(mv.labels?.unit).toBe('mV');
    expect(mv.unit).toBe('millivolts');
    expect(mv.value).toBeCloseTo(v.value * 1000, 9);
    const f = base.find((s) => s.labels?.unit === 'RPM')!;
    expect(raw.find((s) => s.labels?.name === f.labels?.name && s.labels?.device === f.labels?.device)).toMatchObject({
      value: f.value,
      labels: { unit: 'RPM' },
    });
  });

  it('falls back to the text output when this sensors has no -j (lm-sensors before 3.5), and stays with it', async () => {
    const calls = path.join(tmp.dir, 'calls');
    const old = script(
      'sensors-old',
      `echo "$*" >> '${calls}'\nif [ "$1" = "-j" ]; then echo "sensors: invalid option -- 'j'" >&2; exit 1; fi\nprintf 'coretemp-isa-0000\\nAdapter: ISA adapter\\nPackage id 0:  +45.0°C  (high = +80.0°C, crit = +100.0°C)\\n'`,
    );
    const src = build(SensorsSource, { type: 'Sensors', path: old });
    expect(await probeOnce(src)).toEqual([{ value: 45, labels: { device: 'coretemp-isa-0000', name: 'package_id_0', unit: '°C' }, unit: 'celsius' }]);
    await probeOnce(src);
    expect(readFileSync(calls, 'utf8')).toBe('-j\n\n\n');
  });

  it('a hanging command is killed at the timeout', async () => {
    const hang = script('sensors-hang', 'exec sleep 30');
    const started = Date.now();
    await expect(probeOnce(build(SensorsSource, { type: 'Sensors', path: hang }), { timeoutMs: 300 })).rejects.toThrow(/timed out|aborted/);
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('a wrapper whose child hangs: the whole group is killed at the timeout', async () => {
    const pidFile = path.join(tmp.dir, 'grandchild.pid');
    const wrapper = script('sensors-wrapper', `sleep 60 &\necho $! > '${pidFile}'\nwait`);
    const started = Date.now();
    await expect(probeOnce(build(SensorsSource, { type: 'Sensors', path: wrapper }), { timeoutMs: 300 })).rejects.toThrow(/timed out|aborted/);
    expect(Date.now() - started).toBeLessThan(5000);
    const pid = Number(readFileSync(pidFile, 'utf8'));
    for (let i = 0; i < 20 && alive(pid); i++) await new Promise((r) => setTimeout(r, 50));
    expect(alive(pid)).toBe(false);
  });

  it('binary output, garbage, a failing command and a missing command give SourceErrors', async () => {
    const bin = script('sensors-bin', "printf '\\000\\001\\002\\377\\376'");
    await expect(probeOnce(build(SensorsSource, { type: 'Sensors', path: bin }))).rejects.toThrow(/binary/);
    const garbage = script('sensors-garbage', "echo 'Segmentation fault, core dumped'");
    await expect(probeOnce(build(SensorsSource, { type: 'Sensors', path: garbage }))).rejects.toThrow(SourceError);
    const none = script('sensors-none', "printf '{\\n\\n}\\n'; echo 'No sensors found!' >&2; exit 1");
    await expect(probeOnce(build(SensorsSource, { type: 'Sensors', path: none }))).rejects.toThrow(/No sensors found!/);
    await expect(probeOnce(build(SensorsSource, { type: 'Sensors', path: path.join(tmp.dir, 'missing') }))).rejects.toThrow(/not found/);
  });

  it('a huge output is cut off with a SourceError', async () => {
    const huge = script('sensors-huge', 'yes "          " | head -c 20000000');
    await expect(probeOnce(build(SensorsSource, { type: 'Sensors', path: huge }))).rejects.toThrow(/more than/);
  });

  it('a missing sensors binary is a SourceError naming it', async () => {
    const missing = path.join(tmp.dir, 'no-such-sensors');
    const err = await probeOnce(build(SensorsSource, { type: 'Sensors', path: missing })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SourceError);
    expect((err as Error).message).toContain(`${missing}: command not found`);
  });

  it.skipIf(!needs('sensors'))('the real sensors binary answers or fails cleanly (no chips in a VM)', async () => {
    const src = build(SensorsSource, { type: 'Sensors' });
    try {
      const samples = await probeOnce(src);
      for (const s of samples) expect(Number.isFinite(s.value)).toBe(true);
    } catch (err) {
      expect(err).toBeInstanceOf(SourceError);
      expect((err as Error).message).toMatch(/sensors -j failed/);
    }
  });
});
