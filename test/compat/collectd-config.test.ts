// docs/coming-from-collectd.md: its collectd.conf is one collectd itself takes, its translation is
// one `pollect --check` takes, and the page shows both as they are in examples/collectd/.
import { describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { cli } from '../helpers/cli.js';
import { spawnDaemon, tempDir } from '../helpers/net.js';
import { needs } from '../helpers/servers.js';

const root = path.resolve(__dirname, '../..');
const example = path.join(root, 'examples/collectd');
const doc = readFileSync(path.join(root, 'docs/coming-from-collectd.md'), 'utf8');

/** The fenced block of the page that follows `marker` (a line of the page). */
function blockAfter(marker: string): string {
  const at = doc.indexOf(marker);
  expect(at, marker).toBeGreaterThanOrEqual(0);
  const m = /```\w*\n([\s\S]*?)```/.exec(doc.slice(at));
  return m![1]!;
}

describe('the collectd.conf translated', () => {
  it('the page shows the example files as they are', () => {
    expect(blockAfter('<!-- examples/collectd/collectd.conf -->')).toBe(readFileSync(path.join(example, 'collectd.conf'), 'utf8'));
    expect(JSON.parse(blockAfter('<!-- examples/collectd/pollect.json -->'))).toEqual(JSON.parse(readFileSync(path.join(example, 'pollect.json'), 'utf8')));
  });

  it('pollect --check takes pollect.json', async () => {
    const r = await cli(['-c', path.join(example, 'pollect.json'), '--check']);
    expect(r.stderr + r.stdout).not.toMatch(/error|invalid|unknown/i);
    expect(r.code).toBe(0);
  });

  it.skipIf(!needs('collectd'))(
    'collectd takes collectd.conf: it loads every plugin and config block and starts',
    async () => {
      const tmp = tempDir('pollect-collectd-conf-');
      try {
        // The scripts and the plugin from this folder; logging to stderr (no syslog); write_prometheus
        // left out: it needs libmicrohttpd, which collectd-core does not pull in.
        let conf = readFileSync(path.join(example, 'collectd.conf'), 'utf8')
          .replaceAll('/usr/local/lib/collectd/', `${example}/`)
          .replace(/^LoadPlugin (syslog|write_prometheus)\n/gm, '')
          .replace(/^<Plugin (syslog|write_prometheus)>\n[\s\S]*?<\/Plugin>\n/gm, '');
        conf = `BaseDir "${tmp.dir}"\nPIDFile "${tmp.dir}/collectd.pid"\nTypesDB "/usr/share/collectd/types.db"\n${conf}`;
        const file = path.join(tmp.dir, 'collectd.conf');
        writeFileSync(file, conf);
        const collectd = spawnDaemon('/usr/sbin/collectd', ['-f', '-C', file]);
        const until = Date.now() + 10_000;
        while (!/Initialization complete|Parsing the config file failed/.test(collectd.output()) && Date.now() < until)
          await new Promise((r) => setTimeout(r, 50));
        await collectd.stop();
        const out = collectd.output();
        expect(out).toContain('Initialization complete');
        expect(out).not.toMatch(/error|not allowed|isn't loaded|failed/i);
      } finally {
        tmp.remove();
      }
    },
    15_000,
  );
});
