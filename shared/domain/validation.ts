import * as z from 'zod/mini';
import { ValidationError, type FieldProblem } from './errors.js';

/** Turns zod issues into field problems that name the offending field, e.g. "metadata.source". */
function toFieldProblems(error: z.core.$ZodError): FieldProblem[] {
  const problems: FieldProblem[] = [];
  for (const issue of error.issues) {
    const base = issue.path.map(String).join('.');
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) {
        problems.push({ field: base ? `${base}.${key}` : key, message: 'is not a recognised field' });
      }
      continue;
    }
    problems.push({ field: base || 'body', message: issue.message });
  }
  return problems;
}

/** Parses input with a schema or throws a ValidationError naming every bad field. */
export function parseOrThrow<T extends z.core.$ZodType>(schema: T, input: unknown): z.output<T> {
  const result = z.safeParse(schema, input);
  if (!result.success) throw new ValidationError(toFieldProblems(result.error));
  return result.data;
}
