/**
 * Mesos's ACLs (`--acls`, the local authorizer's JSON) and their evaluation, as a pure function.
 *
 * Each action holds an ordered list of rules `{principals: Entity, <object>: Entity}`; an Entity is
 * `{"values": [...]}`, `{"type": "ANY"}` or `{"type": "NONE"}`. A request has a subject (its
 * principal, or ANY when anonymous) and an object (one value, or ANY when the request has none).
 * The first rule whose two entities both match the request decides: allowed unless either entity
 * of that rule is NONE. No matching rule: `permissive` (default true) decides. Matching: an ACL
 * entity ANY or NONE matches every request; `values` matches a request value it lists, and never
 * an ANY request.
 */
import { type Static, type TSchema, Type } from 'typebox';
import { BadAcls } from './errors.js';
import { schemaProblem } from './schema.js';

export const MAX_ACLS_BYTES = 1024 * 1024;
export const MAX_ACL_RULES = 10_000;
export const MAX_ENTITY_VALUES = 1000;
export const MAX_ENTITY_VALUE_LENGTH = 1024;

export const EntityJson = Type.Object(
  {
    type: Type.Optional(Type.Union([Type.Literal('SOME'), Type.Literal('ANY'), Type.Literal('NONE')])),
    values: Type.Optional(
      Type.Array(Type.String({ maxLength: MAX_ENTITY_VALUE_LENGTH }), { maxItems: MAX_ENTITY_VALUES }),
    ),
  },
  { additionalProperties: false },
);
export type EntityJson = Static<typeof EntityJson>;

/** The actions Agora enforces, each with the name of its object entity (as in Mesos). */
export const ACL_OBJECTS = {
  register_frameworks: 'roles',
  run_tasks: 'users',
  teardown_frameworks: 'framework_principals',
  reserve_resources: 'roles',
  unreserve_resources: 'reserver_principals',
  get_quotas: 'roles',
  update_quotas: 'roles',
  update_weights: 'roles',
  view_roles: 'roles',
  get_endpoints: 'paths',
  mark_agents_gone: 'agents',
  register_agents: 'agents',
  view_frameworks: 'users',
  view_tasks: 'users',
  view_executors: 'users',
  access_sandboxes: 'users',
  create_secrets: 'secrets',
  update_secrets: 'secrets',
  view_secrets: 'secrets',
  delete_secrets: 'secrets',
  access_secrets: 'secrets',
} as const;
export type AclAction = keyof typeof ACL_OBJECTS;

/** Mesos ACL kinds Agora accepts in a file (so a Mesos file loads) but has nothing to enforce with. */
const ACCEPTED_UNUSED = [
  'create_volumes',
  'destroy_volumes',
  'resize_volumes',
  'access_mesos_logs',
  'update_maintenance_schedules',
  'get_maintenance_schedules',
  'start_maintenances',
  'stop_maintenances',
  'get_maintenance_statuses',
  'view_flags',
  'set_log_level',
  'view_containers',
  'view_standalone_containers',
  'view_resource_providers',
  'attach_containers_input',
  'attach_containers_output',
  'launch_nested_containers_as_user',
  'launch_nested_container_sessions',
  'kill_nested_containers',
  'wait_nested_containers',
  'remove_nested_containers',
  'launch_standalone_containers',
  'kill_standalone_containers',
  'wait_standalone_containers',
  'remove_standalone_containers',
  'mark_resource_providers_gone',
  'modify_resource_provider_configs',
  'prune_images',
  'drain_agents',
  'deactivate_agents',
  'reactivate_agents',
  'get_operations',
];

const rules = (object: string): TSchema =>
  Type.Array(Type.Object({ principals: EntityJson, [object]: EntityJson }, { additionalProperties: false }), {
    maxItems: MAX_ACL_RULES,
  });
const unusedRules = Type.Array(Type.Record(Type.String({ maxLength: 64 }), EntityJson), { maxItems: MAX_ACL_RULES });

