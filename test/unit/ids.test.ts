import { randomIdGenerator } from '../../shared/domain/ids.js';
import { newDraftId } from '../../shared/domain/draft.js';

describe('random ids (shared/domain/ids.ts)', () => {
  it('are a lowercase letter then lowercase letters and digits, of the asked length', () => {
    const id = randomIdGenerator(20);
    for (let i = 0; i < 1000; i++) expect(id()).toMatch(/^[a-z][a-z0-9]{19}$/);
    expect(newDraftId()).toMatch(/^c[a-z][a-z0-9]{23}$/);
  });

  it('do not repeat, and use every character', () => {
    const ids = Array.from({ length: 20_000 }, randomIdGenerator(24));
    expect(new Set(ids).size).toBe(ids.length);
    expect(new Set(ids.join('')).size).toBe(36);
  });

  it('are unbiased: each character of the tail turns up about equally often', () => {
    const counts = new Map<string, number>();
    for (const id of Array.from({ length: 20_000 }, randomIdGenerator(11))) for (const c of id.slice(1)) counts.set(c, (counts.get(c) ?? 0) + 1);
    const expected = (20_000 * 10) / 36;
    // ±10 % of 5,556 is over 7 standard deviations: a modulo bias (256 % 36 = 4) would show as +14 %.
    for (const n of counts.values()) expect(Math.abs(n - expected) / expected).toBeLessThan(0.1);
  });
});
