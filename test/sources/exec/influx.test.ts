import { describe, it, expect } from 'vitest';
import { parseOutput } from '../../../src/sources/exec/formats.js';
import { InfluxParser } from '../../../src/sources/exec/influx.js';
import { valueOf } from '../../helpers/probe.js';

// Lines as Telegraf exec scripts and the InfluxDB line protocol reference write them.
const OUTPUT = [
  '# telegraf exec script output',
  'cpu,cpu=cpu0,host=web01 usage_idle=98.2,usage_user=1.1,usage_system=0.7 1465839830100400200',
  'mem,host=web01 used=1849409536i,available_percent=55.9,active=true,swap_free=0u',
  'weather,location=us-midwest temperature=82,note="it is hot, really" 1465839830100400200',
  'disk\\ io,device=sda\\ 1,path=C:\\\\Data\\\\x free=12i',
  'my\\,meas,tag\\=key=tag\\ value,other=a\\,b field\\ one=1,field\\=two=2',
  'status ok=t,failed=F,running=True',
  'negative delta=-12i,tiny=1.5e-3,big=2E6',
  'only_strings msg="no numbers here"',
  '',
].join('\n');

describe('influx line protocol', () => {
  it('turns fields into <measurement>.<field> samples with the tags as labels', () => {
    const s = parseOutput('influx', OUTPUT);
    expect(valueOf(s, 'cpu.usage_idle', { cpu: 'cpu0', host: 'web01' })).toBe(98.2);
    expect(valueOf(s, 'cpu.usage_system')).toBe(0.7);
    expect(valueOf(s, 'mem.used', { host: 'web01' })).toBe(1849409536);
    expect(valueOf(s, 'mem.active')).toBe(1);
    expect(valueOf(s, 'mem.swap_free')).toBe(0);
    expect(valueOf(s, 'weather.temperature', { location: 'us-midwest' })).toBe(82);
    expect(s.some((x) => x.name === 'weather.note')).toBe(false); // strings are skipped
    expect(valueOf(s, 'disk io.free', { device: 'sda 1', path: 'C:\\Data\\x' })).toBe(12);
    expect(valueOf(s, 'my,meas.field one', { 'tag=key': 'tag value', other: 'a,b' })).toBe(1);
    expect(valueOf(s, 'my,meas.field=two')).toBe(2);
    expect(valueOf(s, 'status.ok')).toBe(1);
    expect(valueOf(s, 'status.failed')).toBe(0);
    expect(valueOf(s, 'status.running')).toBe(1);
    expect(valueOf(s, 'negative.delta')).toBe(-12);
    expect(valueOf(s, 'negative.tiny')).toBe(0.0015);
    expect(valueOf(s, 'negative.big')).toBe(2e6);
    expect(s.some((x) => x.name?.startsWith('only_strings'))).toBe(false);
    expect(s).toHaveLength(17);
  });

  it('rejects malformed lines naming the line', () => {
    const cases: [string, RegExp][] = [
      ['cpu', /no field set/],
      ['cpu,host=a', /no field set/],
      ['cpu,host usage=1', /tag "host" has no value/],
      ['cpu,host= usage=1', /tag "host" has an empty value/],
      ['cpu usage', /field "usage" has no value/],
      ['cpu usage=abc', /field "usage" has an invalid value "abc"/],
      ['cpu usage=12j', /invalid value "12j"/],
      ['cpu usage=1 yesterday', /bad timestamp "yesterday"/],
      ['cpu msg="unterminated', /unterminated string field/],
      [',host=a usage=1', /missing measurement/],
    ];
    for (const [line, reason] of cases) {
      expect(() => parseOutput('influx', `ok value=1\n${line}`), line).toThrow(reason);
      expect(() => parseOutput('influx', `ok value=1\n${line}`), line).toThrow(/^line 2: /);
    }
  });

  it('keeps CRLF output working', () => {
    expect(parseOutput('influx', 'a v=1\r\nb v=2\r\n').map((s) => s.value)).toEqual([1, 2]);
    expect(new InfluxParser().line('   ')).toEqual([]);
  });
});
