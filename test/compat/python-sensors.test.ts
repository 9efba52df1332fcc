// The Python pollect's tests/test_SensorsSource.py (../shared/fixtures/pollect-tests/tests/, MIT),
// ported: its `sensors` text output, read from the test file itself, through a fake `sensors`.
import { afterAll, describe, expect, it } from 'vitest';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { SensorsSource } from '../../src/sources/sensors/index.js';
import { parseSensorsText } from '../../src/sources/sensors/text.js';
import { fixtureDir } from '../helpers/fixtures.js';
import { tempDir } from '../helpers/net.js';
import { build } from '../helpers/plugin.js';
import { probeOnce } from '../helpers/probe.js';

const PY = readFileSync(fixtureDir('pollect-tests', 'tests', 'test_SensorsSource.py'), 'utf8');
const OUT = /OUT = '''([\s\S]*?)'''/.exec(PY)![1]!;
const tmp = tempDir();
afterAll(() => tmp.remove());

describe('test_SensorsSource.test_simple', () => {
  it('reads the text output as the Python pollect does: device, lower snake name, unit; mV as V', async () => {
    writeFileSync(path.join(tmp.dir, 'out.txt'), OUT);
    const cmd = path.join(tmp.dir, 'sensors');
    writeFileSync(cmd, `#!/bin/sh\ncat '${path.join(tmp.dir, 'out.txt')}'\n`);
    chmodSync(cmd, 0o755);
    const values = await probeOnce(build(SensorsSource, { type: 'Sensors', path: cmd, format: 'text' }));
    const at = (i: number) => [values[i]!.labels!.device, values[i]!.labels!.name, values[i]!.labels!.unit, values[i]!.value];
    expect(at(0)).toEqual(['nct6798-isa-0290', 'in0', 'V', 0.36]);
    expect(at(16)).toEqual(['nct6798-isa-0290', 'fan2', 'RPM', 1869]);
    expect(at(32)).toEqual(['amdgpu-pci-0700', 'vddgfx', 'V', 1.16]);
    expect(at(36).slice(0, 3)).toEqual(['nvme-pci-0400', 'composite', '°C']);
    expect(at(37).slice(0, 3)).toEqual(['nvme-pci-0400', 'sensor_1', '°C']);
    // Beyond what it asserts: mW as W, negative temperatures, labels with spaces.
    expect(values.find((v) => v.labels!.name === 'slowppt')).toMatchObject({ value: 0.002, labels: { unit: 'W' } });
    expect(values.find((v) => v.labels!.name === 'auxtin1')!.value).toBe(-62);
    expect(values.find((v) => v.labels!.name === 'smbusmaster_0')!.value).toBe(31);
    expect(new Set(values.map((v) => v.name))).toEqual(new Set([undefined]));
  });

  it('skips continuation lines, Adapter, ALARM and enabled/disabled lines', () => {
    const r = parseSensorsText(OUT);
    expect(r.filter((x) => x.device === 'nvme-pci-0400').map((x) => x.name)).toEqual(['Composite', 'Sensor 1', 'Sensor 2']);
    expect(r.some((x) => /intrusion|beep_enable|Adapter/.test(x.name))).toBe(false);
    expect(r).toHaveLength(15 + 7 + 10 + 4 + 3 + 1 + 3);
  });
});
