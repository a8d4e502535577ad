/**
 * Marathon 1.10's app definition (`docs/docs/rest-api/public/api/v2/types/app.raml` and the types it
 * uses), declared once as TypeBox schemas with Marathon's defaults. The schema is what a client may
 * send (including the deprecated fields `ports`, `uris`, `ipAddress`, `docker.network`,
 * `docker.portMappings`); {@link normalizeApp} turns a valid input into the canonical {@link App}.
 *
 * Unknown fields are ignored (as Marathon's JSON reads do); every string, list and number is bounded.
 */
import { type Static, type TSchema, Type } from 'typebox';
import {
  MAX_CHECKS,
  MAX_CMD_LENGTH,
  MAX_ID_LENGTH,
  MAX_INSTANCES,
  MAX_LIST_ITEMS,
  MAX_PORTS,
  MAX_RESOURCE,
  MAX_SECONDS,
  MAX_TEXT_LENGTH,
} from './limits.js';

// ---- building blocks -------------------------------------------------------------------------

/** Text of at most `max` characters. */
export const Text = (max = MAX_TEXT_LENGTH, min = 0) => Type.String({ minLength: min, maxLength: max });
const Opt = <T extends TSchema>(s: T) => Type.Optional(s);
const List = <T extends TSchema>(s: T, max = MAX_LIST_ITEMS) => Type.Array(s, { maxItems: max });
const Seconds = (dflt?: number, min = 0) =>
  Type.Integer({ minimum: min, maximum: MAX_SECONDS, ...(dflt === undefined ? {} : { default: dflt }) });
