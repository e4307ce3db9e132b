// zod/mini: functional and tree-shakable, a fraction of zod's full build in every function's bundle.
import * as z from 'zod/mini';
import '../domain/zod-config.js';
import { ValidationError } from '../domain/errors.js';

/**
 * Opaque pagination cursors: base64url JSON of the position and the query it belongs to, so a
 * cursor from one listing cannot be replayed against another. Anything unexpected is a 400.
 */
export function encodeCursor(scope: string, key: Record<string, string>): string {
  return Buffer.from(JSON.stringify({ v: 1, scope, key }), 'utf8').toString('base64url');
}

// Any zod schema, full or zod/mini (both build on zod's core).
export function decodeCursor<T extends z.core.$ZodType>(cursor: string, scope: string, keySchema: T): z.output<T> {
  const invalid = () => new ValidationError([{ field: 'cursor', message: 'is not a valid cursor for this listing' }]);
  if (!/^[A-Za-z0-9_-]{1,2048}$/.test(cursor)) throw invalid();
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw invalid();
  }
  const envelope = z.safeParse(z.strictObject({ v: z.literal(1), scope: z.literal(scope), key: z.unknown() }), parsed);
  if (!envelope.success) throw invalid();
  const key = z.safeParse(keySchema, envelope.data.key);
  if (!key.success) throw invalid();
  return key.data;
}
