/**
 * From what a client posts to Marathon's canonical app, in Marathon 1.10's order
 * (`AppHelpers.appNormalization`):
 *
 * 1. read the JSON as the App type (numbers given as text become numbers) → 422 "Invalid JSON";
 * 2. validate the deprecated fields and how they combine with the canonical ones → 422;
 * 3. translate the deprecated fields (`uris` → `fetch`, `ports` → `portDefinitions`,
 *    `docker.network`/`ipAddress` → `networks`, `docker.portMappings` → `container.portMappings`),
 *    resolve the id against the enclosing group, fill in defaults;
 * 4. validate the canonical app → 422 "Object is not valid";
 * 5. last defaults (networks, unreachable strategy, requirePorts only for host networking).
 *
 * Pure: no clock, no I/O. `version` is kept as given (the service stamps versions).
 */
import { constraintProblem, parseConstraint } from 'agora/sdk';
import { AppMessages, uniqueNames, validateContainer, validateNetworks, validUri } from './app-rules.js';
import { canonicalPathId, parsePathId, pathIdProblems } from './path-id.js';
import {
  APP_DEFAULTS,
  type App,
  type AppInput,
  AppSchema,
  type Artifact,
  type Container,
  type ContainerPortMapping,
  type HealthCheck,
  type Network,
  type PortDefinition,
  READINESS_DEFAULTS,
  type ReadinessCheck,
  type UnreachableStrategy,
} from './schema-app.js';
import { coerceNumbers, INVALID_JSON, type Normalized, readsViolations, Violations } from './violations.js';

export interface NormalizeOptions {
  /** Absolute id of the group the app is posted in (relative ids resolve against it; the app must be its child). */
  parentGroupId?: string;
  /** Role used when the app names none (Marathon's `--mesos_role`, default `*`). */
  defaultRole?: string;
  /** Roles an app may name (default: `*` and the default role). */
  validRoles?: readonly string[];
  /** `secrets` feature (env and volume secret references); on by default. */
  secrets?: boolean;
  /** `gpu_resources` feature; on by default. */
  gpus?: boolean;
  /**
   * Keep only `*` and the app's role in `acceptedResourceRoles` (falling back to `*`) instead of
   * refusing others, as Marathon's `sanitize_accepted_resource_roles` does; on by default, so that
   * DC/OS specs naming `slave_public` are accepted.
   */
  sanitizeAcceptedResourceRoles?: boolean;
  /** Path prefix for violation paths (`/apps(2)` inside a group). */
  pathPrefix?: string;
}

const EXTRACT_EXT = ['.tgz', '.tar.gz', '.tbz2', '.tar.bz2', '.txz', '.tar.xz', '.zip'];
const MARATHON_HC = new Set(['HTTP', 'HTTPS', 'TCP']);
const MESOS_HC = new Set(['COMMAND', 'MESOS_HTTP', 'MESOS_HTTPS', 'MESOS_TCP']);

function isExtract(uri: string): boolean {
  return EXTRACT_EXT.some((e) => uri.endsWith(e));
}

function nonHost(networks: readonly Network[]): boolean {
  return networks.some((n) => (n.mode ?? 'container') !== 'host');
}

/**
 * Normalises and validates one app. `raw` is the parsed JSON body (or one element of a group's
 * `apps`). Returns the canonical app, or Marathon's 422 answer.
 */
