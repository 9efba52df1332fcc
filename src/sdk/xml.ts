// XML for the sources that read it (Bind, Plex, Fritz): fast-xml-parser, loaded on first use,
// validating as it parses, so a cut or broken document is an error rather than read in part.
import type { X2jOptions, XMLParser } from 'fast-xml-parser';
import { SourceError } from './index.js';

export type XmlNode = Record<string, unknown>;

/** A parser with these options: resolves with the document, or throws SourceError `invalid XML (why)`. */
export function xmlParser(options: X2jOptions): (text: string) => Promise<XmlNode> {
  let loading: Promise<XMLParser> | undefined;
  return async (text) => {
    loading ??= import('fast-xml-parser').then((m) => new m.XMLParser(options));
    const parser = await loading;
    let doc: unknown;
    try {
      doc = parser.parse(text, true);
    } catch (err) {
      throw new SourceError(`invalid XML (${why(err)})`);
    }
    if (!doc || typeof doc !== 'object') throw new SourceError('invalid XML (no document)');
    return doc as XmlNode;
  };
}

/** The validator's reason and line, or the parser's first line. */
function why(err: unknown): string {
  const e = err as { message?: string; err?: { msg?: string; line?: number } };
  return e.err?.msg ? `${e.err.msg} at line ${e.err.line}` : (e.message ?? String(err)).split('\n')[0]!.slice(0, 120);
}
