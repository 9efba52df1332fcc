// The kernel page size (RSS in /proc/<pid>/stat counts pages): node has no API for it, so it is
// read from the auxiliary vector the kernel hands every process.
import { readFileSync } from 'node:fs';
import { endianness } from 'node:os';

const AT_NULL = 0;
const AT_PAGESZ = 6;

/** AT_PAGESZ of an auxv (pairs of native words: type, value), or undefined. */
export function parseAuxvPageSize(auxv: Buffer, wordBytes: 4 | 8, littleEndian: boolean): number | undefined {
  const word = (off: number): number =>
    wordBytes === 8
      ? Number(littleEndian ? auxv.readBigUInt64LE(off) : auxv.readBigUInt64BE(off))
      : littleEndian
        ? auxv.readUInt32LE(off)
        : auxv.readUInt32BE(off);
  for (let off = 0; off + 2 * wordBytes <= auxv.length; off += 2 * wordBytes) {
    const type = word(off);
    if (type === AT_NULL) break;
    if (type === AT_PAGESZ) return word(off + wordBytes);
  }
  return undefined;
}

/** The page size of this machine, from /proc/self/auxv; 4096 where that cannot be read. */
export function readPageSize(auxvPath = '/proc/self/auxv'): number {
  try {
    const wordBytes = /64|s390x/.test(process.arch) ? 8 : 4;
    return parseAuxvPageSize(readFileSync(auxvPath), wordBytes, endianness() === 'LE') ?? 4096;
  } catch {
    return 4096;
  }
}
