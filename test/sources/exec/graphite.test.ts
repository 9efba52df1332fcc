import { describe, it, expect } from 'vitest';
import { parseOutput } from '../../../src/sources/exec/formats.js';
import { valueOf } from '../../helpers/probe.js';

describe('graphite plaintext', () => {
  it('reads path value timestamp lines, tags as labels', () => {
    const text = [
      'servers.web01.cpu.load 0.42 1700000000',
      'servers.web01.disk.used_bytes 123456789 1700000000',
      'servers.web01.uptime 86400',
      'disk.used;datacenter=dc1;server=web01 97.5 1700000000',
      '  ',
      'servers.web01.temp -4.5e1 -1',
    ].join('\n');
    const s = parseOutput('graphite', text);
    expect(valueOf(s, 'servers.web01.cpu.load')).toBe(0.42);
    expect(valueOf(s, 'servers.web01.disk.used_bytes')).toBe(123456789);
    expect(valueOf(s, 'servers.web01.uptime')).toBe(86400);
    expect(valueOf(s, 'disk.used', { datacenter: 'dc1', server: 'web01' })).toBe(97.5);
    expect(valueOf(s, 'servers.web01.temp')).toBe(-45);
    expect(s.find((x) => x.name === 'servers.web01.uptime')?.labels).toBeUndefined();
    expect(s).toHaveLength(5);
  });

  it('rejects malformed lines naming the line', () => {
    const cases: [string, RegExp][] = [
      ['lonely.path', /expected "<path> <value> \[<timestamp>\]"/],
      ['a.b one 1700000000', /bad value "one"/],
      ['a.b 1 later', /bad timestamp "later"/],
      ['a.b 1 1700000000 extra', /unexpected text after the timestamp/],
      ['a..b 1', /bad metric path/],
      ['a.b;dc 1', /bad tag "dc"/],
    ];
    for (const [line, reason] of cases) {
      expect(() => parseOutput('graphite', `ok 1\n${line}\n`), line).toThrow(reason);
      expect(() => parseOutput('graphite', `ok 1\n${line}\n`), line).toThrow(/^line 2: /);
    }
  });
});
