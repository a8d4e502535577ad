/**
 * The app and group definitions as the service uses them, and a minimal normaliser: Marathon 1.10's
 * defaults, its legacy fields folded in, and the rules the service relies on. The full schema and
 * its 422 validation live in `frameworks/marathon/model/` (wip/marathon-model); this adapter is the
 * small interface the service is written against until that lands, and then delegates to it.
 */

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
  constructor(readonly details: Detail[]) {
    super('Object is not valid');
  }
}

const SEGMENT = /^(([a-z0-9]|[a-z0-9][a-z0-9-]*[a-z0-9])\.)*([a-z0-9]|[a-z0-9][a-z0-9-]*[a-z0-9])|(\.|\.\.)$/;

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

function num(v: Json, fallback: number): number {
  if (v === undefined || v === null) return fallback;
  if (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v))) return Number(v);
  return v;
}

function checkId(id: Json, path: string, details: Detail[]): void {
  if (typeof id !== 'string' || id === '') {
    details.push({ path, errors: ['is required'] });
    return;
  }
  for (const seg of id.split('/').filter(Boolean)) {
    if (!SEGMENT.test(seg)) {
      details.push({
        path,
        errors: [
          "must fully match regular expression '^(([a-z0-9]|[a-z0-9][a-z0-9\\-]*[a-z0-9])\\.)*([a-z0-9]|[a-z0-9][a-z0-9\\-]*[a-z0-9])|(\\.|\\.\\.)$'",
        ],
      });
      return;
    }
  }
}

function healthCheck(h: Json): HealthCheckDef {
  const protocol = h.protocol ?? 'HTTP';
  const out: HealthCheckDef = {
    ...h,
    protocol,
    gracePeriodSeconds: num(h.gracePeriodSeconds, 300),
    intervalSeconds: num(h.intervalSeconds, 60),
    timeoutSeconds: num(h.timeoutSeconds, 20),
    maxConsecutiveFailures: num(h.maxConsecutiveFailures, 3),
    delaySeconds: num(h.delaySeconds, 15),
  };
  if (protocol !== 'COMMAND' && out.port === undefined && out.portIndex === undefined) out.portIndex = 0;
  if ((protocol === 'HTTP' || protocol === 'HTTPS' || protocol === 'MESOS_HTTP') && out.path === undefined)
    out.path = '/';
  return out;
}

