/** Schema checks for the security files: the first problem, by path only (a value may be a secret). */
import type { TSchema } from 'typebox';
import { Value } from 'typebox/value';

export function schemaProblem(schema: TSchema, value: unknown): string | undefined {
  for (const e of Value.Errors(schema, value)) {
    const path = (e as { instancePath?: string }).instancePath ?? '';
    return `${path || '(top level)'} ${(e as { message?: string }).message ?? 'is invalid'}`;
  }
  return undefined;
}
