// How the host sources name and pick devices, mounts and interfaces, as pollect always has.

/** pollect's label for a mount path: `/` -> `_`, `/home` -> `_home`, `C:\` -> `C`. */
export function sanitiseDiskName(path: string): string {
  const p = path.replace(/\\/g, '/').replace(/:/g, '');
  return p.startsWith('/') ? p.replace(/\//g, '_') : p.replace(/\//g, '');
}

/** pollect's include/exclude rule: an empty or missing include list accepts every name. */
export function acceptName(name: string, include?: readonly string[], exclude?: readonly string[]): boolean {
  if (include && include.length > 0 && !include.includes(name)) return false;
  return !exclude?.includes(name);
}

/** pollect's label for an interface or disk name: dots become underscores (Graphite paths). */
export function labelName(name: string): string {
  return name.replace(/\./g, '_');
}

/** A failure while reading or parsing kernel files, as one line for a SourceError message. */
export function readError(what: string, err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  if (e && typeof e === 'object' && typeof e.code === 'string') return `cannot read ${what}: ${e.code}`;
  return `cannot read ${what}: ${e instanceof Error ? e.message : String(err)}`;
}
