import { randomBytes } from 'node:crypto';

const LETTERS = 'abcdefghijklmnopqrstuvwxyz';
const LETTERS_AND_DIGITS = `${LETTERS}0123456789`;

/** Random characters of `alphabet`, unbiased: bytes at or above the largest multiple of its size are drawn again. */
function randomChars(alphabet: string, count: number): string {
  const limit = 256 - (256 % alphabet.length);
  let out = '';
  while (out.length < count) {
    for (const byte of randomBytes(count - out.length + 8)) {
      if (byte < limit && out.length < count) out += alphabet[byte % alphabet.length];
    }
  }
  return out;
}

/**
 * A generator of `length`-character ids shaped like cuid2's (a lowercase letter, then lowercase letters and
 * digits), from the OS's secure random source: 20 characters carry about 102 bits, 24 about 123. Ids are
 * random, not sortable; nothing orders by them. (cuid2 itself brings a 19 KB big-number library into every
 * function's bundle to hash what node:crypto already gives.)
 */
export const randomIdGenerator = (length: number) => (): string => randomChars(LETTERS, 1) + randomChars(LETTERS_AND_DIGITS, length - 1);