const properties: Record<string, TSchema> = { permissive: Type.Optional(Type.Boolean()) };
for (const [action, object] of Object.entries(ACL_OBJECTS)) properties[action] = Type.Optional(rules(object));
for (const a of ACCEPTED_UNUSED) properties[a] = Type.Optional(unusedRules);
/** `mark_agent_gone` is taken as a spelling of Mesos's `mark_agents_gone`. */
properties.mark_agent_gone = Type.Optional(rules('agents'));
export const AclsJson = Type.Object(properties, { additionalProperties: false });

export type Entity = { type: 'ANY' } | { type: 'NONE' } | { type: 'SOME'; values: readonly string[] };
export interface Rule {
  principals: Entity;
  object: Entity;
}
export interface Acls {
  permissive: boolean;
  rules: Partial<Record<AclAction, readonly Rule[]>>;
}

/** No ACLs: every request allowed (Mesos without `--acls`). */
export const PERMISSIVE: Acls = { permissive: true, rules: {} };

function entity(e: EntityJson, where: string): Entity {
  const type = e.type ?? 'SOME';
  if (type === 'SOME') {
    if (!e.values) throw new BadAcls(`${where}: an entity needs "values" or a "type" of ANY or NONE`);
    return { type, values: e.values };
  }
  if (e.values && e.values.length > 0) throw new BadAcls(`${where}: type ${type} takes no "values"`);
  return { type };
}

/** Parses the `--acls` JSON text; refuses unknown actions, fields and entity types. */
export function parseAcls(text: string): Acls {
  if (Buffer.byteLength(text, 'utf8') > MAX_ACLS_BYTES) throw new BadAcls(`ACLs are over ${MAX_ACLS_BYTES} bytes`);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new BadAcls('ACLs are not valid JSON');
  }
  const p = schemaProblem(AclsJson, json);
  if (p) throw new BadAcls(`ACLs: ${p}`);
  const obj = json as Record<string, unknown>;
  if (obj.mark_agent_gone && obj.mark_agents_gone) {
    throw new BadAcls('ACLs: give mark_agents_gone or mark_agent_gone, not both');
  }
  const out: Acls = { permissive: (obj.permissive as boolean | undefined) ?? true, rules: {} };
  let total = 0;
  for (const [action, field] of Object.entries(ACL_OBJECTS) as [AclAction, string][]) {
    const key = action === 'mark_agents_gone' && obj.mark_agent_gone ? 'mark_agent_gone' : action;
    const list = obj[key] as Record<string, EntityJson>[] | undefined;
    if (!list) continue;
    total += list.length;
    if (total > MAX_ACL_RULES) throw new BadAcls(`ACLs hold over ${MAX_ACL_RULES} rules`);
    out.rules[action] = list.map((r, i) => {
      if (!r[field]) throw new BadAcls(`ACLs: /${key}/${i} needs "${field}"`);
      return {
        principals: entity(r.principals, `/${key}/${i}/principals`),
        object: entity(r[field], `/${key}/${i}/${field}`),
      };
    });
  }
  return out;
}

/** A request's side: a value, or ANY (no principal; no object). */
type Side = string | undefined;

function matches(req: Side, acl: Entity): boolean {
  if (acl.type !== 'SOME') return true;
  return req !== undefined && acl.values.includes(req);
}

/**
 * Whether `principal` (undefined: anonymous) may perform `action` on `object` (undefined: the
 * request names none). First matching rule decides; else `permissive`.
 */
export function aclAllows(acls: Acls, action: AclAction, principal: Side, object: Side): boolean {
  for (const r of acls.rules[action] ?? []) {
    if (matches(principal, r.principals) && matches(object, r.object)) {
      return r.principals.type !== 'NONE' && r.object.type !== 'NONE';
    }
  }
  return acls.permissive;
}
