// Regex params are written for the Python pollect too: its syntax is translated where JavaScript
// has the same meaning and refused where it has none, so a pattern never silently means
// something else (JavaScript reads `\Z` as a plain "Z").
//   (?P<name>...) -> (?<name>...)     (?P=name) -> \k<name>
//   \A -> start of input              \Z, \z -> end of input
//   (?i) (?m) (?s) at the start -> the flags i, m, s; (?a) and (?u) change nothing here
// Refused: (?x) (verbose), (?L), and inline flags anywhere but at the start.

export interface TranslatedRegex {
  source: string;
  flags: string;
}

/** The JavaScript form of a pattern in Python's `re` syntax (JavaScript patterns pass through); throws an Error saying what cannot be translated. */
export function translatePythonRegex(pattern: string): TranslatedRegex {
  let flags = '';
  let rest = pattern;
  const lead = /^\(\?([a-zA-Z]+)\)/.exec(rest);
  if (lead) {
    for (const f of lead[1]!) {
      if (f === 'i' || f === 'm' || f === 's') {
        if (!flags.includes(f)) flags += f;
      } else if (f === 'x') throw new Error('verbose mode (?x) has no JavaScript equivalent: write the pattern without spaces and comments');
      else if (f !== 'a' && f !== 'u') throw new Error(`inline flag "${f}" is not supported (only i, m, s, a, u)`);
    }
    rest = rest.slice(lead[0].length);
  }
  let out = '';
  let inClass = false;
  for (let i = 0; i < rest.length; i++) {
    const c = rest[i]!;
    if (c === '\\') {
      const next = rest[i + 1];
      i++;
      if (next === undefined) {
        out += '\\';
      } else if (!inClass && next === 'A') out += '(?<![\\s\\S])';
      else if (!inClass && (next === 'Z' || next === 'z')) out += '(?![\\s\\S])';
      else out += '\\' + next;
      continue;
    }
    if (inClass) {
      if (c === ']') inClass = false;
      out += c;
      continue;
    }
    if (c === '[') {
      inClass = true;
      out += c;
      // A ] right after [ or [^ is a literal in both syntaxes.
      if (rest[i + 1] === '^') out += rest[++i];
      if (rest[i + 1] === ']') out += '\\' + rest[++i];
      continue;
    }
    if (c === '(' && rest[i + 1] === '?') {
      const named = /^\(\?P<([A-Za-z_]\w*)>/.exec(rest.slice(i));
      if (named) {
        out += `(?<${named[1]}>`;
        i += named[0].length - 1;
        continue;
      }
      const backref = /^\(\?P=([A-Za-z_]\w*)\)/.exec(rest.slice(i));
      if (backref) {
        out += `\\k<${backref[1]}>`;
        i += backref[0].length - 1;
        continue;
      }
      if (/^\(\?[a-zA-Z]+\)/.test(rest.slice(i))) throw new Error('inline flags such as (?i) must be at the start of the pattern');
    }
    out += c;
  }
  return { source: out, flags };
}