/** Marathon's defaults and legacy folding for one app; throws SpecError with details when invalid. */
export function normaliseApp(raw: Json, base = '/', now = new Date().toISOString()): AppDef {
  const details: Detail[] = [];
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    throw new SpecError([{ path: '/', errors: ['expected an object'] }]);
  checkId(raw.id, '/id', details);
  const a: Json = { ...raw };
  if (a.cmd !== undefined && a.cmd !== null && a.args !== undefined && a.args !== null) {
    details.push({
      path: '/',
      errors: ["AppDefinition must either contain one of 'cmd' or 'args', and/or a 'container'."],
    });
  }
  for (const k of ['cpus', 'mem', 'disk', 'gpus', 'instances']) {
    const v = num(a[k], k === 'cpus' ? 1 : k === 'mem' ? 128 : k === 'instances' ? 1 : 0);
    if (typeof v !== 'number' || !Number.isFinite(v))
      details.push({ path: `/${k}`, errors: ['error.expected.jsnumber'] });
    else if (v < 0) details.push({ path: `/${k}`, errors: ['got ' + v + ', expected 0.0 or more'] });
    a[k] = v;
  }
  if (typeof a.instances === 'number' && !Number.isInteger(a.instances))
    details.push({ path: '/instances', errors: ['error.expected.int'] });
  if (details.length > 0) throw new SpecError(details);
  // Legacy: uris → fetch; ports → portDefinitions; docker.network / docker.portMappings → networks / container.portMappings.
  const fetch =
    a.fetch ?? (a.uris ?? []).map((uri: string) => ({ uri, extract: true, executable: false, cache: false }));
  delete a.uris;
  let portDefinitions = a.portDefinitions;
  if (portDefinitions === undefined && Array.isArray(a.ports))
    portDefinitions = a.ports.map((p: Json) => ({ port: num(p, 0), protocol: 'tcp' }));
  delete a.ports;
  let networks = a.networks;
  const container = a.container ? JSON.parse(JSON.stringify(a.container)) : undefined;
  if (container?.docker) {
    const net = container.docker.network;
    if (net && !networks)
      networks = [{ mode: net === 'BRIDGE' ? 'container/bridge' : net === 'USER' ? 'container' : 'host' }];
    if (container.docker.portMappings && !container.portMappings)
      container.portMappings = container.docker.portMappings;
    delete container.docker.network;
    delete container.docker.portMappings;
  }
  networks ??= [{ mode: 'host' }];
  const bridged = networks.some((n: Json) => n.mode !== 'host');
  if (container) {
    container.type ??= 'DOCKER';
    if (bridged && container.portMappings)
      container.portMappings = container.portMappings.map((m: Json) => ({
        containerPort: 0,
        hostPort: 0,
        protocol: 'tcp',
        ...m,
      }));
  }
  if (portDefinitions === undefined) portDefinitions = bridged ? [] : [{ port: 0, protocol: 'tcp', name: 'default' }];
  const envIn = a.env ?? {};
  const env: Record<string, Json> = {};
  for (const [k, v] of Object.entries(envIn)) env[k] = typeof v === 'object' && v !== null ? v : String(v);
  const id = absoluteId(a.id, base);
  const us = a.upgradeStrategy ?? {};
  const version = a.version ?? now;
  return {
    ...a,
    id,
    env,
    constraints: (a.constraints ?? []).map((c: Json) =>
      Array.isArray(c) ? c.map(String) : [c.fieldName, c.operator, c.value].filter((x) => x !== undefined),
    ),
    fetch,
    backoffSeconds: num(a.backoffSeconds, 1),
    backoffFactor: num(a.backoffFactor, 1.15),
    maxLaunchDelaySeconds: num(a.maxLaunchDelaySeconds, 300),
    executor: a.executor ?? '',
    container,
    healthChecks: (a.healthChecks ?? []).map(healthCheck),
    readinessChecks: a.readinessChecks ?? [],
    dependencies: (a.dependencies ?? []).map((d: string) => absoluteId(d, parentOf(id))),
    upgradeStrategy: {
      minimumHealthCapacity: num(us.minimumHealthCapacity, 1),
      maximumOverCapacity: num(us.maximumOverCapacity, 1),
    },
    labels: a.labels ?? {},
    requirePorts: a.requirePorts ?? false,
    portDefinitions,
    networks,
    killSelection: a.killSelection ?? 'YOUNGEST_FIRST',
    unreachableStrategy: a.unreachableStrategy ?? { inactiveAfterSeconds: 0, expungeAfterSeconds: 0 },
    secrets: a.secrets ?? {},
    version,
    versionInfo: a.versionInfo ?? { lastScalingAt: version, lastConfigChangeAt: version },
  };
}

/** A group and everything in it, ids made absolute against `base`. */
export function normaliseGroup(raw: Json, base = '/', now = new Date().toISOString(), depth = 0): GroupDef {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    throw new SpecError([{ path: '/', errors: ['expected an object'] }]);
  if (depth > 32) throw new SpecError([{ path: '/groups', errors: ['groups nest too deep'] }]);
  const details: Detail[] = [];
  if (raw.id !== undefined) checkId(raw.id, '/id', details);
  if (details.length > 0) throw new SpecError(details);
  const id = raw.id === undefined ? base : absoluteId(raw.id, base);
  const apps: AppDef[] = [];
  (raw.apps ?? []).forEach((a: Json, i: number) => {
    try {
      apps.push(normaliseApp(a, id, now));
    } catch (e) {
      if (e instanceof SpecError)
        throw new SpecError(e.details.map((d) => ({ ...d, path: `/apps(${i})${d.path === '/' ? '' : d.path}` })));
      throw e;
    }
  });
  const groups = (raw.groups ?? []).map((g: Json) => normaliseGroup(g, id, now, depth + 1));
  return {
    id,
    apps,
    pods: raw.pods ?? [],
    groups,
    dependencies: (raw.dependencies ?? []).map((d: string) => absoluteId(d, parentOf(id))),
    version: raw.version ?? now,
    ...(raw.enforceRole !== undefined ? { enforceRole: raw.enforceRole } : {}),
  };
}

/** Fields whose change is only a scale, not a new configuration. */
export function onlyScaled(a: AppDef, b: AppDef): boolean {
  const strip = (x: AppDef) => JSON.stringify({ ...x, instances: 0, version: '', versionInfo: null });
  return strip(a) === strip(b);
}
