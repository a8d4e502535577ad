/**
 * Marathon 1.10's pod definition (`pod.raml`, `podContainer.raml`): several containers launched
 * together as one Mesos task group, declared once as TypeBox schemas with Marathon's defaults.
 */
import { type Static, type TSchema, Type } from 'typebox';
import { MAX_CHECKS, MAX_CMD_LENGTH, MAX_INSTANCES, MAX_LIST_ITEMS, MAX_PORTS, MAX_RESOURCE } from './limits.js';
import {
  ArtifactSchema,
  EnvVarSchema,
  KillSelectionSchema,
  KVLabels,
  NetworkSchema,
  PathIdString,
  Text,
  UnreachableStrategySchema,
} from './schema-app.js';

const Opt = <T extends TSchema>(s: T) => Type.Optional(s);
const List = <T extends TSchema>(s: T, max = MAX_LIST_ITEMS) => Type.Array(s, { maxItems: max });
const Num = (dflt?: number, max = MAX_RESOURCE) =>
  Type.Number({ minimum: 0, maximum: max, ...(dflt === undefined ? {} : { default: dflt }) });
/** Container and endpoint names: lower-case DNS label of at most 63 characters. */
export const PodName = Type.String({ minLength: 1, maxLength: 63, pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$' });
const Env = Type.Record(Type.String({ maxLength: 256 }), EnvVarSchema, { maxProperties: MAX_LIST_ITEMS });

export const PodResourcesSchema = Type.Object({
  cpus: Opt(Num(1)),
  mem: Opt(Num(128)),
  disk: Opt(Num(0)),
  gpus: Opt(Type.Integer({ minimum: 0, maximum: 1024, default: 0 })),
});

export const EndpointSchema = Type.Object({
  name: PodName,
  containerPort: Opt(Type.Integer({ minimum: 0, maximum: 65_535 })),
  hostPort: Opt(Type.Integer({ minimum: 0, maximum: 65_535 })),
  /** Advertised protocols (`tcp`, `udp`, `http`...): DNS-label names, as Marathon's `strings.Name`. */
  protocol: Opt(List(PodName, 8)),
  labels: Opt(KVLabels),
  networkNames: Opt(List(Text(63), 16)),
});

const PodHealthCheckSchema = Type.Object({
  http: Opt(
    Type.Object({
      endpoint: Text(63),
      path: Opt(Text(1024)),
      scheme: Opt(Type.Union([Type.Literal('HTTP'), Type.Literal('HTTPS')])),
    }),
  ),
  tcp: Opt(Type.Object({ endpoint: Text(63) })),
  exec: Opt(
    Type.Object({ command: Type.Object({ shell: Opt(Text(MAX_CMD_LENGTH)), argv: Opt(List(Text(MAX_CMD_LENGTH))) }) }),
  ),
  gracePeriodSeconds: Opt(Type.Integer({ minimum: 0, default: 300 })),
  intervalSeconds: Opt(Type.Integer({ minimum: 0, default: 60 })),
  maxConsecutiveFailures: Opt(Type.Integer({ minimum: 0, default: 3 })),
  timeoutSeconds: Opt(Type.Integer({ minimum: 0, default: 20 })),
  delaySeconds: Opt(Type.Integer({ minimum: 0, default: 15 })),
});

export const PodContainerSchema = Type.Object({
  name: PodName,
  exec: Opt(
    Type.Object({
      command: Type.Object({ shell: Opt(Text(MAX_CMD_LENGTH)), argv: Opt(List(Text(MAX_CMD_LENGTH))) }),
      overrideEntrypoint: Opt(Type.Boolean()),
    }),
  ),
  resources: PodResourcesSchema,
  resourceLimits: Opt(Type.Object({})),
  endpoints: Opt(List(EndpointSchema, MAX_PORTS)),
  image: Opt(
    Type.Object({
      kind: Type.Union([Type.Literal('DOCKER'), Type.Literal('APPC')]),
      id: Text(1024, 1),
      forcePull: Opt(Type.Boolean()),
      pullConfig: Opt(Type.Object({ secret: Text(256, 1) })),
      labels: Opt(KVLabels),
    }),
  ),
  environment: Opt(Env),
  user: Opt(Text(256)),
  healthCheck: Opt(PodHealthCheckSchema),
  check: Opt(Type.Object({})),
  volumeMounts: Opt(
    List(Type.Object({ name: Text(63, 1), mountPath: Text(1024, 1), readOnly: Opt(Type.Boolean()) }), MAX_CHECKS),
  ),
  artifacts: Opt(List(ArtifactSchema, 256)),
  labels: Opt(KVLabels),
  lifecycle: Opt(Type.Object({ killGracePeriodSeconds: Opt(Type.Number({ minimum: 0 })) })),
  tty: Opt(Type.Boolean()),
});

/** Pods name constraints as objects. */
export const PodConstraintSchema = Type.Object({
  fieldName: Text(256),
  operator: Text(16),
  value: Opt(Text(512)),
});

export const PodSchema = Type.Object({
  id: PathIdString,
  labels: Opt(KVLabels),
  version: Opt(Text(64)),
  user: Opt(Text(256)),
  environment: Opt(Env),
  containers: List(PodContainerSchema, MAX_CHECKS),
  secrets: Opt(
    Type.Record(Type.String({ maxLength: 256 }), Type.Object({ source: Text(1024, 1) }), { maxProperties: 256 }),
  ),
  volumes: Opt(
    List(
      Type.Object({
        name: Text(63, 1),
        host: Opt(Text(1024)),
        secret: Opt(Text(256)),
        persistent: Opt(Type.Object({})),
      }),
      MAX_CHECKS,
    ),
  ),
  networks: Opt(List(NetworkSchema, MAX_CHECKS)),
  scaling: Opt(
    Type.Object({
      kind: Opt(Type.Literal('fixed')),
      instances: Opt(Type.Integer({ minimum: 0, maximum: MAX_INSTANCES, default: 1 })),
      maxInstances: Opt(Type.Integer({ minimum: 0, maximum: MAX_INSTANCES })),
    }),
  ),
  scheduling: Opt(
    Type.Object({
      backoff: Opt(
        Type.Object({
          backoff: Opt(Num(1)),
          backoffFactor: Opt(Num(1.15, 1000)),
          maxLaunchDelay: Opt(Num(300)),
        }),
      ),
      upgrade: Opt(
        Type.Object({
          minimumHealthCapacity: Opt(Type.Number({ minimum: 0, maximum: 1, default: 1 })),
          maximumOverCapacity: Opt(Type.Number({ minimum: 0, maximum: 1, default: 1 })),
        }),
      ),
      placement: Opt(
        Type.Object({
          constraints: Opt(List(PodConstraintSchema, 64)),
          acceptedResourceRoles: Opt(List(Text(256), 64)),
        }),
      ),
      killSelection: Opt(KillSelectionSchema),
      unreachableStrategy: Opt(UnreachableStrategySchema),
    }),
  ),
  executorResources: Opt(Type.Object({ cpus: Opt(Num(0.1)), mem: Opt(Num(32)), disk: Opt(Num(10)) })),
  role: Opt(Text(256)),
  legacySharedCgroups: Opt(Type.Boolean()),
});
export type PodInput = Static<typeof PodSchema>;

/** A pod in canonical form: defaults filled in, absolute id. Containers keep their given shape with resources completed. */
export type Pod = Omit<PodInput, 'scaling' | 'scheduling' | 'executorResources' | 'networks' | 'containers'> & {
  id: string;
  role: string;
  networks: Static<typeof NetworkSchema>[];
  containers: (Static<typeof PodContainerSchema> & {
    resources: { cpus: number; mem: number; disk: number; gpus: number };
  })[];
  scaling: { kind: 'fixed'; instances: number; maxInstances?: number };
  scheduling: {
    backoff: { backoff: number; backoffFactor: number; maxLaunchDelay: number };
    upgrade: { minimumHealthCapacity: number; maximumOverCapacity: number };
    placement: {
      constraints: { fieldName: string; operator: string; value?: string }[];
      acceptedResourceRoles?: string[];
    };
    killSelection: 'YOUNGEST_FIRST' | 'OLDEST_FIRST';
    unreachableStrategy: 'disabled' | { inactiveAfterSeconds: number; expungeAfterSeconds: number };
  };
  executorResources: { cpus: number; mem: number; disk: number };
};
