// Module hooks (node:module register) for plugin files: `import ... from 'pollect'` resolves to
// this installation wherever the plugin lives, and .ts/.mts files load as ES modules with their
// types stripped, so a TypeScript plugin needs no build step. Node 22.18+ and 24 strip types
// themselves (process.features.typescript); esbuild serves older Node, files under node_modules
// (where Node will not strip) and the files importPluginFile() loads again with `?esbuild` because
// Node refused them (an enum, a parameter property, a type imported without `type`).
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

interface ResolveContext {
  parentURL?: string;
  conditions: string[];
}
interface ResolveResult {
  url: string;
  format?: string;
  shortCircuit?: boolean;
}
interface LoadContext {
  format?: string;
}
interface LoadResult {
  format: string;
  source?: string | Buffer;
  shortCircuit?: boolean;
}

let pollectUrl = '';
const nodeStripsTypes = Boolean((process.features as { typescript?: unknown }).typescript);

export function initialize(data: { pollectUrl: string }): void {
  pollectUrl = data.pollectUrl;
}

export async function resolve(
  specifier: string,
  context: ResolveContext,
  next: (s: string, c: ResolveContext) => Promise<ResolveResult>,
): Promise<ResolveResult> {
  if (specifier === 'pollect') return { url: pollectUrl, format: 'module', shortCircuit: true };
  return next(specifier, context);
}

export async function load(url: string, context: LoadContext, next: (u: string, c: LoadContext) => Promise<LoadResult>): Promise<LoadResult> {
  const { pathname, searchParams, protocol } = new URL(url);
  if (!/\.m?ts$/.test(pathname) || protocol !== 'file:') return next(url, context);
  if (nodeStripsTypes && !searchParams.has('esbuild') && !pathname.includes('/node_modules/')) {
    return next(url, { ...context, format: 'module-typescript' });
  }
  const file = fileURLToPath(url);
  const { transform } = await import('esbuild');
  try {
    const out = await transform(await readFile(file, 'utf8'), {
      loader: 'ts',
      format: 'esm',
      target: 'node20',
      sourcefile: file,
      sourcemap: 'inline',
    });
    return { format: 'module', source: out.code, shortCircuit: true };
  } catch (err) {
    throw new Error(describeTransformError(err, file));
  }
}

/** esbuild's "Transform failed with 1 error:" as `file:line:column: reason`, for each error. */
function describeTransformError(err: unknown, file: string): string {
  const errors = (err as { errors?: { text: string; location?: { line: number; column: number } | null }[] }).errors;
  if (!errors?.length) return (err as Error).message;
  // esbuild's columns count from 0; editors count from 1.
  return errors.map((e) => (e.location ? `${file}:${e.location.line}:${e.location.column + 1}: ${e.text}` : `${file}: ${e.text}`)).join('; ');
}
