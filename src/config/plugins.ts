// Resolves a source or writer `type` to its class: the built-in registries, a plugin file named
// by path (relative to the config file), or a `<Type>Source` file in one of `pluginDirs`.
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { retiredSources, sourceRegistry } from '../sources/registry.js';
import { writerRegistry } from '../writers/registry.js';
import type { AnySourceClass } from '../sdk/index.js';
import type { AnyWriterClass } from '../sdk/index.js';
import { didYouMean } from './errors.js';

export interface ResolvedClass<T> {
  cls: T;
  /** The type as it appears in metric names: `LoadAvg`, or `MyApp` for a MyAppSource plugin. */
  typeName: string;
  /** From the built-in registry (its schema is precompiled). */
  builtin: boolean;
  /** The plugin's file, for a plugin (errors it throws later are traced back to it). */
  file?: string;
}

const PLUGIN_EXTENSIONS = ['.ts', '.mts', '.js', '.mjs'];

export function isPathType(type: string): boolean {
  return type.startsWith('./') || type.startsWith('../') || path.isAbsolute(type) || /\.(m?[jt]s)$/.test(type);
}

let hooksRegistered = false;
/**
 * From the installed build, plugin files get `pollect` resolved to this installation and .ts
 * loaded without a build step (plugin-hooks.ts). Under vitest the test runner does both itself.
 */
async function registerPluginHooks(): Promise<void> {
  if (hooksRegistered || !import.meta.url.endsWith('.js')) return;
  hooksRegistered = true;
  const { register } = await import('node:module');
  const pollectUrl = new URL('../index.js', import.meta.url).href;
  register(new URL('./plugin-hooks.js', import.meta.url), { data: { pollectUrl } });
}

/** Imports a JS or TS plugin file. */
export async function importPluginFile(file: string): Promise<Record<string, unknown>> {
  await registerPluginHooks();
  const url = pathToFileURL(file).href;
  try {
    return (await import(url)) as Record<string, unknown>;
  } catch (err) {
    // Node's own type stripping refuses TypeScript that needs more than erasing (enums, parameter
    // properties) and keeps a type imported without `type`, which then fails to link: esbuild, which
    // handles both, loads the file instead (plugin-hooks.ts). Nothing of the module ran yet. For a
    // syntax error esbuild says where it is (file:line:column), which Node's message does not.
    if (!hooksRegistered || !/\.m?ts$/.test(file) || !nodeRefused(err)) throw err;
    return (await import(`${url}?esbuild`)) as Record<string, unknown>;
  }
}

function nodeRefused(err: unknown): boolean {
  const code = (err as { code?: unknown }).code;
  if (code === 'ERR_UNSUPPORTED_TYPESCRIPT_SYNTAX' || code === 'ERR_INVALID_TYPESCRIPT_SYNTAX') return true;
  return err instanceof SyntaxError && /does not provide an export named/.test(err.message);
}

function isClassWith(value: unknown, method: string): boolean {
  return typeof value === 'function' && typeof (value as { prototype?: Record<string, unknown> }).prototype?.[method] === 'function';
}

/** The class a plugin module offers for `type`: `<Type>Source`, `<Type>`, default, or its only class. */
export function pickClass(mod: Record<string, unknown>, baseName: string, suffix: string, method: string): { cls: unknown; name: string } | undefined {
  const candidates = [`${baseName}${suffix}`, baseName, 'default'];
  for (const key of candidates) {
    if (isClassWith(mod[key], method)) return { cls: mod[key], name: key === 'default' ? (mod[key] as { name: string }).name : key };
  }
  const classes = Object.entries(mod).filter(([, v]) => isClassWith(v, method));
  if (classes.length === 1) return { cls: classes[0]![1], name: classes[0]![0] };
  return undefined;
}

function stripSuffix(name: string, suffix: string): string {
  return name.endsWith(suffix) && name.length > suffix.length ? name.slice(0, -suffix.length) : name;
}

export class PluginError extends Error {}

export async function resolveSourceClass(type: string, configDir: string, pluginDirs: readonly string[]): Promise<ResolvedClass<AnySourceClass>> {
  if (Object.hasOwn(retiredSources, type)) throw new PluginError(retiredSources[type]!);
  return resolveClass<AnySourceClass>(type, configDir, pluginDirs, sourceRegistry, 'Source', 'probe', 'source');
}

export async function resolveWriterClass(type: string, configDir: string, pluginDirs: readonly string[]): Promise<ResolvedClass<AnyWriterClass>> {
  return resolveClass<AnyWriterClass>(type, configDir, pluginDirs, writerRegistry, 'Writer', 'write', 'writer');
}

async function resolveClass<T>(
  type: string,
  configDir: string,
  pluginDirs: readonly string[],
  registry: Record<string, () => Promise<T>>,
  suffix: string,
  method: string,
  kind: string,
): Promise<ResolvedClass<T>> {
  const builtin = Object.hasOwn(registry, type) ? registry[type] : undefined;
  if (builtin) return { cls: await builtin(), typeName: type, builtin: true };

  if (isPathType(type)) {
    const file = path.resolve(configDir, type);
    if (!existsSync(file)) throw new PluginError(`plugin file not found: ${file}`);
    const base = stripSuffix(path.basename(file).replace(/\.[^.]+$/, ''), suffix);
    const mod = await loadModule(file);
    const picked = pickClass(mod, base, suffix, method);
    if (!picked) throw new PluginError(`${file} exports no ${kind} class (a class with a ${method}() method)`);
    return { cls: picked.cls as T, typeName: stripSuffix(picked.name, suffix), builtin: false, file };
  }

  for (const dir of pluginDirs) {
    const abs = path.resolve(configDir, dir);
    if (!existsSync(abs)) continue;
    for (const stem of [`${type}${suffix}`, type]) {
      for (const ext of PLUGIN_EXTENSIONS) {
        const file = path.join(abs, stem + ext);
        if (!existsSync(file)) continue;
        const picked = pickClass(await loadModule(file), type, suffix, method);
        if (picked) return { cls: picked.cls as T, typeName: type, builtin: false, file };
      }
    }
  }

  const known = [...Object.keys(registry), ...pluginDirs.flatMap((d) => listPluginTypes(path.resolve(configDir, d), suffix))];
  const hint = didYouMean(type, known);
  throw new PluginError(`unknown ${kind} type "${type}"${hint ? ` (did you mean "${hint}"?)` : ''}`);
}

/** A plugin whose top-level code never finishes (an await that never settles) is an error, not a hang. */
export const PLUGIN_LOAD_TIMEOUT_MS = 10_000;

async function loadModule(file: string): Promise<Record<string, unknown>> {
  let timer: NodeJS.Timeout | undefined;
  // A timer that keeps the process alive: without one, a never-settling import lets it exit silently.
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new PluginError(`plugin ${file} did not finish loading within ${PLUGIN_LOAD_TIMEOUT_MS / 1000} s (a top-level await that never settles?)`)),
      PLUGIN_LOAD_TIMEOUT_MS,
    );
  });
  try {
    return await Promise.race([importPluginFile(file), timeout]);
  } catch (err) {
    if (err instanceof PluginError) throw err;
    throw new PluginError(`cannot load plugin ${file}: ${(err as Error).message.split('\n')[0]}`);
  } finally {
    clearTimeout(timer);
  }
}

function listPluginTypes(dir: string, suffix: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => PLUGIN_EXTENSIONS.includes(path.extname(f)))
    .map((f) => stripSuffix(f.replace(/\.[^.]+$/, ''), suffix));
}
