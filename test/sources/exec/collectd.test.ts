import { describe, it, expect } from 'vitest';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { CollectdParser, loadTypesDb, splitFields, parseIdentifier } from '../../../src/sources/exec/collectd.js';
import { parseOutput } from '../../../src/sources/exec/formats.js';
import type { Notification } from '../../../src/sources/exec/parser.js';
import { valueOf } from '../../helpers/probe.js';
import { tempDir } from '../../helpers/net.js';

// Output as collectd exec scripts print it: the examples of collectd-exec(5) and the usual
// `echo "PUTVAL $HOSTNAME/..." ` loops.
const SCRIPT_OUTPUT = [
  '# collectd exec script',
  'PUTVAL leeloo/cpu-0/cpu-idle N:2299366',
  'PUTVAL alice/interface/if_octets-eth0 interval=10 1180647081:421465:479194',
  'PUTVAL "myhost.example.org/exec-temps/temperature-cpu core" interval=60 N:48.5',
  'PUTVAL myhost/load/load interval=10.000 N:0.05:0.10:0.15',
  'PUTVAL myhost/df-root/df_complex-free N:1.2e+10',
  'PUTVAL myhost/ping/ping_droprate-8.8.8.8 N:U',
  'PUTVAL myhost/exec-x/gauge-a N:1 N:2',
  'putval myhost/memory/memory-used N:1048576',
  'leeloo/cpu-1/cpu-user N:42',
  '',
].join('\n');

