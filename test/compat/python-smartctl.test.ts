// The Python pollect's tests/test_SmartCtl.py (../shared/fixtures/pollect-tests/tests/, MIT),
// ported: its nvme.json and sda.json, served by a fake smartctl whose --scan lists the names its
// tests give os.listdir, and the same assertions.
import { afterAll, describe, expect, it } from 'vitest';
import { chmodSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { SmartCtlSource } from '../../src/sources/smartctl/index.js';
import { fixtureDir } from '../helpers/fixtures.js';
import { tempDir } from '../helpers/net.js';
import { build } from '../helpers/plugin.js';
import { probeOnce } from '../helpers/probe.js';

const tmp = tempDir();
afterAll(() => tmp.remove());
let n = 0;

/** A smartctl whose scan lists `devices` and whose report for any of them is `report`. */
function smartctl(devices: string[], report: string): string {
  const scan = JSON.stringify({ devices: devices.map((d) => ({ name: `/dev/${d}`, type: 'sat' })) });
  const file = path.join(tmp.dir, `smartctl${n++}`);
  writeFileSync(file, `#!/bin/sh\nif [ "$1" = "--scan" ]; then echo '${scan}'; exit 0; fi\ncat '${fixtureDir('pollect-tests', report)}'\n`);
  chmodSync(file, 0o755);
  return file;
}

const probe = (devs: string[], report: string, params: { attributes: string[]; devices: string[] }) =>
  probeOnce(build(SmartCtlSource, { type: 'SmartCtl', path: smartctl(devs, report), ...params }));

describe('test_SmartCtl', () => {
  it('test_simple_2: an NVMe list attribute expands to _0, _1', async () => {
    const values = await probe(['sda'], 'nvme.json', { attributes: ['temperature_sensors', 'available_spare'], devices: ['sda'] });
    expect(values).toHaveLength(3);
    expect(values[0]!.value).toBe(100);
    expect(values[1]!.value).toBe(36);
    expect(values[2]!.value).toBe(36);
    expect(values.map((v) => v.labels!.attribute)).toEqual(['available_spare', 'temperature_sensors_0', 'temperature_sensors_1']);
  });

  it('test_simple: Power_Cycle_Count', async () => {
    const values = await probe(['sda'], 'sda.json', { attributes: ['Power_Cycle_Count'], devices: ['sda'] });
    expect(values).toHaveLength(1);
    expect(values[0]!.value).toBe(23);
  });

  it('test_regex: sd[a-z]$ matches sda and sdb, not their partitions', async () => {
    const values = await probe(['sda', 'sda1', 'sdb', 'sdb1'], 'sda.json', { attributes: ['Power_Cycle_Count'], devices: ['sd[a-z]$'] });
    expect(values).toHaveLength(2);
    expect(values[0]).toMatchObject({ value: 23, labels: { dev: 'sda' } });
    expect(values[1]).toMatchObject({ value: 23, labels: { dev: 'sdb' } });
  });

  it('test_correct_unit: Temperature_Celsius is the decoded raw value', async () => {
    const values = await probe(['sda'], 'sda.json', { attributes: ['Temperature_Celsius'], devices: ['sda'] });
    expect(values).toHaveLength(1);
    expect(values[0]!.value).toBe(32);
  });
});