/** A port number, 0 meaning "any" (Marathon's AnyPort). */
export const AnyPort = Type.Integer({ minimum: 0, maximum: 65_535 });
/** Marathon's PathId string type (the per-segment rules are checked by pathIdProblems). */
export const PathIdString = Type.String({ minLength: 1, maxLength: MAX_ID_LENGTH });
/** Lower-case DNS label (port and network names: Marathon's LegacyName). */
export const LegacyName = Type.String({ minLength: 1, maxLength: 63, pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$' });
/** `{key: value}` text labels. */
/** Longest label value: DC/OS package labels (`DCOS_PACKAGE_DEFINITION`) carry whole package JSON. */
export const MAX_LABEL_VALUE_LENGTH = 262_144;
/** `{key: value}` text labels. */
export const KVLabels = Type.Record(Type.String({ maxLength: 256 }), Text(MAX_LABEL_VALUE_LENGTH), {
  maxProperties: MAX_LIST_ITEMS,
});
export const NetworkProtocol = Type.Union([Type.Literal('tcp'), Type.Literal('udp'), Type.Literal('udp,tcp')]);

// ---- ports and networks ----------------------------------------------------------------------

export const PortDefinitionSchema = Type.Object({
  port: AnyPort,
  protocol: Opt(Type.Union([NetworkProtocol], { default: 'tcp' })),
  name: Opt(LegacyName),
  labels: Opt(KVLabels),
});
export type PortDefinition = Static<typeof PortDefinitionSchema>;

export const ContainerPortMappingSchema = Type.Object({
  containerPort: Opt(Type.Integer({ minimum: 0, maximum: 65_535, default: 0 })),
  hostPort: Opt(AnyPort),
  servicePort: Opt(Type.Integer({ minimum: 0, maximum: 65_535, default: 0 })),
  protocol: Opt(Type.Union([NetworkProtocol], { default: 'tcp' })),
  name: Opt(LegacyName),
  labels: Opt(KVLabels),
  networkNames: Opt(List(Text(63), 16)),
});
export type ContainerPortMapping = Static<typeof ContainerPortMappingSchema>;

export const NetworkModeSchema = Type.Union([
  Type.Literal('container'),
  Type.Literal('container/bridge'),
  Type.Literal('host'),
]);
export type NetworkMode = Static<typeof NetworkModeSchema>;
export const NetworkSchema = Type.Object({
  name: Opt(Type.String({ minLength: 1, maxLength: 63, pattern: '^[a-z0-9]([-a-z0-9_]*[a-z0-9])?$' })),
  mode: Opt(Type.Union([NetworkModeSchema], { default: 'container' })),
  labels: Opt(KVLabels),
});
export type Network = Static<typeof NetworkSchema>;

/** Deprecated `ipAddress` (IP-per-task), translated to `networks`. */
export const IpAddressSchema = Type.Object({
  discovery: Opt(
    Type.Object({
      ports: Opt(
        List(
          Type.Object({
            number: Opt(AnyPort),
            name: LegacyName,
            protocol: Opt(NetworkProtocol),
            labels: Opt(KVLabels),
          }),
          MAX_PORTS,
        ),
      ),
    }),
  ),
  groups: Opt(List(Text(256), 64)),
  labels: Opt(KVLabels),
  networkName: Opt(Text(63, 1)),
});

// ---- container -------------------------------------------------------------------------------

export const DockerNetworkSchema = Type.Union([
  Type.Literal('BRIDGE'),
  Type.Literal('HOST'),
  Type.Literal('NONE'),
  Type.Literal('USER'),
]);
export const DockerSchema = Type.Object({
  image: Text(1024),
  network: Opt(DockerNetworkSchema),
  portMappings: Opt(List(ContainerPortMappingSchema, MAX_PORTS)),
  privileged: Opt(Type.Boolean({ default: false })),
  forcePullImage: Opt(Type.Boolean({ default: false })),
  parameters: Opt(List(Type.Object({ key: Text(256, 1), value: Text() }), 256)),
  credential: Opt(Type.Object({ principal: Text(256), secret: Opt(Text(256)) })),
  pullConfig: Opt(Type.Object({ secret: Text(256, 1) })),
});

export const VolumeSchema = Type.Object(
  {
    containerPath: Opt(Text(1024)),
    hostPath: Opt(Text(1024)),
    mode: Opt(Type.Union([Type.Literal('RO'), Type.Literal('RW')])),
    persistent: Opt(Type.Object({ size: Opt(Type.Number({ minimum: 0 })), type: Opt(Text(32)) })),
    external: Opt(Type.Object({ name: Opt(Text(256)), provider: Opt(Text(256)), size: Opt(Type.Number()) })),
    secret: Opt(Text(256)),
  },
  {},
);

export const ContainerSchema = Type.Object({
  type: Opt(Type.Union([Type.Literal('DOCKER'), Type.Literal('MESOS')], { default: 'DOCKER' })),
  docker: Opt(DockerSchema),
  portMappings: Opt(List(ContainerPortMappingSchema, MAX_PORTS)),
  volumes: Opt(List(VolumeSchema, MAX_CHECKS)),
});

// ---- checks ----------------------------------------------------------------------------------

export const HealthCheckProtocolSchema = Type.Union([
  Type.Literal('HTTP'),
  Type.Literal('HTTPS'),
  Type.Literal('TCP'),
  Type.Literal('COMMAND'),
  Type.Literal('MESOS_TCP'),
  Type.Literal('MESOS_HTTP'),
  Type.Literal('MESOS_HTTPS'),
]);
export type HealthCheckProtocol = Static<typeof HealthCheckProtocolSchema>;

export const HealthCheckSchema = Type.Object({
  protocol: Opt(Type.Union([HealthCheckProtocolSchema], { default: 'HTTP' })),
  path: Opt(Text(1024)),
  port: Opt(AnyPort),
  portIndex: Opt(Type.Integer({ minimum: 0, maximum: MAX_PORTS })),
  command: Opt(Type.Object({ value: Text(MAX_CMD_LENGTH) })),
  gracePeriodSeconds: Opt(Seconds(300)),
  intervalSeconds: Opt(Seconds(60)),
  timeoutSeconds: Opt(Seconds(20)),
  maxConsecutiveFailures: Opt(Type.Integer({ minimum: 0, maximum: 1_000_000, default: 3 })),
  delaySeconds: Opt(Seconds(15)),
  ignoreHttp1xx: Opt(Type.Boolean({ default: false })),
  ipProtocol: Opt(Type.Union([Type.Literal('IPv4'), Type.Literal('IPv6')], { default: 'IPv4' })),
});
export type HealthCheckInput = Static<typeof HealthCheckSchema>;

export const ReadinessCheckSchema = Type.Object({
  name: Opt(Type.String({ minLength: 1, maxLength: 256, default: 'readinessCheck' })),
  protocol: Opt(Type.Union([Type.Literal('HTTP'), Type.Literal('HTTPS')], { default: 'HTTP' })),
  path: Opt(Type.String({ minLength: 1, maxLength: 1024, default: '/' })),
  portName: Opt(Type.String({ minLength: 1, maxLength: 63, default: 'http-api' })),
  intervalSeconds: Opt(Seconds(30)),
  timeoutSeconds: Opt(Seconds(10, 1)),
  httpStatusCodesForReady: Opt(List(Type.Integer({ minimum: 100, maximum: 999 }), 64)),
  preserveLastResponse: Opt(Type.Boolean({ default: false })),
});
export type ReadinessCheck = Required<Static<typeof ReadinessCheckSchema>>;

// ---- the rest ----------------------------------------------------------------------------------

export const ArtifactSchema = Type.Object({
  uri: Text(1024, 1),
  extract: Opt(Type.Boolean({ default: true })),
  executable: Opt(Type.Boolean({ default: false })),
  cache: Opt(Type.Boolean({ default: false })),
  destPath: Opt(Text(1024, 1)),
});
export type Artifact = Static<typeof ArtifactSchema>;

/** An env value: text, or a reference to a secret declared in `secrets`. */
export const EnvVarSchema = Type.Union([Text(MAX_CMD_LENGTH), Type.Object({ secret: Text(256) })]);
export type EnvVar = Static<typeof EnvVarSchema>;

export const UpgradeStrategySchema = Type.Object({
  minimumHealthCapacity: Opt(Type.Number({ minimum: 0, maximum: 1, default: 1 })),
  maximumOverCapacity: Opt(Type.Number({ minimum: 0, maximum: 1, default: 1 })),
});
export interface UpgradeStrategy {
  minimumHealthCapacity: number;
  maximumOverCapacity: number;
}

export const UnreachableStrategySchema = Type.Union([
  Type.Literal('disabled'),
  Type.Object({
    inactiveAfterSeconds: Opt(Seconds(0)),
    expungeAfterSeconds: Opt(Seconds(0)),
  }),
]);
export type UnreachableStrategy = 'disabled' | { inactiveAfterSeconds: number; expungeAfterSeconds: number };

export const KillSelectionSchema = Type.Union([Type.Literal('YOUNGEST_FIRST'), Type.Literal('OLDEST_FIRST')]);
export type KillSelection = Static<typeof KillSelectionSchema>;

export const VersionInfoSchema = Type.Object({
  lastScalingAt: Opt(Text(64)),
  lastConfigChangeAt: Opt(Text(64)),
});

/** An app as a client may send it (Marathon 1.10's `App` RAML type, deprecated fields included). */
export const AppSchema = Type.Object({
  id: PathIdString,
  cmd: Opt(Type.String({ minLength: 1, maxLength: MAX_CMD_LENGTH })),
  args: Opt(List(Text(MAX_CMD_LENGTH))),
  user: Opt(Text(256)),
  instances: Opt(Type.Integer({ minimum: 0, maximum: MAX_INSTANCES, default: 1 })),
  cpus: Opt(Type.Number({ minimum: 0.001, maximum: MAX_RESOURCE, default: 1 })),
  mem: Opt(Type.Number({ minimum: 0, maximum: MAX_RESOURCE, default: 128 })),
  disk: Opt(Type.Number({ minimum: 0, maximum: MAX_RESOURCE, default: 0 })),
  gpus: Opt(Type.Integer({ minimum: 0, maximum: 1_024, default: 0 })),
  executor: Opt(Type.String({ maxLength: 1024, pattern: '^(//cmd)|(/?[^/]+(/[^/]+)*)|$', default: '' })),
  constraints: Opt(List(List(Text(1024), 8))),
  acceptedResourceRoles: Opt(List(Text(256), 64)),
  role: Opt(Text(256)),
  container: Opt(ContainerSchema),
  networks: Opt(List(NetworkSchema, MAX_CHECKS)),
  env: Opt(Type.Record(Type.String({ maxLength: 256 }), EnvVarSchema, { maxProperties: MAX_LIST_ITEMS })),
  secrets: Opt(
    Type.Record(Type.String({ maxLength: 256 }), Type.Object({ source: Text(1024, 1) }), { maxProperties: 256 }),
  ),
  labels: Opt(KVLabels),
  fetch: Opt(List(ArtifactSchema, 256)),
  uris: Opt(List(Text(1024), 256)),
  ports: Opt(List(AnyPort, MAX_PORTS)),
  portDefinitions: Opt(List(PortDefinitionSchema, MAX_PORTS)),
  requirePorts: Opt(Type.Boolean({ default: false })),
  ipAddress: Opt(IpAddressSchema),
  healthChecks: Opt(List(HealthCheckSchema, MAX_CHECKS)),
  readinessChecks: Opt(List(ReadinessCheckSchema, MAX_CHECKS)),
  check: Opt(Type.Object({})),
  dependencies: Opt(List(PathIdString)),
  upgradeStrategy: Opt(UpgradeStrategySchema),
  backoffSeconds: Opt(Type.Integer({ minimum: 0, maximum: MAX_SECONDS, default: 1 })),
  backoffFactor: Opt(Type.Number({ minimum: 1, maximum: 1_000, default: 1.15 })),
  maxLaunchDelaySeconds: Opt(Type.Integer({ minimum: 0, maximum: MAX_SECONDS, default: 300 })),
  killSelection: Opt(Type.Union([KillSelectionSchema], { default: 'YOUNGEST_FIRST' })),
  unreachableStrategy: Opt(UnreachableStrategySchema),
  taskKillGracePeriodSeconds: Opt(Seconds()),
  tty: Opt(Type.Boolean()),
  residency: Opt(Type.Object({})),
  resourceLimits: Opt(
    Type.Object({
      cpus: Opt(Type.Union([Type.Number({ minimum: 0 }), Type.Literal('unlimited')])),
      mem: Opt(Type.Union([Type.Number({ minimum: 0 }), Type.Literal('unlimited')])),
    }),
  ),
  executorResources: Opt(
    Type.Object({
      cpus: Opt(Type.Number({ minimum: 0, maximum: MAX_RESOURCE })),
      mem: Opt(Type.Number({ minimum: 0, maximum: MAX_RESOURCE })),
      disk: Opt(Type.Number({ minimum: 0, maximum: MAX_RESOURCE })),
    }),
  ),
  version: Opt(Text(64)),
  versionInfo: Opt(VersionInfoSchema),
});
/** An app as sent (deprecated fields possible, defaults not yet applied). */
export type AppInput = Static<typeof AppSchema>;

// ---- canonical form ---------------------------------------------------------------------------

export interface HealthCheck {
  protocol: HealthCheckProtocol;
  path?: string;
  port?: number;
  portIndex?: number;
  command?: { value: string };
  gracePeriodSeconds: number;
  intervalSeconds: number;
  timeoutSeconds: number;
  maxConsecutiveFailures: number;
  delaySeconds: number;
  ignoreHttp1xx?: boolean;
  ipProtocol?: 'IPv4' | 'IPv6';
}

export interface Container {
  type: 'DOCKER' | 'MESOS';
  docker?: {
    image: string;
    privileged?: boolean;
    forcePullImage: boolean;
    parameters?: { key: string; value: string }[];
    pullConfig?: { secret: string };
  };
  /** Present for non-host networking (BRIDGE / container networks). */
  portMappings?: ContainerPortMapping[];
  volumes: Static<typeof VolumeSchema>[];
}

/**
 * An app in Marathon's canonical form: absolute id, every default filled in, deprecated fields
 * translated (`networks` instead of `docker.network`/`ipAddress`, `container.portMappings`,
 * `portDefinitions` instead of `ports`, `fetch` instead of `uris`). This is what GET /v2/apps shows.
 */
export interface App {
  id: string;
  cmd?: string;
  args?: string[];
  user?: string;
  instances: number;
  cpus: number;
  mem: number;
  disk: number;
  gpus: number;
  executor: string;
  /** Marathon's `[field, OPERATOR, value?]` triples. */
  constraints: string[][];
  acceptedResourceRoles?: string[];
  role: string;
  container?: Container;
  networks: Network[];
  env: Record<string, EnvVar>;
  secrets: Record<string, { source: string }>;
  labels: Record<string, string>;
  fetch: Artifact[];
  /** Host networking only (absent otherwise). */
  portDefinitions?: PortDefinition[];
  requirePorts: boolean;
  healthChecks: HealthCheck[];
  readinessChecks: ReadinessCheck[];
  dependencies: string[];
  upgradeStrategy: UpgradeStrategy;
  backoffSeconds: number;
  backoffFactor: number;
  maxLaunchDelaySeconds: number;
  killSelection: KillSelection;
  unreachableStrategy: UnreachableStrategy;
  taskKillGracePeriodSeconds?: number;
  tty?: boolean;
  resourceLimits?: AppInput['resourceLimits'];
  executorResources?: AppInput['executorResources'];
  version?: string;
  versionInfo?: { lastScalingAt?: string; lastConfigChangeAt?: string };
}

/** Marathon 1.10's defaults, in one place (the schema's `default`s say the same). */
export const APP_DEFAULTS = {
  instances: 1,
  cpus: 1,
  mem: 128,
  disk: 0,
  gpus: 0,
  executor: '',
  requirePorts: false,
  backoffSeconds: 1,
  backoffFactor: 1.15,
  maxLaunchDelaySeconds: 300,
  killSelection: 'YOUNGEST_FIRST',
  upgradeStrategy: { minimumHealthCapacity: 1, maximumOverCapacity: 1 },
  unreachableStrategy: { inactiveAfterSeconds: 0, expungeAfterSeconds: 0 },
  /** Resident apps (persistent volumes) default to `disabled` and to this upgrade strategy. */
  residentUpgradeStrategy: { minimumHealthCapacity: 0.5, maximumOverCapacity: 0 },
  /** Host networking without ports declared gets one port, any number. */
  portDefinitions: [{ port: 0, protocol: 'tcp' }],
  role: '*',
} as const;

/** Health check defaults per protocol. */
export const HEALTH_CHECK_DEFAULTS = {
  gracePeriodSeconds: 300,
  intervalSeconds: 60,
  timeoutSeconds: 20,
  maxConsecutiveFailures: 3,
  delaySeconds: 15,
  /** HTTP, HTTPS, MESOS_HTTP, MESOS_HTTPS */
  path: '/',
} as const;

/** Readiness check defaults (`httpStatusCodesForReady` defaults to [200]). */
export const READINESS_DEFAULTS = {
  name: 'readinessCheck',
  protocol: 'HTTP',
  path: '/',
  portName: 'http-api',
  intervalSeconds: 30,
  timeoutSeconds: 10,
  httpStatusCodesForReady: [200],
  preserveLastResponse: false,
} as const;
