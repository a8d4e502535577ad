/**
 * Chronos 3's job JSON as TypeBox schemas, with the bounds Agora puts on every field. The mapping to
 * the internal model is chronos.ts.
 */
import { type Static, Type } from 'typebox';
import { explainPattern } from './problems.js';

/** Chronos's job-name rule (`[\w.-]+`), bounded. */
export const CHRONOS_NAME_PATTERN = explainPattern(
  '^[A-Za-z0-9_.-]+$',
  'may contain only letters, digits, underscores, dots and dashes',
);
export const MAX_NAME_LENGTH = 200;
const MAX_TEXT = 65_536;
const MAX_SHORT = 1024;
const MAX_LIST = 1000;
const MAX_SMALL_LIST = 100;
/** Java's Int.MaxValue: how Chronos's face shows (and reads back) "no retry limit" (Metronome ON_FAILURE). */
export const UNLIMITED_RETRIES = 2_147_483_647;

const Short = (extra: object = {}) => Type.String({ maxLength: MAX_SHORT, ...extra });
/** A number, or (Chronos's docs) a numeric string. */
const Num = Type.Union([
  Type.Number(),
  Type.String({ pattern: '^\\s*-?(\\d+(\\.\\d*)?|\\.\\d+)([eE][-+]?\\d+)?\\s*$', maxLength: 40 }),
]);
const KeyValue = Type.Object({ key: Short(), value: Short() });

const ChronosVolume = Type.Object({
  containerPath: Short({ minLength: 1 }),
  hostPath: Type.Optional(Short()),
  mode: Type.Optional(Type.String({ pattern: '^(RO|RW|ro|rw|Ro|Rw)$', maxLength: 2 })),
  external: Type.Optional(
    Type.Object({
      name: Short({ minLength: 1 }),
      provider: Short({ minLength: 1 }),
      options: Type.Optional(Type.Array(KeyValue, { maxItems: MAX_SMALL_LIST })),
    }),
  ),
});

export const ChronosContainerSchema = Type.Object({
  type: Type.Optional(Type.String({ pattern: '^(DOCKER|MESOS|docker|mesos|Docker|Mesos)$', maxLength: 6 })),
  image: Short({ minLength: 1 }),
  forcePullImage: Type.Optional(Type.Union([Type.Boolean(), Type.String({ maxLength: 5 })])),
  network: Type.Optional(Type.Union([Type.Literal('HOST'), Type.Literal('BRIDGE'), Type.Literal('USER')])),
  networkName: Type.Optional(Short()),
  networkInfos: Type.Optional(
    Type.Array(
      Type.Object({
        name: Short(),
        protocol: Type.Optional(Short()),
        labels: Type.Optional(Type.Array(KeyValue, { maxItems: MAX_SMALL_LIST })),
        portMappings: Type.Optional(
          Type.Array(
            Type.Object({
              hostPort: Type.Integer({ minimum: 0, maximum: 65535 }),
              containerPort: Type.Integer({ minimum: 0, maximum: 65535 }),
              protocol: Type.Optional(Short()),
            }),
            { maxItems: MAX_SMALL_LIST },
          ),
        ),
      }),
      { maxItems: MAX_SMALL_LIST },
    ),
  ),
  volumes: Type.Optional(Type.Array(ChronosVolume, { maxItems: MAX_SMALL_LIST })),
  parameters: Type.Optional(Type.Array(KeyValue, { maxItems: MAX_SMALL_LIST })),
});

/** Chronos's job JSON as posted (all fields but `name` optional; unknown fields allowed and ignored). */
export const ChronosJobSchema = Type.Object({
  name: Type.String({ minLength: 1, maxLength: MAX_NAME_LENGTH, pattern: CHRONOS_NAME_PATTERN }),
  command: Type.Optional(Type.String({ maxLength: MAX_TEXT })),
  shell: Type.Optional(Type.Boolean()),
  arguments: Type.Optional(Type.Array(Type.String({ maxLength: MAX_TEXT }), { maxItems: MAX_LIST })),
  schedule: Type.Optional(Type.String({ maxLength: 256 })),
  scheduleTimeZone: Type.Optional(Type.String({ maxLength: 64 })),
  parents: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: MAX_NAME_LENGTH }), { maxItems: MAX_LIST })),
  epsilon: Type.Optional(Type.String({ maxLength: 64 })),
  retries: Type.Optional(Type.Integer({ minimum: 0, maximum: UNLIMITED_RETRIES })),
  disabled: Type.Optional(Type.Boolean()),
  concurrent: Type.Optional(Type.Boolean()),
  softError: Type.Optional(Type.Boolean()),
  highPriority: Type.Optional(Type.Boolean()),
  owner: Type.Optional(Short()),
  ownerName: Type.Optional(Short()),
  description: Type.Optional(Type.String({ maxLength: MAX_TEXT })),
  cpus: Type.Optional(Num),
  mem: Type.Optional(Num),
  disk: Type.Optional(Num),
  container: Type.Optional(ChronosContainerSchema),
  environmentVariables: Type.Optional(
    Type.Array(
      Type.Object({
        name: Type.String({ minLength: 1, maxLength: MAX_SHORT }),
        value: Type.String({ maxLength: MAX_TEXT }),
      }),
      {
        maxItems: MAX_LIST,
      },
    ),
  ),
  uris: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 4096 }), { maxItems: MAX_SMALL_LIST })),
  fetch: Type.Optional(
    Type.Array(
      Type.Object({
        uri: Type.String({ minLength: 1, maxLength: 4096 }),
        executable: Type.Optional(Type.Boolean()),
        extract: Type.Optional(Type.Boolean()),
        cache: Type.Optional(Type.Boolean()),
        output_file: Type.Optional(Short()),
      }),
      { maxItems: MAX_SMALL_LIST },
    ),
  ),
  constraints: Type.Optional(
    Type.Array(Type.Array(Short(), { minItems: 2, maxItems: 3 }), { maxItems: MAX_SMALL_LIST }),
  ),
  runAsUser: Type.Optional(Short()),
  maxCompletionTime: Type.Optional(Type.Integer({ minimum: 0, maximum: 31_536_000 })),
  successCount: Type.Optional(Type.Integer({ minimum: 0 })),
  errorCount: Type.Optional(Type.Integer({ minimum: 0 })),
  errorsSinceLastSuccess: Type.Optional(Type.Integer({ minimum: 0 })),
  lastSuccess: Type.Optional(Type.String({ maxLength: 64 })),
  lastError: Type.Optional(Type.String({ maxLength: 64 })),
  executor: Type.Optional(Short()),
  executorFlags: Type.Optional(Type.String({ maxLength: MAX_TEXT })),
  taskInfoData: Type.Optional(Type.String({ maxLength: MAX_TEXT })),
  dataProcessingJobType: Type.Optional(Type.Boolean()),
  missedRunPolicy: Type.Optional(Type.Union([Type.Literal('RUN_ONCE'), Type.Literal('RUN_ALL'), Type.Literal('SKIP')])),
  concurrencyPolicy: Type.Optional(
    Type.Union([Type.Literal('ALLOW'), Type.Literal('FORBID'), Type.Literal('REPLACE')]),
  ),
});
export type ChronosJobInput = Static<typeof ChronosJobSchema>;