export function normalizeApp(raw: unknown, opts: NormalizeOptions = {}): Normalized<App> {
  const at = opts.pathPrefix ?? '';
  const P = (p: string) => (at + p === '' ? '/' : at + (p === '/' ? '' : p)) || '/';
  // 1. reads
  const input = coerceNumbers(AppSchema, raw);
  const reads = readsViolations(AppSchema, input, at);
  if (reads.length > 0) {
    const v = new Violations();
    v.addAll(reads);
    return v.reject(INVALID_JSON);
  }
  const app = input as AppInput;

  // 2. deprecated API
  const old = new Violations();
  const docker = app.container?.docker;
  const ctype = app.container?.type ?? 'DOCKER';
  if (docker && ctype === 'DOCKER' && docker.credential !== undefined)
    old.add(P('/container/docker/credential'), AppMessages.mustBeEmpty);
  if (docker && ctype === 'MESOS') {
    if (docker.credential !== undefined) old.add(P('/container/docker/credential'), AppMessages.mustBeEmpty);
    if (docker.network !== undefined) old.add(P('/container/docker/network'), AppMessages.mustBeEmpty);
    if ((docker.parameters?.length ?? 0) > 0) old.add(P('/container/docker/parameters'), AppMessages.mustBeEmpty);
    if ((docker.portMappings?.length ?? 0) > 0) old.add(P('/container/docker/portMappings'), AppMessages.mustBeEmpty);
  }
  if (docker?.portMappings && !uniqueNames(docker.portMappings))
    old.add(P('/container/docker/portMappings'), AppMessages.portNamesUnique);
  if (app.ipAddress && app.container?.type === 'DOCKER' && app.ipAddress.discovery !== undefined) {
    old.add(P('/ipAddress'), AppMessages.ipDiscoveryDocker);
  }
  if (app.container && app.container.type === undefined && app.ipAddress?.discovery !== undefined && docker) {
    old.add(P('/ipAddress'), AppMessages.ipDiscoveryDocker);
  }
  if (app.uris) {
    app.uris.forEach((u, i) => {
      if (!validUri(u)) old.add(P(`/uris(${i})`), 'URI has invalid syntax.');
    });
    if (app.uris.length > 0 && (app.fetch?.length ?? 0) > 0) old.add(P('/uris'), AppMessages.urisWithFetch);
  }
  if (docker?.network !== undefined && app.networks !== undefined && app.networks.length > 0)
    old.add(P('/'), AppMessages.dockerNetworkAndNetworks);
  if (app.ipAddress !== undefined && app.networks !== undefined && app.networks.length > 0)
    old.add(P('/'), AppMessages.networksAndIp);
  const fixedPorts = (app.ports ?? []).filter((p) => p !== 0);
  if (new Set(fixedPorts).size !== fixedPorts.length) old.add(P('/'), AppMessages.portsUnique);
  if (app.ipAddress !== undefined && ((app.ports?.length ?? 0) > 0 || (app.portDefinitions?.length ?? 0) > 0)) {
    old.add(P('/'), AppMessages.ipAndPort);
  }
  if (app.ports !== undefined && app.portDefinitions !== undefined) {
    const same =
      app.ports.length === app.portDefinitions.length && app.ports.every((p, i) => app.portDefinitions?.[i].port === p);
    if (!same) old.add(P('/'), AppMessages.portsAndDefinitions);
  }
  if (!old.empty) return old.reject();

  // 3. translate deprecated fields
  let networks: Network[];
  const dn = docker?.network;
  if (app.ipAddress !== undefined && dn !== undefined) {
    if (dn === 'HOST') networks = [{ mode: 'host' }];
    else if (dn === 'USER')
      networks = [withLabels({ mode: 'container', name: app.ipAddress.networkName }, app.ipAddress.labels)];
    else if (dn === 'BRIDGE') networks = [withLabels({ mode: 'container/bridge' }, app.ipAddress.labels)];
    else return rejectRoot(P('/'), `unsupported docker network type ${dn}`);
  } else if (app.ipAddress !== undefined) {
    networks = [withLabels({ mode: 'container', name: app.ipAddress.networkName }, app.ipAddress.labels)];
  } else if (dn !== undefined) {
    if (dn === 'HOST') networks = [{ mode: 'host' }];
    else if (dn === 'USER') networks = [{ mode: 'container' }];
    else if (dn === 'BRIDGE') networks = [{ mode: 'container/bridge' }];
    else return rejectRoot(P('/'), `unsupported docker network type ${dn}`);
  } else {
    networks = (app.networks ?? []).map((n) => ({ ...n, mode: n.mode ?? 'container' }));
  }

  const fetch: Artifact[] =
    (app.uris?.length ?? 0) > 0 && (app.fetch?.length ?? 0) === 0
      ? (app.uris ?? []).map((uri) => ({ uri, extract: isExtract(uri), executable: false, cache: false }))
      : (app.fetch ?? []).map((f) => ({ extract: true, executable: false, cache: false, ...f }));

  const migratedPortDefs: PortDefinition[] | undefined =
    app.portDefinitions?.map((d) => ({ protocol: 'tcp', ...d })) ??
    app.ports?.map((port) => ({ port, protocol: 'tcp' as const }));
  let portDefinitions: PortDefinition[] | undefined = nonHost(networks)
    ? undefined
    : (migratedPortDefs ?? APP_DEFAULTS.portDefinitions.map((d) => ({ ...d })));

  let container: Container | undefined;
  const rawContainer = app.container ?? (app.ipAddress !== undefined ? { type: 'MESOS' as const } : undefined);
  if (rawContainer) {
    let portMappings: ContainerPortMapping[] | undefined = rawContainer.portMappings;
    const dockerMappings = rawContainer.docker?.portMappings;
    if (dockerMappings !== undefined) {
      if ((portMappings?.length ?? 0) > 0 && dockerMappings.length > 0) {
        return rejectRoot(P('/'), 'cannot specify both portMappings and docker.portMappings');
      }
      if ((portMappings?.length ?? 0) === 0) portMappings = dockerMappings;
    }
    const discovery = app.ipAddress?.discovery?.ports;
    const type = rawContainer.type ?? 'DOCKER';
    if (discovery && discovery.length > 0) {
      if (type !== 'MESOS')
        return rejectRoot(P('/'), `ipAddress.discovery.ports do not apply for container type ${type}`);
      if ((portMappings?.length ?? 0) > 0) {
        return rejectRoot(P('/'), 'container.portMappings and ipAddress.discovery.ports must not both be set');
      }
      portMappings = discovery.map((d) => ({
        containerPort: d.number ?? 0,
        name: d.name,
        protocol: d.protocol ?? 'tcp',
        ...(d.labels ? { labels: d.labels } : {}),
      }));
    }
    // host networking (or none given: host later) drops port mappings
    if (networks.length === 0 || networks.some((n) => n.mode === 'host')) portMappings = undefined;
    else if (portMappings === undefined || portMappings.length === 0) portMappings = [{ name: 'default' }];
    if (nonHost(networks) && migratedPortDefs) {
      const delta = migratedPortDefs.length - (portMappings?.length ?? 0);
      for (let i = 0; i < delta; i++) portMappings = [...(portMappings ?? []), {}];
    }
    const d = rawContainer.docker;
    container = {
      type,
      ...(d
        ? {
            docker: {
              image: d.image,
              forcePullImage: d.forcePullImage ?? false,
              ...(d.privileged !== undefined || type === 'DOCKER' ? { privileged: d.privileged ?? false } : {}),
              ...(d.parameters !== undefined || type === 'DOCKER' ? { parameters: d.parameters ?? [] } : {}),
              ...(d.pullConfig ? { pullConfig: d.pullConfig } : {}),
            },
          }
        : {}),
      ...(portMappings ? { portMappings } : {}),
      volumes: rawContainer.volumes ?? [],
    };
  }

  const hasPorts = (app.portDefinitions?.length ?? 0) > 0 || (container?.portMappings?.length ?? 0) > 0;
  const healthChecks: HealthCheck[] = (app.healthChecks ?? []).map((h) => {
    const protocol = h.protocol ?? 'HTTP';
    const out: HealthCheck = {
      protocol,
      gracePeriodSeconds: h.gracePeriodSeconds ?? 300,
      intervalSeconds: h.intervalSeconds ?? 60,
      timeoutSeconds: h.timeoutSeconds ?? 20,
      maxConsecutiveFailures: h.maxConsecutiveFailures ?? 3,
      delaySeconds: h.delaySeconds ?? 15,
    };
    if (h.path !== undefined) out.path = h.path;
    if (h.port !== undefined) out.port = h.port;
    if (h.portIndex !== undefined) out.portIndex = h.portIndex;
    else if (hasPorts && protocol !== 'COMMAND' && h.port === undefined) out.portIndex = 0;
    if (h.command !== undefined) out.command = h.command;
    if (protocol === 'HTTP' || protocol === 'HTTPS') out.ignoreHttp1xx = h.ignoreHttp1xx ?? false;
    if (protocol.startsWith('MESOS_') || h.ipProtocol !== undefined) out.ipProtocol = h.ipProtocol ?? 'IPv4';
    return out;
  });
  const readinessChecks: ReadinessCheck[] = (app.readinessChecks ?? []).map((r) => ({
    ...READINESS_DEFAULTS,
    ...r,
    httpStatusCodesForReady:
      r.httpStatusCodesForReady && r.httpStatusCodesForReady.length > 0
        ? r.httpStatusCodesForReady
        : [...READINESS_DEFAULTS.httpStatusCodesForReady],
  }));

  const base = opts.parentGroupId ?? '/';
  const id = canonicalPathId(app.id, base);
  const role = app.role ?? opts.defaultRole ?? APP_DEFAULTS.role;

  // 4. canonical validation
  const v = new Violations();
  const idProblems = pathIdProblems(app.id, opts.parentGroupId !== undefined ? { base } : {});
  for (const e of idProblems) v.add(P('/id'), e);
  if (parsePathId(id).segments.length === 0) v.add(P('/id'), AppMessages.nonEmptyPath);
  (app.dependencies ?? []).forEach((d, i) => {
    for (const e of pathIdProblems(d)) v.add(P(`/dependencies(${i})`), e);
  });
  validateContainer(v, P, container, networks, app.secrets ?? {});
  if (portDefinitions) {
    if (!uniqueNames(portDefinitions)) v.add(P('/portDefinitions'), AppMessages.portNamesUnique);
    const fixed = portDefinitions.map((p) => p.port).filter((p) => p !== 0);
    if (new Set(fixed).size !== fixed.length) v.add(P('/portDefinitions'), AppMessages.portsUniqueDefs);
  }
  const cmd = app.cmd !== undefined;
  const args = (app.args?.length ?? 0) > 0;
  const hasContainer = container !== undefined && (container.docker !== undefined || container.type === 'MESOS');
  if (!(cmd !== args || (!(cmd && args) && hasContainer))) v.add(P('/'), AppMessages.cmdArgsOrContainer);
  const portCount = container?.portMappings?.length ?? portDefinitions?.length ?? 0;
  healthChecks.forEach((h, i) => {
    if (h.command === undefined && MARATHON_HC.has(h.protocol)) {
      const ok = h.portIndex !== undefined ? h.portIndex < portCount : h.port !== undefined || portCount === 1;
      if (!ok) v.add(P(`/healthChecks(${i})`), AppMessages.hcPortIndex);
    }
    if (h.protocol === 'COMMAND' && h.command === undefined) v.add(P(`/healthChecks(${i})/command`), 'is required');
    if ((h.ipProtocol ?? 'IPv4') !== 'IPv4' && !(h.protocol.startsWith('MESOS_') && container?.type === 'DOCKER')) {
      v.add(P(`/healthChecks(${i})`), AppMessages.hcIpProtocol);
    }
  });
  const mesosCommand = healthChecks.filter((h) => h.command !== undefined).length;
  const allMesos = healthChecks.filter((h) => h.command !== undefined || MESOS_HC.has(h.protocol)).length;
  if (allMesos - mesosCommand > 1) v.add(P('/'), AppMessages.oneMesosHc);
  const secrets = app.secrets ?? {};
  const secretsOn = opts.secrets ?? true;
  if (Object.keys(secrets).length > 0 && !secretsOn)
    v.add(P('/secrets'), 'Feature secrets is not enabled. Enable with --enable_features secrets)');
  for (const [name, val] of Object.entries(app.env ?? {})) {
    if (name.length === 0) v.add(P(`/env`), AppMessages.notEmpty);
    if (typeof val === 'object') {
      if (!secretsOn) v.add(P('/env'), AppMessages.secretsFeature);
      else if (!Object.hasOwn(secrets, val.secret)) v.add(P(`/env/${name}/secret`), AppMessages.undefinedSecret);
    }
  }
  let acceptedResourceRoles = app.acceptedResourceRoles;
  if (acceptedResourceRoles !== undefined) {
    if (acceptedResourceRoles.length === 0) v.add(P('/acceptedResourceRoles'), AppMessages.notEmpty);
    const allowed = new Set(['*', role]);
    if (opts.sanitizeAcceptedResourceRoles ?? true) {
      // Marathon's sanitize_accepted_resource_roles: keep `*` and the app's role, else fall back to `*`.
      const kept = acceptedResourceRoles.filter((r) => allowed.has(r));
      if (acceptedResourceRoles.length > 0) acceptedResourceRoles = kept.length > 0 ? kept : ['*'];
    } else if (acceptedResourceRoles.some((r) => !allowed.has(r))) {
      v.add(P('/acceptedResourceRoles'), `acceptedResourceRoles can only contain * and ${role}`);
    }
  }
  if (opts.validRoles && !opts.validRoles.includes(role)) {
    v.add(P('/role'), `got ${role}, expected one of: [${opts.validRoles.join(', ')}]`);
  }
  const gpus = app.gpus ?? 0;
  if (gpus > 0 && container?.type === 'DOCKER') v.add(P('/'), AppMessages.gpuDocker);
  if (gpus > 0 && opts.gpus === false)
    v.add(P('/'), 'Feature gpu_resources is not enabled. Enable with --enable_features gpu_resources)');
  if (readinessChecks.length > 1) v.add(P('/readinessChecks'), AppMessages.readinessAtMostOne);
  readinessChecks.forEach((r, i) => {
    const names = new Set(
      (container?.portMappings ?? portDefinitions ?? []).map((p) => p.name).filter((n): n is string => n !== undefined),
    );
    if (!names.has(r.portName))
      v.add(P(`/readinessChecks(${i})/portName`), `No port definition reference for portName ${r.portName}`);
    if (!(r.timeoutSeconds < r.intervalSeconds)) {
      v.add(
        P(`/readinessChecks(${i})/timeoutSeconds`),
        `got ${r.timeoutSeconds}, expected less than ${r.intervalSeconds}`,
      );
    }
  });
  const resident = (container?.volumes ?? []).some((vol) => vol.persistent !== undefined);
  if (resident && app.unreachableStrategy !== undefined && app.unreachableStrategy !== 'disabled') {
    v.add(P('/'), AppMessages.unreachableResident);
  }
  if (container?.type === 'DOCKER' && networks.filter((n) => n.mode === 'container').length > 1) {
    v.add(P('/'), AppMessages.dockerSingleNetwork);
  }
  validateNetworks(v, P, networks);
  (app.constraints ?? []).forEach((c, i) => {
    const parsed = parseConstraint(c);
    if (!parsed.ok) v.add(P(`/constraints(${i})`), parsed.error);
    else {
      const why = constraintProblem(parsed.constraint);
      if (why) v.add(P(`/constraints(${i})`), why);
    }
  });
  if (app.cmd !== undefined && app.cmd.length === 0) v.add(P('/'), AppMessages.emptyCmd);
  if (networks.some((n) => n.mode === 'host') && (container?.portMappings?.length ?? 0) > 0)
    v.add(P('/'), AppMessages.mappingsHost);
  if (nonHost(networks) && (portDefinitions?.length ?? 0) > 0) v.add(P('/'), AppMessages.definitionsNonHost);
  if (!v.empty) return v.reject();

  // 5. post-validation defaults
  if (networks.length === 0) networks = [{ mode: 'host' }];
  if (container?.portMappings && networks.some((n) => n.mode === 'container/bridge')) {
    container.portMappings = container.portMappings.map((m) => ({
      containerPort: 0,
      servicePort: 0,
      protocol: 'tcp',
      ...m,
      hostPort: m.hostPort ?? 0,
    }));
  } else if (container?.portMappings) {
    container.portMappings = container.portMappings.map((m) => ({
      containerPort: 0,
      servicePort: 0,
      protocol: 'tcp',
      ...m,
    }));
  }
  if (!nonHost(networks) && portDefinitions === undefined)
    portDefinitions = APP_DEFAULTS.portDefinitions.map((d) => ({ ...d }));
  const unreachableStrategy: UnreachableStrategy =
    app.unreachableStrategy === undefined
      ? resident
        ? 'disabled'
        : { ...APP_DEFAULTS.unreachableStrategy }
      : app.unreachableStrategy === 'disabled'
        ? 'disabled'
        : { inactiveAfterSeconds: 0, expungeAfterSeconds: 0, ...app.unreachableStrategy };
  const upgradeDefaults = resident ? APP_DEFAULTS.residentUpgradeStrategy : APP_DEFAULTS.upgradeStrategy;

  const out: App = {
    id,
    ...(app.cmd !== undefined ? { cmd: app.cmd } : {}),
    ...(args ? { args: app.args } : {}),
    ...(app.user !== undefined ? { user: app.user } : {}),
    instances: app.instances ?? APP_DEFAULTS.instances,
    cpus: app.cpus ?? APP_DEFAULTS.cpus,
    mem: app.mem ?? APP_DEFAULTS.mem,
    disk: app.disk ?? APP_DEFAULTS.disk,
    gpus,
    executor: app.executor ?? '',
    constraints: (app.constraints ?? []).map((c) => {
      const p = parseConstraint(c);
      return p.ok
        ? [p.constraint.field, p.constraint.operator, ...(p.constraint.value !== undefined ? [p.constraint.value] : [])]
        : c;
    }),
    ...(acceptedResourceRoles !== undefined ? { acceptedResourceRoles: [...new Set(acceptedResourceRoles)] } : {}),
    role,
    ...(container ? { container } : {}),
    networks,
    env: { ...(app.env ?? {}) },
    secrets: { ...secrets },
    labels: { ...(app.labels ?? {}) },
    fetch,
    ...(portDefinitions ? { portDefinitions } : {}),
    requirePorts: nonHost(networks) ? false : (app.requirePorts ?? false),
    healthChecks,
    readinessChecks,
    dependencies: [...new Set((app.dependencies ?? []).map((d) => canonicalPathId(d, base)))],
    upgradeStrategy: { ...upgradeDefaults, ...(app.upgradeStrategy ?? {}) },
    backoffSeconds: app.backoffSeconds ?? APP_DEFAULTS.backoffSeconds,
    backoffFactor: app.backoffFactor ?? APP_DEFAULTS.backoffFactor,
    maxLaunchDelaySeconds: app.maxLaunchDelaySeconds ?? APP_DEFAULTS.maxLaunchDelaySeconds,
    killSelection: app.killSelection ?? 'YOUNGEST_FIRST',
    unreachableStrategy,
    ...(app.taskKillGracePeriodSeconds !== undefined
      ? { taskKillGracePeriodSeconds: app.taskKillGracePeriodSeconds }
      : {}),
    ...(app.tty !== undefined ? { tty: app.tty } : {}),
    ...(app.resourceLimits !== undefined ? { resourceLimits: app.resourceLimits } : {}),
    ...(app.executorResources !== undefined ? { executorResources: app.executorResources } : {}),
    ...(app.version !== undefined ? { version: app.version } : {}),
    ...(app.versionInfo !== undefined ? { versionInfo: app.versionInfo } : {}),
  };
  return { ok: true, value: out };
}

function withLabels(n: Network, labels: Record<string, string> | undefined): Network {
  const out: Network = { mode: n.mode };
  if (n.name !== undefined) out.name = n.name;
  if (labels && Object.keys(labels).length > 0) out.labels = labels;
  return out;
}

function rejectRoot(path: string, message: string): Normalized<App> {
  const v = new Violations();
  v.add(path, message);
  return v.reject();
}