describe('collectd exec format', () => {
  it('parses PUTVAL lines into named, labelled samples', () => {
    const s = parseOutput('collectd', SCRIPT_OUTPUT);
    expect(valueOf(s, 'cpu.cpu', { host: 'leeloo', plugin_instance: '0', type_instance: 'idle' })).toBe(2299366);
    expect(s.find((x) => x.name === 'cpu.cpu')?.type).toBe('counter'); // cpu is DERIVE
    expect(valueOf(s, 'interface.if_octets.rx', { host: 'alice', type_instance: 'eth0' })).toBe(421465);
    expect(valueOf(s, 'interface.if_octets.tx', { host: 'alice', type_instance: 'eth0' })).toBe(479194);
    expect(s.find((x) => x.name === 'interface.if_octets.rx')?.labels).toEqual({ host: 'alice', type_instance: 'eth0' });
    expect(valueOf(s, 'exec.temperature', { host: 'myhost.example.org', plugin_instance: 'temps', type_instance: 'cpu core' })).toBe(48.5);
    expect(valueOf(s, 'load.load.shortterm', { host: 'myhost' })).toBe(0.05);
    expect(valueOf(s, 'load.load.longterm')).toBe(0.15);
    expect(s.find((x) => x.name === 'load.load.midterm')?.type).toBe('gauge');
    expect(valueOf(s, 'df.df_complex', { plugin_instance: 'root', type_instance: 'free' })).toBe(1.2e10);
    // U is "no value": nothing for ping_droprate.
    expect(s.some((x) => x.name === 'ping.ping_droprate')).toBe(false);
    // Several value lists: the last one is current.
    expect(valueOf(s, 'exec.gauge', { type_instance: 'a' })).toBe(2);
    expect(valueOf(s, 'memory.memory', { type_instance: 'used' })).toBe(1048576);
    // The old form without PUTVAL.
    expect(valueOf(s, 'cpu.cpu', { plugin_instance: '1', type_instance: 'user' })).toBe(42);
    expect(s).toHaveLength(11);
  });

  it('names the values of an unknown multi-value type value0, value1, ...', () => {
    const s = new CollectdParser().line('PUTVAL h/myplugin/mytype N:1:2');
    expect(s.map((x) => [x.name, x.value])).toEqual([
      ['myplugin.mytype.value0', 1],
      ['myplugin.mytype.value1', 2],
    ]);
  });

  it('reads data sets of custom types from a types.db file', () => {
    const tmp = tempDir();
    try {
      const file = path.join(tmp.dir, 'types.db');
      writeFileSync(file, '# custom\nmytype\t\tin:DERIVE:0:U, out:GAUGE:0:U\nif_octets rx:COUNTER:0:U, tx:COUNTER:0:U\n');
      const types = loadTypesDb(file);
      const p = new CollectdParser({ types });
      const s = p.line('PUTVAL h/myplugin/mytype N:10:20');
      expect(s.map((x) => [x.name, x.value, x.type])).toEqual([
        ['myplugin.mytype.in', 10, 'counter'],
        ['myplugin.mytype.out', 20, 'gauge'],
      ]);
      // Built-in types remain known.
      expect(p.line('PUTVAL h/load/load N:1:2:3')).toHaveLength(3);
    } finally {
      tmp.remove();
    }
  });

  it('hands PUTNOTIF lines to the notify callback', () => {
    const got: Notification[] = [];
    const p = new CollectdParser({ notify: (n) => got.push(n) });
    expect(p.line('PUTNOTIF severity=failure time=1200928930 host=myhost plugin=disk message=Disk /dev/sda is failing')).toEqual([]);
    p.line('PUTNOTIF time=1200928930.5 severity=okay message="all good again"');
    p.line('PUTNOTIF Severity=Warning plugin_instance=sda type=temperature type_instance=core0 s:unit=celsius message=hot');
    expect(got).toEqual([
      { severity: 'failure', time: 1200928930000, host: 'myhost', plugin: 'disk', message: 'Disk /dev/sda is failing' },
      { severity: 'okay', time: 1200928930500, message: 'all good again' },
      { severity: 'warning', pluginInstance: 'sda', type: 'temperature', typeInstance: 'core0', meta: { unit: 'celsius' }, message: 'hot' },
    ]);
    expect(() => p.line('PUTNOTIF severity=bad message=x')).toThrow(/severity must be failure, warning or okay/);
    expect(() => p.line('PUTNOTIF severity=okay time=soon message=x')).toThrow(/time must be seconds since the epoch/);
    expect(() => p.line('PUTNOTIF severity=okay colour=red message=x')).toThrow(/option "colour" is not one of/);
    expect(() => p.line('PUTNOTIF severity=okay')).toThrow(/without message=/);
  });

  it('rejects malformed lines with the line number and the reason', () => {
    const cases: [string, RegExp][] = [
      ['PUTVAL myhost/cpu N:1', /identifier "myhost\/cpu" is not host\/plugin/],
      ['PUTVAL myhost/load/load N:1:2', /type load has 3 values \(shortterm, midterm, longterm\), got 2/],
      ['PUTVAL myhost/cpu-0/cpu-idle N:abc', /bad value "abc"/],
      ['PUTVAL myhost/cpu-0/cpu-idle yesterday:1', /bad time "yesterday"/],
      ['PUTVAL myhost/cpu-0/cpu-idle', /needs an identifier and a value list/],
      ['PUTVAL myhost/cpu-0/cpu-idle interval=10', /without a value list/],
      ['PUTVAL myhost/cpu-0/cpu-idle interval=soon N:1', /bad interval "soon"/],
      ['PUTVAL "myhost/cpu-0/cpu-idle N:1', /unterminated quoted string/],
      ['GETVAL myhost/cpu-0/cpu-idle', /unsupported command GETVAL/],
      ['hello world', /identifier "hello" is not/],
    ];
    for (const [line, reason] of cases) {
      const text = `PUTVAL ok/cpu-0/cpu-idle N:1\n${line}\n`;
      expect(() => parseOutput('collectd', text), line).toThrow(reason);
      expect(() => parseOutput('collectd', text), line).toThrow(/^line 2: /);
    }
    expect(() => parseOutput('collectd', 'a b\nc d\ne f\n')).toThrow(/^line 1: .*\(and 2 more malformed lines\)/);
  });

  it('splits fields with quotes and escapes as collectd does', () => {
    expect(splitFields('PUTVAL "a b/c/d" interval=10 N:1')).toEqual(['PUTVAL', 'a b/c/d', 'interval=10', 'N:1']);
    expect(splitFields('message="say \\"hi\\""')).toEqual(['message=say "hi"']);
    expect(parseIdentifier('h/p-with-dash/t-x-y')).toEqual({ host: 'h', plugin: 'p', pluginInstance: 'with-dash', type: 't', typeInstance: 'x-y' });
  });
});
