import type { z } from './zod';

export type ParseResult<T> = { ok: true; value: T } | { ok: false; error: string };

/** A zod error in one line: the first few issues, each with its path. */
export function describeIssues(error: z.ZodError, max = 5): string {
  const shown = error.issues.slice(0, max).map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
  const more = error.issues.length > max ? `; … ${error.issues.length - max} more` : '';
  return shown.join('; ') + more;
}

/** A checker for one schema, for every place a message enters a process: never throws, says what was wrong. */
export function parseWith<S extends z.ZodType>(schema: S): (input: unknown) => ParseResult<z.output<S>> {
  return (input) => {
    const r = schema.safeParse(input);
    return r.success ? { ok: true, value: r.data } : { ok: false, error: describeIssues(r.error) };
  };
}
