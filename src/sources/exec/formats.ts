// The output formats by name.
import type { Sample } from '../../sdk/index.js';
import { CollectdParser } from './collectd.js';
import { InfluxParser } from './influx.js';
import { PrometheusParser } from './prometheus.js';
import { GraphiteParser } from './graphite.js';
import { JsonLineParser, parseJsonOutput } from './json.js';
import { parseLines, type Format, type LineParser, type ParserOptions } from './parser.js';

/** A fresh parser for one output (or one long-running child's whole life). */
export function createParser(format: Format, opts: ParserOptions = {}): LineParser {
  switch (format) {
    case 'collectd':
      return new CollectdParser(opts);
    case 'influx':
      return new InfluxParser();
    case 'prometheus':
      return new PrometheusParser();
    case 'graphite':
      return new GraphiteParser();
    case 'json':
      return new JsonLineParser();
  }
}

/** Parses a command's whole output; throws a ParseError naming the first bad line. */
export function parseOutput(format: Format, text: string, opts: ParserOptions = {}): Sample[] {
  // One JSON document may span lines; every other format is line based.
  if (format === 'json') return parseJsonOutput(text);
  return parseLines(createParser(format, opts), text);
}
