/**
 * Metronome's JobSpec and ScheduleSpec as TypeBox schemas (its `jobspec.schema.json` and
 * `schedulespec.schema.json`, with Agora's bounds and extensions). The mapping to the internal
 * model is metronome.ts.
 */
import { type Static, Type } from 'typebox';
import { explainPattern } from './problems.js';

/** Metronome's id rule: dot-separated segments of `a-z0-9` and inner dashes. */
export const METRONOME_ID_PATTERN = explainPattern(
  '^(([a-z0-9]|[a-z0-9][a-z0-9-]*[a-z0-9])\\.)*([a-z0-9]|[a-z0-9][a-z0-9-]*[a-z0-9])$',
  'must be dot-separated names of lowercase letters, digits and dashes, not starting or ending with a dash',
);
const MAX_ID = 200;
const MAX_TEXT = 65_536;
const MAX_SHORT = 1024;
const MAX_LIST = 1000;
const MAX_SMALL = 100;
const Short = (extra: object = {}) => Type.String({ maxLength: MAX_SHORT, ...extra });
const Id = Type.String({ minLength: 1, maxLength: MAX_ID, pattern: METRONOME_ID_PATTERN });
const StringMap = Type.Record(Type.String({ maxLength: MAX_SHORT }), Type.String({ maxLength: MAX_TEXT }), {
  maxProperties: MAX_LIST,
});

export const MetronomeScheduleSchema = Type.Object(
  {
    id: Id,
    cron: Type.String({ minLength: 1, maxLength: 256 }),
    timezone: Type.Optional(Type.String({ maxLength: 64 })),
    startingDeadlineSeconds: Type.Optional(Type.Integer({ minimum: 1, maximum: 31_536_000 })),
    concurrencyPolicy: Type.Optional(
      Type.Union([Type.Literal('ALLOW'), Type.Literal('FORBID'), Type.Literal('REPLACE')]),
    ),
    enabled: Type.Optional(Type.Boolean()),
    missedRunPolicy: Type.Optional(
      Type.Union([Type.Literal('RUN_ONCE'), Type.Literal('RUN_ALL'), Type.Literal('SKIP')]),
    ),
    nextRunAt: Type.Optional(Type.String({ maxLength: 64 })),
  },
  { additionalProperties: false },
);
export type MetronomeScheduleInput = Static<typeof MetronomeScheduleSchema>;

const Volume = Type.Object(
  {
    containerPath: Type.String({ minLength: 1, maxLength: MAX_SHORT }),
    hostPath: Type.Optional(Type.String({ minLength: 1, maxLength: MAX_SHORT })),
    mode: Type.Optional(Type.Union([Type.Literal('RO'), Type.Literal('RW')])),
    secret: Type.Optional(Type.String({ minLength: 1, maxLength: MAX_SHORT })),
  },
  { additionalProperties: false },
);

