// bodyExcerpt redacts before it cuts: a secret that a peer echoes across the cut is not shown in part.
import { describe, expect, it } from 'vitest';
import { bodyExcerpt } from '../../src/sdk/http.js';
import { registerSecret } from '../../src/sdk/index.js';

describe('bodyExcerpt', () => {
  it('never shows part of a registered secret that the cut would split', () => {
    const secret = 'eyJhbGciOiJFUzI1NiJ9.excerpt-test-secret-0123456789';
    registerSecret(secret);
    const text = bodyExcerpt(Buffer.from(`${'x'.repeat(100)} got ${secret} from you`), 120);
    expect(text).toBe(`${'x'.repeat(100)} got *** from you`);
    expect(bodyExcerpt(Buffer.from(`${'y'.repeat(110)} ${secret}`), 120)).toBe(`${'y'.repeat(110)} ***`);
    expect(bodyExcerpt(Buffer.from(`${'z'.repeat(118)} ${secret}`), 120)).toBe(`${'z'.repeat(118)} *…`);
  });
});
