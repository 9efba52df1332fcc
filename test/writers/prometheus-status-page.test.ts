// The Prometheus writer's endpoint for people and orchestrators: /healthz, /readyz, and the status
// page at `/` for a browser (the exposition for anything else at `/`, as the Python pollect
// served it on every path). The page is checked in a real headless chromium, on a real daemon
// with one source failing and one succeeding, with hostile labels and errors that must not
// become markup.
import { describe, expect, it } from 'vitest';
import http from 'node:http';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { buildConfig } from '../../src/config/load.js';
import { Daemon } from '../../src/executors/daemon.js';
import { StatusBoard } from '../../src/executors/status.js';
import { escapeHtml, prefersHtml, renderStatusPage, sparkline } from '../../src/writers/prometheus/status-page.js';
import { dumpDom, screenshot } from '../helpers/chromium.js';
import { freePort, tempDir } from '../helpers/net.js';
import { needs } from '../helpers/servers.js';
import { quietLog } from '../helpers/probe.js';
import { point } from '../helpers/points.js';

/** What a browser, Prometheus and curl send. */
const BROWSER_ACCEPT = 'text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8';
const PROMETHEUS_ACCEPT =
  'application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1';

const HOSTILE_LABEL = '<img src=x onerror="document.body.dataset.pwned=1">';
const HOSTILE_ERROR = '<script>document.title="pwned"</script> & </td></tr></table><b>broken</b>';
const HOSTILE_NAME = 'q"><i>n</i>';

/** Every tag the page is made of: anything else in the browser's DOM came from a value. */
const PAGE_TAGS = new Set(
  'html head meta title style body header h1 p span a main section h2 small table thead tbody tr th td svg polyline circle ul li code details summary'.split(
    ' ',
  ),
);

describe('choosing the page or the exposition at /', () => {
  it('a browser prefers HTML; Prometheus, curl and a bare request do not', () => {
    expect(prefersHtml(BROWSER_ACCEPT)).toBe(true);
    expect(prefersHtml('text/html')).toBe(true);
    expect(prefersHtml(PROMETHEUS_ACCEPT)).toBe(false);
    expect(prefersHtml('*/*')).toBe(false);
    expect(prefersHtml(undefined)).toBe(false);
    expect(prefersHtml('text/plain, text/html;q=0.5')).toBe(false);
    expect(prefersHtml('text/html;q=0')).toBe(false);
  });
});

describe('the page as rendered', () => {
  function hostileBoard(): StatusBoard {
    const board = new StatusBoard();
    const report = board.track('web<x>', 1, [`web.Dummy.${HOSTILE_NAME}`]);
    report({
      collection: 'web<x>',
      timestamp: 1000,
      points: [point('web.Dummy.v', 1, { env: HOSTILE_LABEL, [HOSTILE_LABEL]: 'k' }, 1000, { source: `web.Dummy.${HOSTILE_NAME}` })],
      sources: [
        {
          id: `web.Dummy.${HOSTILE_NAME}`,
          collection: 'web<x>',
          type: 'Dummy',
          name: HOSTILE_NAME,
          state: 'probed',
          success: false,
          error: HOSTILE_ERROR,
          durationSeconds: 0.2,
          errorsTotal: 1,
          skippedTotal: 0,
          rejectedTotal: 0,
          consecutiveFailures: 1,
        },
      ],
    });
    return board;
  }

  it('escapes every value: labels, label names, errors, source ids, collections, the metrics path', () => {
    const html = renderStatusPage(hostileBoard(), { metricsPath: '/m"><script>x</script>', writer: 'P<1>', now: 2000 });
    for (const raw of [HOSTILE_LABEL, HOSTILE_ERROR, HOSTILE_NAME, '<script>x', 'web<x>', 'P<1>']) expect(html).not.toContain(raw);
    expect(html).toContain(escapeHtml(HOSTILE_ERROR));
    expect(html).toContain(`data-source="web.Dummy.q&quot;&gt;&lt;i&gt;n&lt;/i&gt;"`);
    expect(html).toContain('env=&quot;&lt;img src=x onerror=\\&quot;document.body.dataset.pwned=1\\&quot;&gt;&quot;');
    expect(html).toContain('href="/m&quot;&gt;&lt;script&gt;x&lt;/script&gt;"');
    // The only tags are the page's own.
    const tags = new Set([...html.matchAll(/<([a-zA-Z][a-zA-Z0-9-]*)/g)].map((m) => m[1]!.toLowerCase()));
    expect([...tags].filter((t) => !PAGE_TAGS.has(t))).toEqual([]);
  });

  it('a sparkline scales the durations to the longest and marks failed probes', () => {
    const svg = sparkline([
      { at: 1, seconds: 0.1, ok: true },
      { at: 2, seconds: 0.4, ok: false },
      { at: 3, seconds: 0.2, ok: true },
    ]);
    expect(svg).toContain('points="0,17 60,2 120,12"');
    expect(svg.match(/<circle /g)).toHaveLength(1);
    expect(svg).toContain('3 probes, longest 400.0 ms');
    expect(sparkline([])).toBe('');
    expect(sparkline([{ at: 1, seconds: 1.5, ok: true }])).toContain('<circle cx="0" cy="2" r="2" class="probe"/>');
  });
});

