// Types of bin/v8-flags.js, for the tests.
export const V8_FLAGS: string[];
export const CHECKED_V8: [number, number];
export function knownFlags(flags: readonly string[], v8Version?: string, listOptions?: () => string): string[];
export function setKnownFlags(flags: readonly string[]): void;
