import * as z from 'zod'; export const s = z.strictObject({ a: z.string().min(1), b: z.enum(['x','y']) }); console.log(s.parse({a:'1',b:'x'}));
