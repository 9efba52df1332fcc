// Finds where a JSON text stops being valid JSON. V8's JSON.parse errors sometimes carry no
// position ("Unexpected token ... is not valid JSON"); this scanner runs only on that error path.
export interface JsonSyntaxProblem {
  offset: number;
  message: string;
}

export function locateJsonError(text: string): JsonSyntaxProblem | undefined {
  let i = 0;
  const fail = (message: string): never => {
    throw { offset: i, message } satisfies JsonSyntaxProblem;
  };
  const ws = (): void => {
    while (i < text.length && ' \t\n\r'.includes(text[i]!)) i++;
  };
  const expect = (c: string): void => {
    if (text[i] !== c) fail(text[i] === undefined ? `unexpected end of input, expected '${c}'` : `expected '${c}' but found '${text[i]}'`);
    i++;
  };
  const str = (): void => {
    expect('"');
    while (i < text.length && text[i] !== '"') {
      if (text[i] === '\\') i++;
      else if (text.charCodeAt(i) < 0x20) fail('control character in string');
      i++;
    }
    expect('"');
  };
  const value = (): void => {
    ws();
    const c = text[i];
    if (c === '{') {
      i++;
      ws();
      if (text[i] === '}') return void i++;
      for (;;) {
        ws();
        if (text[i] !== '"') fail(text[i] === '}' ? 'trailing comma before }' : `expected a double-quoted key but found ${show(text[i])}`);
        str();
        ws();
        expect(':');
        value();
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === '}') return void i++;
        fail(`expected ',' or '}' but found ${show(text[i])}`);
      }
    }
    if (c === '[') {
      i++;
      ws();
      if (text[i] === ']') return void i++;
      for (;;) {
        ws();
        if (text[i] === ']') fail('trailing comma before ]');
        value();
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === ']') return void i++;
        fail(`expected ',' or ']' but found ${show(text[i])}`);
      }
    }
    if (c === '"') return str();
    const m = /^(-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?|true|false|null)/.exec(text.slice(i, i + 400));
    if (!m) fail(`unexpected ${show(c)}`);
    i += m![0].length;
  };
  try {
    value();
    ws();
    if (i < text.length) fail(`unexpected ${show(text[i])} after the end of the document`);
    return undefined;
  } catch (e) {
    // The scanner recurses per level: a text nested deeper than its stack says so.
    if (e instanceof RangeError) return { offset: i, message: 'nested too deeply' };
    return e as JsonSyntaxProblem;
  }
}

function show(c: string | undefined): string {
  return c === undefined ? 'end of input' : `'${c}'`;
}
