// Plex Media Server's XML answers: a <MediaContainer> whose attributes describe the list (size)
// and whose child elements are its entries (<Directory>, <Video>, <Track>, ...), each with its
// attributes. Only that shape is read.
import { xmlParser } from '../../sdk/xml.js';

export interface PlexEntry {
  tag: string;
  attrs: Record<string, string>;
}

export interface PlexContainer {
  attrs: Record<string, string>;
  entries: PlexEntry[];
}

const parseXml = xmlParser({
  ignoreAttributes: false,
  attributeNamePrefix: '',
  attributesGroupName: '$',
  // Attribute values stay strings: a title such as "1917" must not become a number.
  parseAttributeValue: false,
  parseTagValue: false,
  // Every element is a list, so one entry and many read alike.
  isArray: (_name, _path, _leaf, isAttribute) => !isAttribute,
});

/** The MediaContainer of a Plex answer; throws when the body is not one. */
export async function parsePlexContainer(xml: string): Promise<PlexContainer> {
  const doc = await parseXml(xml);
  const list = doc.MediaContainer;
  if (!Array.isArray(list) || list.length === 0) throw new Error('not a Plex MediaContainer');
  // An empty element (no attributes, no children) comes as a string.
  const root: unknown = list[0];
  const entries: PlexEntry[] = [];
  for (const [tag, list] of Object.entries(root && typeof root === 'object' ? root : {})) {
    if (tag === '$' || tag === '#text' || !Array.isArray(list)) continue;
    for (const el of list) entries.push({ tag, attrs: attrsOf(el) });
  }
  return { attrs: attrsOf(root), entries };
}

function attrsOf(el: unknown): Record<string, string> {
  const attrs = el && typeof el === 'object' ? (el as { $?: Record<string, string> }).$ : undefined;
  return attrs ?? {};
}

/** A count attribute (`size`, `leafCount`): a non-negative integer, or an error naming it. */
export function countAttr(attrs: Record<string, string>, name: string, where: string): number {
  const v = attrs[name];
  if (v === undefined || !/^\d+$/.test(v)) throw new Error(`${where}: ${name} is ${v === undefined ? 'missing' : JSON.stringify(v.slice(0, 20))}, not a count`);
  return Number(v);
}
