import { customAlphabet } from 'nanoid';

const LETTERS = 'abcdefghijklmnopqrstuvwxyz';
const LETTERS_AND_DIGITS = `${LETTERS}0123456789`;

/**
 * A generator of `length`-character ids shaped like cuid2's (a lowercase letter, then lowercase
 * letters and digits), from nanoid's unbiased draw over the OS's secure random source: 20
 * characters carry about 102 bits, 24 about 123. Ids are random, not sortable; nothing orders by
 * them. (cuid2 brought a 19 KB big-number library into every function's bundle; nanoid is ~1 KB.)
 */
export function randomIdGenerator(length: number): () => string {
  const first = customAlphabet(LETTERS, 1);
  const rest = customAlphabet(LETTERS_AND_DIGITS, length - 1);
  return () => first() + rest();
}
