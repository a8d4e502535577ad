/**
 * Validates route parts against their TypeBox schemas: defaults (declared in the schema) are
 * filled in; query strings and params, being text, have their numeric and boolean fields
 * converted strictly (`?offset=5` is 5, `?offset=1.5` stays text and fails an integer schema);
 * bodies are never converted (a JSON `"2"` is not a number).
 */
import type { FastifySchemaCompiler } from 'fastify';
import type { TSchema } from 'typebox';
import { Compile } from 'typebox/compile';
import { Value } from 'typebox/value';

const NUMBER = /^-?(\d+(\.\d*)?|\.\d+)(e[+-]?\d+)?$/i;
const INTEGER = /^-?\d+$/;

type FlatSchema = { type?: unknown; properties?: Record<string, { type?: unknown }> };

/** Converts the top-level text fields of a query or params object that the schema types as numbers or booleans. */
export function convertText(schema: FlatSchema, value: unknown): unknown {
  if (schema.type !== 'object' || !schema.properties || typeof value !== 'object' || value === null) return value;
  const out: Record<string, unknown> = { ...(value as Record<string, unknown>) };
  for (const [key, prop] of Object.entries(schema.properties)) {
    const v = out[key];
    if (typeof v !== 'string') continue;
    if (prop.type === 'integer' && INTEGER.test(v)) out[key] = Number(v);
    else if (prop.type === 'number' && NUMBER.test(v)) out[key] = Number(v);
    else if (prop.type === 'boolean' && (v === 'true' || v === 'false')) out[key] = v === 'true';
  }
  return out;
}

export const validatorCompiler: FastifySchemaCompiler<TSchema> = ({ schema, httpPart }) => {
  const check = Compile(schema);
  // Filling defaults walks the whole value: only for schemas that declare some.
  const hasDefaults = JSON.stringify(schema).includes('"default"');
  return (value: unknown) => {
    let v = httpPart === 'body' ? value : convertText(schema as FlatSchema, value);
    if (hasDefaults) v = Value.Default(schema, v);
    if (check.Check(v)) return { value: v };
    return { error: check.Errors(v) as never };
  };
};
