import { z } from 'zod';
import { ValidationError } from '../../shared/domain/errors.js';
import { decodeCursor, encodeCursor } from '../../shared/store/cursor.js';

const schema = z.strictObject({ id: z.string() });

describe('pagination cursors', () => {
  it('round-trip within their scope', () => {
    const cursor = encodeCursor('drafts:pending', { id: 'c1' });
    expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodeCursor(cursor, 'drafts:pending', schema)).toEqual({ id: 'c1' });
  });

  it.each([
    ['garbage', 'not a cursor!'],
    ['base64 of non-JSON', Buffer.from('hello').toString('base64url')],
    ['another listing', encodeCursor('drafts:approved', { id: 'c1' })],
    ['a forged position', encodeCursor('drafts:pending', { id: 'c1', status: 'approved' } as Record<string, string>)],
    ['empty', ''],
  ])('refuses %s with a 400 naming cursor', (_, cursor) => {
    try {
      decodeCursor(cursor, 'drafts:pending', schema);
      throw new Error('expected failure');
    } catch (error) {
      expect(error).toBeInstanceOf(ValidationError);
      expect((error as ValidationError).details).toEqual({ fields: [{ field: 'cursor', message: 'is not a valid cursor for this listing' }] });
    }
  });
});
