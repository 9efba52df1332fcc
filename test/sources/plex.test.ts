// Plex: the MediaContainer parser and the source against a local HTTP server replaying the XML
// answers in test/fixtures/plex/ (constructed from Plex's documented format, see its README).
import { afterEach, describe, expect, it } from 'vitest';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parsePlexContainer } from '../../src/sources/plex/parse.js';
import { PlexSource } from '../../src/sources/plex/index.js';
import { probeOnce } from '../helpers/probe.js';
import { build } from '../helpers/plugin.js';

const FIX = path.join(__dirname, '../fixtures/plex');
const ROUTES: Record<string, string> = {
  '/library/sections': 'sections.xml',
  '/library/sections/1/all': 'section-1-all.xml',
  '/library/sections/2/all': 'section-2-all.xml',
  '/library/sections/3/albums': 'section-3-albums.xml',
  '/status/sessions': 'sessions.xml',
};
const xml = (file: string): string => readFileSync(path.join(FIX, file), 'utf8');

describe('Plex MediaContainer parser', () => {
  it('reads the container attributes and every child entry with its attributes', async () => {
    const c = await parsePlexContainer(xml('section-2-all.xml'));
    expect(c.attrs.size).toBe('2');
    expect(c.entries.map((e) => [e.tag, e.attrs.title, e.attrs.leafCount, e.attrs.childCount])).toEqual([
      ['Directory', 'Show & Tell', '10', '1'],
      ['Directory', 'Another Show', '24', '3'],
    ]);
    const s = await parsePlexContainer(xml('sessions.xml'));
    expect(s.entries.map((e) => [e.tag, e.attrs.type])).toEqual([
      ['Video', 'movie'],
      ['Video', 'episode'],
      ['Video', 'episode'],
      ['Track', 'track'],
    ]);
    expect((await parsePlexContainer('<MediaContainer size="0"/>')).entries).toEqual([]);
  });
  it('refuses what is not a MediaContainer', async () => {
    // Plex answers JSON when asked for it; this source asks for XML.
    await expect(parsePlexContainer('{"MediaContainer":{}}')).rejects.toThrow(/invalid XML/);
    await expect(parsePlexContainer('<html><body>Unauthorized</body></html>')).rejects.toThrow(/not a Plex MediaContainer/);
    await expect(parsePlexContainer('<MediaContainer><Video></MediaContainer>')).rejects.toThrow(/invalid XML/);
  });
});

const servers: Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
});

async function serve(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<string> {
  const srv = createServer(handler);
  servers.push(srv);
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(srv.address() as AddressInfo).port}`;
}

/** Replays the fixtures; `override` answers some paths differently. */
function plex(seen: { url?: string; token?: string }[] = [], override: Record<string, (res: ServerResponse) => void> = {}) {
  return (req: IncomingMessage, res: ServerResponse): void => {
    seen.push({ url: req.url, token: req.headers['x-plex-token'] as string | undefined });
    const special = override[req.url ?? ''];
    if (special) return special(res);
    const file = ROUTES[req.url ?? ''];
    if (!file) return void res.writeHead(404).end();
    res.writeHead(200, { 'content-type': 'text/xml;charset=utf-8' }).end(xml(file));
  };
}

describe('Plex source with a local HTTP replay', () => {
  it('counts libraries and streams with the Python pollect names', async () => {
    const seen: { url?: string; token?: string }[] = [];
    const url = await serve(plex(seen));
    const s = await probeOnce(build(PlexSource, { url, token: 'plex-token-123' }));
    expect(Object.fromEntries(s.map((x) => [x.name, x.value]))).toEqual({
      'streams.movies': 1,
      'streams.shows': 2,
      'streams.musics': 1,
      'lib.movies': 3,
      // 2 shows: the Python pollect started this count at 1 (a slip), so it reported 3.
      'lib.shows': 2,
      'lib.shows.episodes': 34,
      'lib.shows.seasons': 4,
      'lib.music.albums': 2,
      'lib.music.songs': 21,
    });
    expect(seen.map((x) => x.url)).toEqual([
      '/library/sections',
      '/library/sections/1/all',
      '/library/sections/2/all',
      '/library/sections/3/albums',
      '/status/sessions',
    ]);
    expect(seen.every((x) => x.token === 'plex-token-123')).toBe(true);
  });

  it('fails with a clear error on HTTP errors and broken answers, never quoting the token', async () => {
    const cases: [Record<string, (res: ServerResponse) => void>, RegExp][] = [
      [
        { '/library/sections': (res) => res.writeHead(401).end('<html>401 Unauthorized plex-token-secret</html>') },
        /GET http:\/\/127\.0\.0\.1:\d+\/library\/sections: HTTP 401/,
      ],
      [{ '/status/sessions': (res) => res.writeHead(200).end('<html><body>login</body></html>') }, /\/status\/sessions: not a Plex MediaContainer/],
      [
        {
          '/library/sections/2/all': (res) =>
            res.writeHead(200).end('<MediaContainer size="1"><Directory ratingKey="9" leafCount="many" childCount="1"/></MediaContainer>'),
        },
        /section 2, show 9: leafCount is "many", not a count/,
      ],
      [{ '/library/sections/1/all': (res) => res.writeHead(200).end('<MediaContainer></MediaContainer>') }, /section 1: size is missing/],
      [
        { '/library/sections/3/albums': (res) => res.writeHead(200).end(`<MediaContainer>${'<Directory leafCount="1"/>'.repeat(300)}</MediaContainer>`) },
        /maxContentLength|larger|exceed/i,
      ],
    ];
    for (const [override, msg] of cases) {
      const url = await serve(plex([], override));
      const err = await probeOnce(build(PlexSource, { url, token: 'plex-token-secret', maxBytes: 4096 })).catch((e: Error) => e);
      expect(err, String(msg)).toBeInstanceOf(Error);
      expect((err as Error).message).toMatch(msg);
      expect((err as Error).message).not.toContain('plex-token-secret');
    }
  });

  it('refuses a URL that is not http(s) at --check', () => {
    expect(() => build(PlexSource, { url: 'ftp://192.168.1.10:32400' })).toThrow(/must start with http/);
    expect(() => build(PlexSource, { url: '192.168.1.10:32400' })).toThrow(/not a valid URL/);
  });
});
