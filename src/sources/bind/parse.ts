// Reads BIND's statistics channel: XML v3 (`/xml/v3/...`, BIND 9.10+), JSON v1 (`/json/v1/...`)
// and the legacy XML v2 (`<isc version="1.0">`, BIND 9.9 and older) into one shape.
import { SourceError, errorMessage } from '../../sdk/index.js';
import { xmlParser } from '../../sdk/xml.js';

export interface BindView {
  /** Resolver queries sent to other servers, by IP version. */
  queryV4?: number;
  queryV6?: number;
  cacheHits?: number;
  cacheMisses?: number;
  /** Cached RRsets by type as BIND names them (`A`, `!AAAA` negative, `#NS` stale, ...). */
  rrsets: Record<string, number>;
}

export interface BindStats {
  format: 'xml-v3' | 'json-v1' | 'xml-v2';
  /** Incoming queries by query type. */
  qtypes: Record<string, number>;
  views: Record<string, BindView>;
}

type Node = Record<string, unknown>;

function isNode(v: unknown): v is Node {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function list(v: unknown): Node[] {
  if (v === undefined || v === null) return [];
  return (Array.isArray(v) ? v : [v]).filter(isNode);
}

function toNumber(v: unknown): number | undefined {
  if (typeof v === 'number') return Number.isFinite(v) ? v : undefined;
  if (typeof v === 'string' && /^\s*-?\d+(\.\d+)?\s*$/.test(v)) return Number(v);
  return undefined;
}

function text(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (typeof v === 'number') return String(v);
  if (isNode(v) && typeof v['#text'] === 'string') return v['#text'];
  return undefined;
}

// Elements that repeat; as arrays even when a document holds just one.
const ARRAYS = new Set(['counters', 'counter', 'view', 'rrset', 'rdtype', 'resstat', 'cache', 'nsstat', 'zonestat', 'opcode']);

const parseXml = xmlParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@_',
  // Counter values and names stay strings: a name such as "17" must not become a number.
  parseTagValue: false,
  parseAttributeValue: false,
  processEntities: false,
  isArray: (name: string) => ARRAYS.has(name),
});

/** XML v3 `<counters type="x"><counter name="n">v</counter>...` -> {n: v}. */
function v3Counters(parent: Node, type: string): Record<string, number> | undefined {
  const group = list(parent['counters']).find((c) => c['@_type'] === type);
  if (!group) return undefined;
  const out: Record<string, number> = {};
  for (const c of list(group['counter'])) {
    const name = c['@_name'];
    const value = toNumber(text(c));
    if (typeof name === 'string' && value !== undefined) out[name] = value;
  }
  return out;
}

/** `<x><name>n</name><counter>v</counter></x>` lists (XML v2, and rrsets in v3). */
function namedCounters(items: Node[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const it of items) {
    const name = text(it['name']);
    const value = toNumber(text(Array.isArray(it['counter']) ? it['counter'][0] : it['counter']));
    if (name !== undefined && value !== undefined) out[name] = value;
  }
  return out;
}

function parseXmlV3(stats: Node): BindStats {
  const server = isNode(stats['server']) ? stats['server'] : {};
  const views: Record<string, BindView> = {};
  const viewsNode = isNode(stats['views']) ? stats['views'] : {};
  for (const v of list(viewsNode['view'])) {
    const name = v['@_name'];
    if (typeof name !== 'string') continue;
    const res = v3Counters(v, 'resstats') ?? {};
    const cache = v3Counters(v, 'cachestats') ?? {};
    views[name] = {
      queryV4: res['Queryv4'],
      queryV6: res['Queryv6'],
      cacheHits: cache['CacheHits'],
      cacheMisses: cache['CacheMisses'],
      // One cache per view; its name is the view's or a shared cache's (attach-cache).
      rrsets: namedCounters(list(v['cache']).flatMap((c) => list(c['rrset']))),
    };
  }
  return { format: 'xml-v3', qtypes: v3Counters(server, 'qtype') ?? {}, views };
}

function parseXmlV2(isc: Node): BindStats {
  const bind = isNode(isc['bind']) ? isc['bind'] : {};
  const stats = isNode(bind['statistics']) ? bind['statistics'] : {};
  const server = isNode(stats['server']) ? stats['server'] : {};
  const queriesIn = isNode(server['queries-in']) ? server['queries-in'] : {};
  const views: Record<string, BindView> = {};
  const viewsNode = isNode(stats['views']) ? stats['views'] : {};
  for (const v of list(viewsNode['view'])) {
    const name = text(v['name']);
    if (name === undefined) continue;
    const res = namedCounters(list(v['resstat']));
    views[name] = {
      queryV4: res['Queryv4'],
      queryV6: res['Queryv6'],
      rrsets: namedCounters(list(v['cache']).flatMap((c) => list(c['rrset']))),
    };
  }
  return { format: 'xml-v2', qtypes: namedCounters(list(queriesIn['rdtype'])), views };
}

function numbers(v: unknown): Record<string, number> {
  const out: Record<string, number> = {};
  if (!isNode(v)) return out;
  for (const [k, x] of Object.entries(v)) {
    const n = toNumber(x);
    if (n !== undefined) out[k] = n;
  }
  return out;
}

export function parseBindJson(body: string): BindStats {
  let data: unknown;
  try {
    data = JSON.parse(body);
  } catch (err) {
    throw new SourceError(`invalid JSON (${(err as Error).message}; starts "${excerpt(body)}")`);
  }
  if (!isNode(data) || !('json-stats-version' in data)) {
    throw new SourceError(`JSON is not BIND statistics (no "json-stats-version"; starts "${excerpt(body)}")`);
  }
  const views: Record<string, BindView> = {};
  for (const [name, v] of Object.entries(isNode(data['views']) ? data['views'] : {})) {
    const resolver = isNode(v) && isNode(v['resolver']) ? v['resolver'] : {};
    const res = numbers(resolver['stats']);
    const cache = numbers(resolver['cachestats']);
    views[name] = {
      queryV4: res['Queryv4'],
      queryV6: res['Queryv6'],
      cacheHits: cache['CacheHits'],
      cacheMisses: cache['CacheMisses'],
      rrsets: numbers(resolver['cache']),
    };
  }
  return { format: 'json-v1', qtypes: numbers(data['qtypes']), views };
}

export async function parseBindXml(body: string): Promise<BindStats> {
  let doc: Node;
  try {
    doc = await parseXml(body);
  } catch (err) {
    throw new SourceError(`${errorMessage(err)}; starts "${excerpt(body)}"`);
  }
  if (isNode(doc['statistics'])) {
    const version = String(doc['statistics']['@_version'] ?? '');
    if (!version.startsWith('3.')) throw new SourceError(`unsupported BIND XML statistics version "${version}" (3.x or the legacy <isc> 2.x are read)`);
    return parseXmlV3(doc['statistics']);
  }
  if (isNode(doc['isc'])) return parseXmlV2(doc['isc']);
  throw new SourceError(`XML is not BIND statistics (no <statistics> or <isc> root; starts "${excerpt(body)}")`);
}

/** Parses a statistics body: JSON when `json` is true or the body starts with `{`, else XML. */
export async function parseBindStats(body: string, json?: boolean): Promise<BindStats> {
  const isJson = json ?? body.trimStart().startsWith('{');
  return isJson ? parseBindJson(body) : parseBindXml(body);
}

function excerpt(body: string): string {
  const s = body
    .slice(0, 200)
    .replace(/<[^>]*>/g, ' ')
    .replace(/[^\x20-\x7e]+/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  return s.length > 60 ? s.slice(0, 60) + '…' : s;
}
