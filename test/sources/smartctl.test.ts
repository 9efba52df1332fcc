import { fixtureDir } from '../helpers/fixtures.js';
import { afterAll, describe, expect, it } from 'vitest';
import { readFileSync, readdirSync, writeFileSync, chmodSync, existsSync } from 'node:fs';
import path from 'node:path';
import { SmartCtlSource } from '../../src/sources/smartctl/index.js';
import { ataRawValue, parseScan, parseSmartReport } from '../../src/sources/smartctl/parse.js';
import { SourceError } from '../../src/sdk/index.js';
import { probeOnce, valueOf } from '../helpers/probe.js';
import { tempDir } from '../helpers/net.js';
import { build } from '../helpers/plugin.js';

/** Whether a process runs (a killed one waiting to be reaped by init, state Z, does not). */
function alive(pid: number): boolean {
  try {
    const state = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ').pop()![0];
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

const FIX = fixtureDir('smartctl');
const fixture = (f: string): string => readFileSync(path.join(FIX, f), 'utf8');
type Json = Record<string, any>;
const json = (f: string): Json => JSON.parse(fixture(f)) as Json;

describe('smartctl JSON parser on real reports', () => {
  const reports = readdirSync(FIX).filter((f) => f.endsWith('.json') && f !== 'scan.json');

  it.each(reports)('%s: every ATA row (raw value) and every NVMe log field', (file) => {
    const d = json(file);
    const r = parseSmartReport(fixture(file));
    const byName = new Map(r.attributes.map((a) => [a.attribute, a.value]));
    expect(r.attributes.length).toBe(byName.size); // no duplicate attribute names
    for (const row of d.ata_smart_attributes?.table ?? []) expect(byName.get(row.name)).toBe(row.raw.value);
    for (const [k, v] of Object.entries<unknown>(d.nvme_smart_health_information_log ?? {})) {
      if (Array.isArray(v)) v.forEach((x, i) => expect(byName.get(`${k}_${i}`)).toBe(x));
      else expect(byName.get(k)).toBe(v);
    }
    expect(byName.get('smart_passed')).toBe(d.smart_status.passed ? 1 : 0);
    expect(r.attributes.length).toBeGreaterThan(2);
  });

  it('NVMe with media errors reports them', () => {
    const r = parseSmartReport(fixture('nvme-samsung-970evo-media-errors.json'));
    expect(r.attributes.find((a) => a.attribute === 'media_errors')?.value).toBe(7);
    expect(r.attributes.find((a) => a.attribute === 'num_err_log_entries')?.value).toBe(62);
  });

  it('SCSI: temperature, power-on hours and grown defects', () => {
    const r = parseSmartReport(fixture('scsi-sas-hdd.json'));
    expect(r.attributes).toEqual([
      { attribute: 'temperature', value: 24 },
      { attribute: 'power_on_hours', value: 32978 },
      { attribute: 'scsi_grown_defect_list', value: 0 },
      { attribute: 'smart_passed', value: 1 },
    ]);
  });

  it("decoded packed raw values use smartctl's decoding", () => {
    expect(ataRawValue({ value: 193273528356, string: '36 (Min/Max 20/45)' })).toBe(36);
    expect(ataRawValue({ value: 4925812092, string: '1234h+05m+06.789s' })).toBe(1234);
    expect(ataRawValue({ value: 6150, string: '6150' })).toBe(6150);
    expect(ataRawValue({ value: 12, string: '0/12' })).toBe(12);
  });

  it('scan output lists the devices with types', () => {
    expect(parseScan(fixture('scan.json'))).toEqual([
      { name: '/dev/sda', type: 'sat' },
      { name: '/dev/nvme0', type: 'nvme' },
      { name: '/dev/nvme1', type: 'nvme' },
    ]);
  });

  it('garbage and truncated JSON give SourceErrors', () => {
    expect(() => parseSmartReport('<html>500</html>')).toThrow(SourceError);
    const t = fixture('ata-hdd-wd-red.json');
    expect(() => parseSmartReport(t.slice(0, 500))).toThrow(/invalid JSON/);
    expect(() => parseScan('"x"')).toThrow(/not an object/);
  });
});

describe('SmartCtlSource running smartctl through path', () => {
  const tmp = tempDir('pollect-smartctl-');
  afterAll(() => tmp.remove());
  const script = (name: string, body: string): string => {
    const p = path.join(tmp.dir, name);
    writeFileSync(p, `#!/bin/sh\n${body}\n`);
    chmodSync(p, 0o755);
    return p;
  };
  const argsLog = path.join(tmp.dir, 'args.log');
  // A stand-in smartctl that prints the real captured reports: the scan, then one per device.
  const fake = script(
    'smartctl-fixtures',
    `echo "$*" >> '${argsLog}'
if [ "$1" = "--scan" ]; then cat '${FIX}/scan.json'; exit 0; fi
for last; do :; done
case "$last" in
  /dev/sda) cat '${FIX}/ata-hdd-wd-red.json'; exit 64 ;;
  /dev/nvme0) cat '${FIX}/nvme-samsung-pm9a1.json' ;;
  /dev/nvme1) cat '${FIX}/nvme-sabrent-rocket4.json'; exit 4 ;;
  *) echo "no such device $last" >&2; exit 2 ;;
esac`,
  );

  it('reads every scanned device; exit bits 4 and 64 still carry data', async () => {
    const samples = await probeOnce(build(SmartCtlSource, { type: 'SmartCtl', path: fake }));
    const wd = json('ata-hdd-wd-red.json');
    const row = wd.ata_smart_attributes.table.find((r: Json) => r.name === 'Power_On_Hours');
    expect(valueOf(samples, undefined, { attribute: 'Power_On_Hours', dev: 'sda' })).toBe(row.raw.value);
    expect(valueOf(samples, undefined, { attribute: 'temperature_sensors_1', dev: 'nvme0' })).toBe(
      json('nvme-samsung-pm9a1.json').nvme_smart_health_information_log.temperature_sensors[1],
    );
    expect(valueOf(samples, undefined, { attribute: 'data_units_written', dev: 'nvme1' })).toBe(
      json('nvme-sabrent-rocket4.json').nvme_smart_health_information_log.data_units_written,
    );
    expect(valueOf(samples, undefined, { attribute: 'smartctl_exit_status', dev: 'sda' })).toBe(64);
    expect(valueOf(samples, undefined, { attribute: 'smartctl_exit_status', dev: 'nvme1' })).toBe(4);
    // The device type from the scan is passed on.
    expect(readFileSync(argsLog, 'utf8')).toContain('--json -a -d sat /dev/sda');
  });

  it('devices regexes and attributes filter; matched at every probe', async () => {
    const src = build(SmartCtlSource, { type: 'SmartCtl', path: fake, devices: ['nvme'], attributes: ['temperature', 'media_errors'] });
    const samples = await probeOnce(src);
    expect(samples.map((s) => `${s.labels?.dev}/${s.labels?.attribute}`).sort()).toEqual([
      'nvme0/media_errors',
      'nvme0/temperature',
      'nvme1/media_errors',
      'nvme1/temperature',
    ]);
    writeFileSync(argsLog, '');
    await probeOnce(src);
    expect(readFileSync(argsLog, 'utf8')).toMatch(/^--scan --json$/m); // scanned again, not once at start
    const one = await probeOnce(build(SmartCtlSource, { type: 'SmartCtl', path: fake, devices: ['nvme1$'] }));
    expect(new Set(one.map((s) => s.labels?.dev))).toEqual(new Set(['nvme1']));
  });

  it('discover "dev" lists /dev like pollect', async () => {
    const dev = readdirSync('/dev').find((n) => /^(null)$/.test(n));
    expect(dev).toBe('null');
    // /dev/null is not a disk: the fake smartctl fails on it with exit 2, a clear error.
    await expect(probeOnce(build(SmartCtlSource, { type: 'SmartCtl', path: fake, discover: 'dev', devices: ['null$'] }))).rejects.toThrow(
      /\/dev\/null: exit status 2 .*no such device/,
    );
  });

  it('auto: a regex no scanned disk matches (a namespace such as nvme0n1) is matched against /dev, as the Python pollect does', async () => {
    // /dev/null is no disk, and no scanned name: the fake smartctl is asked for it and fails with exit 2.
    await expect(probeOnce(build(SmartCtlSource, { type: 'SmartCtl', path: fake, devices: ['null$'] }))).rejects.toThrow(
      /\/dev\/null: exit status 2 .*no such device/,
    );
    await expect(probeOnce(build(SmartCtlSource, { type: 'SmartCtl', path: fake, discover: 'scan', devices: ['null$'] }))).rejects.toThrow(
      /no device matches \["null\$"\] among 3 found by/,
    );
    // A regex a scanned disk matches does not list /dev.
    writeFileSync(argsLog, '');
    await probeOnce(build(SmartCtlSource, { type: 'SmartCtl', path: fake, devices: ['sda', 'null$'] })).catch(() => {});
    expect(readFileSync(argsLog, 'utf8').trim().split('\n').sort()).toEqual(['--json -a -d sat /dev/sda', '--json -a /dev/null', '--scan --json']);
  });

  it('an attribute that is a list (temperature_sensors) is named by its list or by one item', async () => {
    const all = await probeOnce(build(SmartCtlSource, { type: 'SmartCtl', path: fake, devices: ['nvme0'], attributes: ['temperature_sensors'] }));
    expect(all.map((s) => s.labels?.attribute)).toEqual(['temperature_sensors_0', 'temperature_sensors_1']);
    const one = await probeOnce(build(SmartCtlSource, { type: 'SmartCtl', path: fake, devices: ['nvme0'], attributes: ['temperature_sensors_1'] }));
    expect(one.map((s) => s.labels?.attribute)).toEqual(['temperature_sensors_1']);
  });

  it('no matching device is an error naming the regexes', async () => {
    await expect(probeOnce(build(SmartCtlSource, { type: 'SmartCtl', path: fake, devices: ['hd[a-z]'] }))).rejects.toThrow(
      /no device matches \["hd\[a-z\]"\] among 3/,
    );
  });

  it('a scan that finds nothing says so', async () => {
    const none = script('smartctl-none', `printf '{"json_format_version":[1,0],"smartctl":{"exit_status":0},"devices":[]}\\n'`);
    await expect(probeOnce(build(SmartCtlSource, { type: 'SmartCtl', path: none }))).rejects.toThrow(/no device found by .*smartctl-none --scan/);
  });

  it("exit status 2 with smartctl's JSON message", async () => {
    const open = script(
      'smartctl-open',
      `if [ "$1" = "--scan" ]; then cat '${FIX}/scan.json'; exit 0; fi
printf '{"smartctl":{"exit_status":2,"messages":[{"string":"/dev/sda: Permission denied","severity":"error"}]}}\\n'; exit 2`,
    );
    const err = await probeOnce(build(SmartCtlSource, { type: 'SmartCtl', path: open, devices: ['sda'] })).catch((e: Error) => e);
    expect(err).toBeInstanceOf(SourceError);
    expect((err as Error).message).toMatch(/sda: exit status 2 \(device open failed.*Permission denied/);
  });

  it('one failing device does not hide the others', async () => {
    const mixed = script(
      'smartctl-mixed',
      `if [ "$1" = "--scan" ]; then cat '${FIX}/scan.json'; exit 0; fi
for last; do :; done
[ "$last" = /dev/nvme0 ] && { cat '${FIX}/nvme-samsung-pm9a1.json'; exit 0; }
echo "Smartctl open device: $last failed: No such device" >&2; exit 2`,
    );
    const samples = await probeOnce(build(SmartCtlSource, { type: 'SmartCtl', path: mixed }));
    expect(new Set(samples.map((s) => s.labels?.dev))).toEqual(new Set(['nvme0']));
  });

  it('a hanging smartctl is killed at the timeout, with no child left', async () => {
    const pidFile = path.join(tmp.dir, 'hang.pid');
    const hang = script('smartctl-hang', `echo $$ > '${pidFile}'; exec sleep 60`);
    const started = Date.now();
    await expect(probeOnce(build(SmartCtlSource, { type: 'SmartCtl', path: hang }), { timeoutMs: 300 })).rejects.toThrow(/timed out|aborted/);
    expect(Date.now() - started).toBeLessThan(5000);
    const pid = Number(readFileSync(pidFile, 'utf8'));
    expect(existsSync(`/proc/${pid}`)).toBe(false);
  });

  it('a wrapper script whose smartctl child hangs: the whole group is killed at the timeout', async () => {
    const pidFile = path.join(tmp.dir, 'grandchild.pid');
    const wrapper = script('smartctl-wrapper', `sleep 60 &\necho $! > '${pidFile}'\nwait`);
    const started = Date.now();
    await expect(probeOnce(build(SmartCtlSource, { type: 'SmartCtl', path: wrapper }), { timeoutMs: 300 })).rejects.toThrow(/timed out|aborted/);
    expect(Date.now() - started).toBeLessThan(5000);
    const pid = Number(readFileSync(pidFile, 'utf8'));
    for (let i = 0; i < 20 && alive(pid); i++) await new Promise((r) => setTimeout(r, 50));
    expect(alive(pid)).toBe(false);
  });

  it('binary output, garbage, huge output and a missing binary give SourceErrors', async () => {
    const bin = script('smartctl-bin', "printf '\\177ELF\\000\\001\\002'");
    await expect(probeOnce(build(SmartCtlSource, { type: 'SmartCtl', path: bin }))).rejects.toThrow(/binary/);
    const garbage = script('smartctl-garbage', `if [ "$1" = "--scan" ]; then cat '${FIX}/scan.json'; exit 0; fi\necho 'smartctl 7.3: unknown option'`);
    await expect(probeOnce(build(SmartCtlSource, { type: 'SmartCtl', path: garbage }))).rejects.toThrow(/invalid JSON/);
    const huge = script('smartctl-huge', `if [ "$1" = "--scan" ]; then cat '${FIX}/scan.json'; exit 0; fi\nyes '{"a":1}' | head -c 50000000`);
    await expect(probeOnce(build(SmartCtlSource, { type: 'SmartCtl', path: huge }))).rejects.toThrow(/more than/);
    await expect(probeOnce(build(SmartCtlSource, { type: 'SmartCtl', path: path.join(tmp.dir, 'nope') }))).rejects.toThrow(/not found/);
  });

  it('an invalid regex, or discover "dev" without devices, is a config error naming the param', () => {
    expect(() => build(SmartCtlSource, { path: fake, devices: ['sda', 'sd[a-'] })).toThrow(
      expect.objectContaining({ name: 'ParamError', param: 'devices[1]', message: expect.stringMatching(/invalid regex "sd\[a-": /) }),
    );
    expect(() => build(SmartCtlSource, { path: fake, discover: 'dev' })).toThrow(
      expect.objectContaining({ name: 'ParamError', param: 'devices', message: expect.stringMatching(/at least one device regex/) }),
    );
  });

  it('the real smartctl: scan works here (no disks in a VM is an error naming the scan)', async () => {
    const src = build(SmartCtlSource, { type: 'SmartCtl' });
    try {
      const samples = await probeOnce(src, { timeoutMs: 20_000 });
      expect(samples.length).toBeGreaterThan(0);
    } catch (err) {
      expect(err).toBeInstanceOf(SourceError);
    }
  });
});
