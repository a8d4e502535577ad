/** Turning schema errors into short, bounded, readable problems (never a stack, never a value). */
import type { TSchema } from 'typebox';
import { Value } from 'typebox/value';
import type { Problem } from './job.js';

/** Readable text for the patterns the schemas use (a regex is not a reason a user can act on). */
const PATTERN_TEXT = new Map<string, string>();

/** Registers the plain-words meaning of a schema pattern, used instead of "must match pattern …". */
export function explainPattern(pattern: string, text: string): string {
  PATTERN_TEXT.set(pattern, text);
  return pattern;
}

/** Most problems reported for one document. */
export const MAX_PROBLEMS = 20;

/** The schema's complaints about `value`, one per path, at most {@link MAX_PROBLEMS}. */
export function schemaProblems(schema: TSchema, value: unknown): Problem[] {
  const byPath = new Map<string, string>();
  for (const e of Value.Errors(schema, value)) {
    const err = e as { instancePath?: string; message?: string; keyword?: string; params?: Record<string, unknown> };
    let path = err.instancePath || '/';
    let message = err.message ?? 'is invalid';
    if (err.keyword === 'required' && Array.isArray(err.params?.requiredProperties)) {
      const missing = (err.params.requiredProperties as string[]).join(', ');
      path = (err.instancePath || '') + '/' + missing;
      message = 'is required';
    } else if (err.keyword === 'pattern' && PATTERN_TEXT.has(String(err.params?.pattern))) {
      message = PATTERN_TEXT.get(String(err.params?.pattern)) as string;
    } else if (err.keyword === 'boolean') {
      message = 'is not a known field';
    } else if (err.keyword === 'additionalProperties' && Array.isArray(err.params?.additionalProperties)) {
      const extra = (err.params.additionalProperties as string[]).slice(0, 5).join(', ');
      message = `unknown field(s): ${extra}`;
    }
    if (!byPath.has(path)) byPath.set(path, message);
    if (byPath.size >= MAX_PROBLEMS) break;
  }
  return [...byPath].map(([path, message]) => ({ path, message }));
}

/** One line for logs and error messages: `/run/cpus must be >= 0.01; /id is required`. */
export function describeProblems(problems: readonly Problem[]): string {
  return problems.map((p) => `${p.path} ${p.message}`).join('; ');
}