function get(
  port: number,
  urlPath: string,
  headers: http.OutgoingHttpHeaders = {},
): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path: urlPath, headers, agent: false, timeout: 10_000 }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
      })
      .on('error', reject);
  });
}

async function until(cond: () => boolean | Promise<boolean>, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The `<tr>` of the source whose data-source attribute is `id` (as the browser serialized it). */
function row(dom: string, id: string): string {
  const start = dom.indexOf(`<tr class="source" data-source="${id}"`);
  expect(start, `row of ${id}`).toBeGreaterThanOrEqual(0);
  return dom.slice(start, dom.indexOf('</tr>', start));
}

describe.skipIf(!needs('chromium'))('a real daemon and a real browser', () => {
  it('readyz waits for every executor; the page shows a failing and a working source, escaped; / serves scrapers the exposition', async () => {
    const { dir, remove } = tempDir();
    const port = await freePort();
    const config = await buildConfig(
      {
        tickTime: 1,
        writers: [{ type: 'Prometheus', host: '127.0.0.1', port }],
        executors: [
          {
            collection: 'web',
            sources: [
              { type: 'Dummy', name: 'ok', value: { latency: 0.25, up: 1 }, labels: { env: HOSTILE_LABEL } },
              { type: 'Dummy', name: HOSTILE_NAME, error: HOSTILE_ERROR },
            ],
          },
          // Its first tick takes 3 s: until then the daemon is not ready.
          { collection: 'slow', tickTime: 60, sources: [{ type: 'Dummy', name: 'first', sleep: 3, timeout: 10 }] },
        ],
      },
      path.join(dir, 'pollect.json'),
    );
    const daemon = new Daemon(config, { log: quietLog });
    await daemon.start();
    try {
      expect(await get(port, '/healthz')).toMatchObject({ status: 200, body: 'ok\n' });
      const early = await get(port, '/readyz');
      expect(early.status).toBe(503);
      expect(early.body).toMatch(/^not ready/);
      await until(async () => (await get(port, '/readyz')).status === 200, 20_000);
      expect(daemon.status.ready()).toBe(true);
      // A few probes of the working source, for its sparkline.
      await until(() => daemon.status.executors()[0]!.sources[0]!.probes.length >= 3, 20_000);

      // Scrapers get the exposition at `/` as at /metrics.
      for (const accept of [PROMETHEUS_ACCEPT, '*/*', undefined]) {
        const r = await get(port, '/', accept ? { Accept: accept } : {});
        expect(r.status).toBe(200);
        expect(r.headers['content-type']).toMatch(/^(text\/plain|application\/openmetrics-text)/);
        expect(r.body).toContain('web_Dummy_ok_latency{env=');
      }
      const page = await get(port, '/', { Accept: BROWSER_ACCEPT });
      expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
      expect(page.headers['content-security-policy']).toContain("default-src 'none'");
      expect(page.headers.vary).toContain('Accept');

      const url = `http://127.0.0.1:${port}/`;
      const png = path.join(dir, 'status.png');
      await screenshot(url, png, 1280, 900);
      const image = readFileSync(png);
      expect(image.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
      expect(image.toString('latin1', 12, 16)).toBe('IHDR');
      expect([image.readUInt32BE(16), image.readUInt32BE(20)]).toEqual([1280, 900]);
      expect(image.length).toBeGreaterThan(10_000);

      const dom = await dumpDom(url);
      expect(dom).toContain('<title>pollect status</title>');
      // No value became markup: every tag is the page's own, and nothing ran.
      const tags = new Set([...dom.matchAll(/<([a-zA-Z][a-zA-Z0-9-]*)/g)].map((m) => m[1]!.toLowerCase()));
      expect([...tags].filter((t) => !PAGE_TAGS.has(t))).toEqual([]);
      expect(dom).not.toMatch(/<body[^>]*data-pwned/);
      expect(dom).toContain('<a href="/metrics" id="metrics-link">');
      expect(dom).toMatch(/<span class="state ok">ready<\/span>/);

      const ok = row(dom, 'web.Dummy.ok');
      expect(ok).toContain('data-state="ok"');
      expect(ok).toContain('<svg class="spark"');
      expect(ok).toMatch(/<td class="num">\d+\.\d ms<\/td>/);
      expect(ok).toContain('web.Dummy.ok.latency{env="&lt;img src=x onerror=\\"document.body.dataset.pwned=1\\"&gt;"}</code> 0.25');
      expect(ok).toContain('web.Dummy.ok.up{env=');
      expect(ok).not.toContain('class="error"');

      const bad = row(dom, 'web.Dummy.q&quot;&gt;&lt;i&gt;n&lt;/i&gt;');
      expect(bad).toMatch(/data-state="(failing|backing off)"/);
      expect(bad).toContain('&lt;script&gt;document.title="pwned"&lt;/script&gt; &amp; &lt;/td&gt;&lt;/tr&gt;&lt;/table&gt;&lt;b&gt;broken&lt;/b&gt;');
      expect(bad).not.toContain('<ul class="values">');

      expect(row(dom, 'slow.Dummy.first')).toContain('data-state="ok"');
      expect(row(dom, 'pollect.self')).toMatch(/<details><summary>\d+ more<\/summary>/);
      expect(row(dom, 'pollect.self')).toContain('pollect.source.success{collection="web",source="web.Dummy.ok",type="Dummy"}</code> 1');
    } finally {
      await daemon.stop();
      remove();
    }
  }, 120_000);
});
