/**
 * The app and group definitions as the service uses them, and a minimal normaliser: Marathon 1.10's
 * defaults, its legacy fields folded in, and the rules the service relies on. The full schema and
 * its 422 validation live in `frameworks/marathon/model/` (wip/marathon-model); this adapter is the
 * small interface the service is written against until that lands, and then delegates to it.
 */

import {
  type App as ModelApp,
  type Group as ModelGroup,
  normalizeApp,
  normalizeGroup,
  normalizePod,
} from '../model/index.js';

// biome-ignore lint/suspicious/noExplicitAny: Marathon JSON is open-ended; the model validates it.
export type Json = any;

export interface HealthCheckDef {
  protocol: string;
  path?: string;
  portIndex?: number;
  port?: number;
  command?: { value: string };
  gracePeriodSeconds: number;
  intervalSeconds: number;
  timeoutSeconds: number;
  maxConsecutiveFailures: number;
  delaySeconds: number;
  ignoreHttp1xx?: boolean;
}

export interface AppDef {
  id: string;
  cmd?: string;
  args?: string[];
  user?: string;
  env: Record<string, Json>;
  instances: number;
  cpus: number;
  mem: number;
  disk: number;
  gpus: number;
  executor: string;
  constraints: string[][];
  fetch: { uri: string; executable?: boolean; extract?: boolean; cache?: boolean; outputFile?: string }[];
  backoffSeconds: number;
  backoffFactor: number;
  maxLaunchDelaySeconds: number;
  container?: Json;
  healthChecks: HealthCheckDef[];
  readinessChecks: Json[];
  dependencies: string[];
  upgradeStrategy: { minimumHealthCapacity: number; maximumOverCapacity: number };
  labels: Record<string, string>;
  acceptedResourceRoles?: string[];
  role?: string;
  requirePorts: boolean;
  portDefinitions: { port: number; protocol?: string; name?: string; labels?: Record<string, string> }[];
  networks: Json[];
  killSelection: 'YOUNGEST_FIRST' | 'OLDEST_FIRST';
  taskKillGracePeriodSeconds?: number;
  unreachableStrategy: { inactiveAfterSeconds: number; expungeAfterSeconds: number } | 'disabled';
  secrets: Record<string, Json>;
  version: string;
  versionInfo: { lastScalingAt: string; lastConfigChangeAt: string };
  [extra: string]: Json;
}

export interface GroupDef {
  id: string;
  apps: AppDef[];
  pods: Json[];
  groups: GroupDef[];
  dependencies: string[];
  version: string;
  enforceRole?: boolean;
}

/** A 422 detail as Marathon gives it. */
export interface Detail {
  path: string;
  errors: string[];
}

export class SpecError extends Error {
  constructor(
    readonly details: Detail[],
    readonly status: 400 | 422 = 422,
    message = 'Object is not valid',
  ) {
    super(message);
  }
}

/** The service's shape of a model app: ports always a list, versions stamped. */
function fromModel(a: ModelApp, now: string): AppDef {
  const version = a.version ?? now;
  return {
    ...(a as unknown as Json),
    portDefinitions: a.portDefinitions ?? [],
    version,
    versionInfo: {
      lastScalingAt: a.versionInfo?.lastScalingAt ?? version,
      lastConfigChangeAt: a.versionInfo?.lastConfigChangeAt ?? version,
    },
  } as AppDef;
}

function fromModelGroup(g: ModelGroup, now: string): GroupDef {
  return {
    id: g.id,
    apps: g.apps.map((a) => fromModel(a, now)),
    pods: g.pods,
    groups: g.groups.map((c) => fromModelGroup(c, now)),
    dependencies: g.dependencies,
    version: g.version ?? now,
    ...(g.enforceRole !== undefined ? { enforceRole: g.enforceRole } : {}),
  };
}

/**
 * Normalises and validates an app with Marathon 1.10's rules (frameworks/marathon/model); throws
 * SpecError with Marathon's status, message and details when it is refused.
 */
export function normaliseApp(raw: Json, base = '/', now = new Date().toISOString(), role?: string): AppDef {
  const r = normalizeApp(raw, {
    parentGroupId: base === '/' ? undefined : base,
    ...(role ? { defaultRole: role } : {}),
  });
  if (!r.ok) throw new SpecError(r.body.details ?? [], r.status, r.body.message);
  return fromModel(r.value, now);
}

/** A pod with Marathon's rules (frameworks/marathon/model); throws SpecError when refused. */
export function normalisePod(raw: Json, now = new Date().toISOString(), role?: string): Json {
  const r = normalizePod(raw, role ? { defaultRole: role } : {});
  if (!r.ok) throw new SpecError(r.body.details ?? [], r.status, r.body.message);
  return { ...r.value, version: (r.value as Json).version ?? now };
}

/** A group and everything in it, ids made absolute against `base` (the model's rules). */
export function normaliseGroup(raw: Json, base = '/', now = new Date().toISOString(), role?: string): GroupDef {
  const r = normalizeGroup(raw, { parentGroupId: base, ...(role ? { defaultRole: role } : {}) });
  if (!r.ok) throw new SpecError(r.body.details ?? [], r.status, r.body.message);
  return fromModelGroup(r.value, now);
}

/** Resolves `id` against `base` (`..`, `.`, relative ids) into an absolute path without a trailing slash. */
export function absoluteId(id: string, base = '/'): string {
  const parts = (id.startsWith('/') ? [] : base.split('/').filter(Boolean)).concat(id.split('/').filter(Boolean));
  const out: string[] = [];
  for (const p of parts) {
    if (p === '.') continue;
    if (p === '..') out.pop();
    else out.push(p);
  }
  return `/${out.join('/')}`;
}

export function parentOf(id: string): string {
  const i = id.lastIndexOf('/');
  return i <= 0 ? '/' : id.slice(0, i);
}

/** Fields whose change is only a scale, not a new configuration. */
export function onlyScaled(a: AppDef, b: AppDef): boolean {
  const strip = (x: AppDef) => JSON.stringify({ ...x, instances: 0, version: '', versionInfo: null });
  return strip(a) === strip(b);
}
