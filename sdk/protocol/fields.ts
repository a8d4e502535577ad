/**
 * Field schemas that the message shapes share: closed objects, ids, role names, seconds, ports.
 */
import { Type } from 'typebox';
import { MAX_ROLE_LENGTH, roleNameProblem } from '../resources/roles.js';
import { idProblem, MAX_ID_LENGTH } from '../util/id.js';
import { MAX_ROLES, MAX_SECONDS } from './limits.js';

/** A closed object: unknown fields are refused. */
export function Obj<P extends Parameters<typeof Type.Object>[0]>(properties: P) {
  return Type.Object(properties, { additionalProperties: false });
}

/** Seconds: 0 ≤ s ≤ MAX_SECONDS. */
export const SecondsSchema = Type.Number({ minimum: 0, maximum: MAX_SECONDS });
/** A TCP/UDP port. */
export const PortSchema = Type.Integer({ minimum: 0, maximum: 65_535 });

/** A task, framework, agent, executor or offer id (`idProblem` in sdk/util/id.ts). */
export const IdSchema = Type.Refine(
  Type.String({ minLength: 1, maxLength: MAX_ID_LENGTH }),
  (v) => idProblem(v) === undefined,
  (v) => idProblem(v) ?? 'invalid id',
);
/** A role name (`roleNameProblem` in sdk/resources/roles.ts). */
export const RoleSchema = Type.Refine(
  Type.String({ minLength: 1, maxLength: MAX_ROLE_LENGTH }),
  (v) => roleNameProblem(v) === undefined,
  (v) => roleNameProblem(v) ?? 'invalid role',
);
export const RolesSchema = Type.Array(RoleSchema, { maxItems: MAX_ROLES });
