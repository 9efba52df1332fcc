// A command given as one string is split into words like a shell would split a simple command
// (quotes and backslashes), but nothing else a shell does happens: no pipes, redirections,
// variables or globs. Such syntax is refused with a hint, so nobody wonders why "a | b" passed
// "|" as an argument.
import path from 'node:path';

export class CommandError extends Error {}

/** Splits a command line into words; throws a CommandError for shell syntax or bad quoting. */
export function splitCommand(line: string): string[] {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  let i = 0;
  const shellSyntax = (what: string): never => {
    throw new CommandError(`command "${line}" uses shell syntax (${what}); commands run without a shell: write it as ["sh", "-c", "..."]`);
  };
  while (i < line.length) {
    const c = line[i]!;
    if (c === ' ' || c === '\t' || c === '\n') {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
      i++;
    } else if (c === "'") {
      const end = line.indexOf("'", i + 1);
      if (end < 0) throw new CommandError(`command "${line}" has an unterminated ' quote`);
      word += line.slice(i + 1, end);
      inWord = true;
      i = end + 1;
    } else if (c === '"') {
      i++;
      let closed = false;
      while (i < line.length) {
        const d = line[i]!;
        if (d === '\\' && i + 1 < line.length && '"\\$`'.includes(line[i + 1]!)) {
          word += line[i + 1];
          i += 2;
        } else if (d === '"') {
          closed = true;
          i++;
          break;
        } else {
          if (d === '$' || d === '`') shellSyntax(d === '`' ? '`' : '$');
          word += d;
          i++;
        }
      }
      if (!closed) throw new CommandError(`command "${line}" has an unterminated " quote`);
      inWord = true;
    } else if (c === '\\') {
      if (i + 1 < line.length) word += line[i + 1];
      inWord = true;
      i += 2;
    } else {
      if ('|&;<>()`'.includes(c)) shellSyntax(c);
      if (c === '$') shellSyntax('$');
      word += c;
      inWord = true;
      i++;
    }
  }
  if (inWord) words.push(word);
  if (words.length === 0) throw new CommandError('command is empty');
  return words;
}

/** file and args of a configured command; a relative path with a slash is relative to configDir. */
export function resolveCommand(command: string | readonly string[], configDir: string): { file: string; args: string[] } {
  const words = typeof command === 'string' ? splitCommand(command) : [...command];
  if (words.length === 0 || !words[0]) throw new CommandError('command is empty');
  let file = words[0];
  if (!path.isAbsolute(file) && file.includes('/')) file = path.resolve(configDir, file);
  return { file, args: words.slice(1) };
}
