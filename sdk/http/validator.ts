/**
 * Validates route parts against their TypeBox schemas: defaults (declared in the schema) are
 * filled in, query strings and params are converted from text (`?offset=5` to 5), bodies are not
 * (a JSON `"2"` is not a number).
 */
import type { FastifySchemaCompiler } from 'fastify';
import type { TSchema } from 'typebox';
import { Compile } from 'typebox/compile';
import { Value } from 'typebox/value';

export const validatorCompiler: FastifySchemaCompiler<TSchema> = ({ schema, httpPart }) => {
  const check = Compile(schema);
  return (value: unknown) => {
    let v = Value.Default(schema, value);
    if (httpPart !== 'body') {
      try {
        v = Value.Convert(schema, v);
      } catch {
        // Conversion is a convenience (TypeBox cannot convert some keys, e.g. `*`): check as is.
      }
    }
    if (check.Check(v)) return { value: v };
    return { error: check.Errors(v) as never };
  };
};
