import { z } from 'zod';

/** ?limit=&cursor= as every paginated admin listing takes it. */
export const pageQuerySchema = z.strictObject({
  limit: z
    .string()
    .regex(/^\d+$/, { message: 'must be a whole number' })
    .transform(Number)
    .pipe(z.number().int().min(1, { message: 'must be at least 1' }).max(100, { message: 'must be at most 100' }))
    .optional(),
  cursor: z.string().max(2048, { message: 'is not a valid cursor' }).optional(),
});
