import { timingSafeEqual } from 'node:crypto';

/**
 * Whether a presented secret (CSRF token, MAC, signature) equals the expected one, compared as UTF-8
 * text in constant time for equal lengths. The length of these values is public, so a length
 * mismatch may return early. Anything but a string is no match.
 */
export function tokensMatch(expected: string, presented: unknown): boolean {
  if (typeof presented !== 'string') return false;
  const a = Buffer.from(expected, 'utf8');
  const b = Buffer.from(presented, 'utf8');
  return a.length === b.length && timingSafeEqual(a, b);
}
