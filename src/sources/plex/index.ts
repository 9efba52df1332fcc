// Plex (the Python pollect's PlexSource): library sizes and current streams of a Plex Media Server,
// from its XML API: /library/sections, each library's list, and /status/sessions.
import { Source, SourceError, type JsonSchema, type PluginContext, type ProbeContext, type Sample, type SourceParams } from '../../sdk/index.js';
import { checkUrl, maxBytesParam } from '../../sdk/params.js';
import { expectOk, httpRequest, safeUrl } from '../../sdk/http.js';
import { countAttr, parsePlexContainer, type PlexContainer } from './parse.js';

const schema = {
  type: 'object',
  additionalProperties: false,
  required: ['url'],
  properties: {
    url: { type: 'string', minLength: 1, description: "URL of the Plex Media Server, e.g. http://192.168.1.10:32400 (the NIC's address, not localhost)" },
    token: {
      type: 'string',
      minLength: 1,
      description: 'A Plex token, sent as X-Plex-Token (default: none, so Plex must allow this host without authentication)',
    },
    maxBytes: maxBytesParam(32 * 1024 * 1024, 'Largest answer accepted, in bytes (a big library lists every show)'),
  },
} as const satisfies JsonSchema;

export type PlexConfig = SourceParams<typeof schema>;

export class PlexSource extends Source<PlexConfig> {
  static override description = 'Plex Media Server library sizes and current streams';
  static override schema = schema;

  private readonly base: string;

  constructor(config: PlexConfig, context?: PluginContext) {
    super(config, context);
    checkUrl('url', config.url, ['http:', 'https:']);
    this.base = config.url.replace(/\/+$/, '');
  }

  async probe(ctx: ProbeContext): Promise<Sample[]> {
    const get = (path: string): Promise<PlexContainer> => this.get(path, ctx);
    const n = { movies: 0, shows: 0, episodes: 0, seasons: 0, albums: 0, songs: 0 };
    const sections = await get('/library/sections');
    for (const { attrs } of sections.entries) {
      const key = attrs.key;
      if (key === undefined || !/^\d+$/.test(key)) continue;
      if (attrs.type === 'movie') {
        n.movies += countAttr((await get(`/library/sections/${key}/all`)).attrs, 'size', `section ${key}`);
      } else if (attrs.type === 'show') {
        const lib = await get(`/library/sections/${key}/all`);
        n.shows += countAttr(lib.attrs, 'size', `section ${key}`);
        for (const show of lib.entries) {
          n.episodes += countAttr(show.attrs, 'leafCount', `section ${key}, show ${show.attrs.ratingKey ?? '?'}`);
          n.seasons += countAttr(show.attrs, 'childCount', `section ${key}, show ${show.attrs.ratingKey ?? '?'}`);
        }
      } else if (attrs.type === 'artist') {
        const lib = await get(`/library/sections/${key}/albums`);
        n.albums += countAttr(lib.attrs, 'size', `section ${key}`);
        for (const album of lib.entries) n.songs += countAttr(album.attrs, 'leafCount', `section ${key}, album ${album.attrs.ratingKey ?? '?'}`);
      }
      // Photo and other libraries are not counted, as in the Python pollect.
    }
    const streams = { movie: 0, episode: 0, track: 0 };
    for (const { attrs } of (await get('/status/sessions')).entries) {
      if (attrs.type === 'movie' || attrs.type === 'episode' || attrs.type === 'track') streams[attrs.type]++;
    }
    return [
      { name: 'streams.movies', value: streams.movie },
      { name: 'streams.shows', value: streams.episode },
      { name: 'streams.musics', value: streams.track },
      { name: 'lib.movies', value: n.movies },
      { name: 'lib.shows', value: n.shows },
      { name: 'lib.shows.episodes', value: n.episodes },
      { name: 'lib.shows.seasons', value: n.seasons },
      { name: 'lib.music.albums', value: n.albums },
      { name: 'lib.music.songs', value: n.songs },
    ];
  }

  private async get(path: string, ctx: ProbeContext): Promise<PlexContainer> {
    const url = this.base + path;
    const where = `GET ${safeUrl(url)}`;
    const headers: Record<string, string> = { accept: 'application/xml' };
    if (this.config.token !== undefined) headers['x-plex-token'] = this.config.token;
    const res = await httpRequest({ url, headers, timeoutMs: ctx.timeoutMs, signal: ctx.signal, maxBytes: this.config.maxBytes });
    expectOk(res, where);
    try {
      return await parsePlexContainer(res.body.toString('utf8'));
    } catch (err) {
      throw new SourceError(`${where}: ${(err as Error).message}`);
    }
  }
}