export const MetronomeRunSchema = Type.Object(
  {
    args: Type.Optional(Type.Array(Type.String({ maxLength: MAX_TEXT }), { maxItems: MAX_LIST })),
    artifacts: Type.Optional(
      Type.Array(
        Type.Object(
          {
            uri: Type.String({ minLength: 1, maxLength: 4096 }),
            executable: Type.Optional(Type.Boolean()),
            extract: Type.Optional(Type.Boolean()),
            cache: Type.Optional(Type.Boolean()),
          },
          { additionalProperties: false },
        ),
        { maxItems: MAX_SMALL },
      ),
    ),
    cmd: Type.Optional(Type.String({ minLength: 1, maxLength: MAX_TEXT })),
    cpus: Type.Optional(Type.Number({ minimum: 0.01, maximum: 1e6 })),
    gpus: Type.Optional(Type.Integer({ minimum: 0, maximum: 1024 })),
    disk: Type.Optional(Type.Number({ minimum: 0, maximum: 1e9 })),
    mem: Type.Optional(Type.Number({ minimum: 32, maximum: 1e9 })),
    networks: Type.Optional(
      Type.Array(
        Type.Object(
          {
            name: Type.Optional(Short()),
            mode: Type.Union([Type.Literal('host'), Type.Literal('container/bridge'), Type.Literal('container')]),
            labels: Type.Optional(StringMap),
          },
          { additionalProperties: false },
        ),
        { maxItems: MAX_SMALL },
      ),
    ),
    ucr: Type.Optional(
      Type.Object(
        {
          image: Type.Object(
            {
              id: Type.String({ minLength: 1, maxLength: MAX_SHORT }),
              kind: Type.Optional(Type.Union([Type.Literal('docker'), Type.Literal('appc')])),
              forcePull: Type.Optional(Type.Boolean()),
            },
            { additionalProperties: false },
          ),
          privileged: Type.Optional(Type.Boolean()),
        },
        { additionalProperties: false },
      ),
    ),
    docker: Type.Optional(
      Type.Object(
        {
          image: Type.String({ minLength: 1, maxLength: MAX_SHORT }),
          forcePullImage: Type.Optional(Type.Boolean()),
          privileged: Type.Optional(Type.Boolean()),
          parameters: Type.Optional(
            Type.Array(Type.Object({ key: Short(), value: Short() }, { additionalProperties: false }), {
              maxItems: MAX_SMALL,
            }),
          ),
        },
        { additionalProperties: false },
      ),
    ),
    env: Type.Optional(
      Type.Record(
        Type.String({ maxLength: MAX_SHORT }),
        Type.Union([
          Type.String({ maxLength: MAX_TEXT }),
          Type.Object({ secret: Type.String({ minLength: 1, maxLength: MAX_SHORT }) }, { additionalProperties: false }),
        ]),
        { maxProperties: MAX_LIST },
      ),
    ),
    maxLaunchDelay: Type.Optional(Type.Integer({ minimum: 1, maximum: 31_536_000 })),
    placement: Type.Optional(
      Type.Object(
        {
          constraints: Type.Optional(
            Type.Array(
              Type.Object(
                {
                  attribute: Type.String({ minLength: 1, maxLength: MAX_SHORT }),
                  operator: Type.Union([
                    Type.Literal('IS'),
                    Type.Literal('EQ'),
                    Type.Literal('LIKE'),
                    Type.Literal('UNLIKE'),
                  ]),
                  value: Type.Optional(Short()),
                },
                { additionalProperties: false },
              ),
              { maxItems: MAX_SMALL },
            ),
          ),
        },
        { additionalProperties: false },
      ),
    ),
    user: Type.Optional(Short()),
    taskKillGracePeriodSeconds: Type.Optional(Type.Number({ minimum: 0, maximum: 86_400 })),
    restart: Type.Optional(
      Type.Object(
        {
          policy: Type.Union([Type.Literal('NEVER'), Type.Literal('ON_FAILURE')]),
          activeDeadlineSeconds: Type.Optional(Type.Integer({ minimum: 0, maximum: 31_536_000 })),
        },
        { additionalProperties: false },
      ),
    ),
    volumes: Type.Optional(Type.Array(Volume, { maxItems: MAX_SMALL })),
    secrets: Type.Optional(
      Type.Record(
        Type.String({ maxLength: MAX_SHORT }),
        Type.Object({ source: Type.String({ minLength: 1, maxLength: MAX_SHORT }) }, { additionalProperties: false }),
        { maxProperties: MAX_SMALL },
      ),
    ),
    /** Agora extension: kill a run going longer than this, s (Chronos `maxCompletionTime`). */
    maxCompletionTime: Type.Optional(Type.Integer({ minimum: 0, maximum: 31_536_000 })),
  },
  { additionalProperties: false },
);

export const MetronomeJobSchema = Type.Object(
  {
    id: Id,
    description: Type.Optional(Type.String({ maxLength: MAX_TEXT })),
    labels: Type.Optional(StringMap),
    dependencies: Type.Optional(
      Type.Array(Type.Object({ id: Id }, { additionalProperties: false }), { maxItems: MAX_LIST }),
    ),
    schedules: Type.Optional(Type.Array(MetronomeScheduleSchema, { maxItems: MAX_SMALL })),
    run: MetronomeRunSchema,
  },
  { additionalProperties: false },
);
export type MetronomeJobInput = Static<typeof MetronomeJobSchema>;
