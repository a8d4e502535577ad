/**
 * Metronome's JobSpec and ScheduleSpec (`/v1/jobs`, `/v1/jobs/{id}/schedules`) as in its JSON Schemas
 * (`api/v1/schema/jobspec.schema.json`, `schedulespec.schema.json`), with the defaults of its JSON
 * reads (cpus 1, mem 128, disk 0, gpus 0, maxLaunchDelay 3600 s, restart NEVER; schedule timezone
 * UTC, startingDeadlineSeconds 900, concurrencyPolicy ALLOW, enabled true), mapped to and from the
 * internal {@link Job}.
 *
 * Differences: `concurrencyPolicy` also takes REPLACE (Kubernetes CronJob's), a schedule may carry
 * `missedRunPolicy`; at most one schedule per job (Metronome's own rule); a job needs `cmd`, `args`
 * or a container image.
 */
import { type Static, Type } from 'typebox';
import type { CronSchedule } from './cron.js';
import { parseCron } from './cron.js';
import type { Checked, Constraint, Container, EnvValue, Job, Problem } from './job.js';
import { ConcurrencyPolicy, emptyCounters, JOB_DEFAULTS, type MissedRunPolicy, RestartPolicy } from './job.js';
import { explainPattern, schemaProblems } from './problems.js';

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
const StringMap = Type.Record(Type.String({ maxLength: MAX_SHORT }), Type.String({ maxLength: MAX_TEXT }));

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

/** The schedule half of the internal model, as Metronome's ScheduleSpec sets it. */
export interface ScheduleFields {
  schedule: CronSchedule;
  scheduleId: string;
  startingDeadlineSeconds: number;
  concurrencyPolicy: ConcurrencyPolicy;
  missedRunPolicy: MissedRunPolicy;
  disabled: boolean;
}

/** Validates a ScheduleSpec (`POST /v1/jobs/{id}/schedules`). */
export function scheduleFromMetronome(body: unknown): Checked<ScheduleFields> {
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    return { ok: false, problems: [{ path: '/', message: 'a schedule must be a JSON object' }] };
  const issues = schemaProblems(MetronomeScheduleSchema, body);
  if (issues.length > 0) return { ok: false, problems: issues };
  const s = body as MetronomeScheduleInput;
  const c = parseCron(s.cron, s.timezone ?? 'UTC');
  if (!c.ok)
    return {
      ok: false,
      problems: [{ path: c.reason.includes('time zone') ? '/timezone' : '/cron', message: c.reason }],
    };
  return {
    ok: true,
    value: {
      schedule: c.value,
      scheduleId: s.id,
      startingDeadlineSeconds: s.startingDeadlineSeconds ?? JOB_DEFAULTS.metronomeStartingDeadlineSeconds,
      concurrencyPolicy: s.concurrencyPolicy ?? ConcurrencyPolicy.ALLOW,
      missedRunPolicy: s.missedRunPolicy ?? JOB_DEFAULTS.missedRunPolicy,
      disabled: !(s.enabled ?? true),
    },
  };
}

/** Validates a JobSpec (`POST /v1/jobs`, or `/v0/scheduled-jobs` with embedded schedules). */
export function jobFromMetronome(body: unknown): Checked<Job> {
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    return { ok: false, problems: [{ path: '/', message: 'a job must be a JSON object' }] };
  const issues = schemaProblems(MetronomeJobSchema, body);
  if (issues.length > 0) return { ok: false, problems: issues };
  const b = body as MetronomeJobInput;
  const r = b.run;
  const problems: Problem[] = [];
  const add = (path: string, message: string) => problems.push({ path, message });
  if (r.cmd !== undefined && r.args !== undefined) add('/run/args', 'give either cmd or args, not both');
  if (r.docker && r.ucr) add('/run/ucr', 'give either docker or ucr, not both');
  if (r.cmd === undefined && r.args === undefined && !r.docker && !r.ucr)
    add('/run/cmd', 'a job needs cmd, args or a container image');
  if ((b.schedules ?? []).length > 1) add('/schedules', 'at most one schedule per job is supported');
  const parents = [...new Set((b.dependencies ?? []).map((d) => d.id))];
  if (parents.includes(b.id)) add('/dependencies', 'a job cannot depend on itself');
  if (parents.length > 0 && (b.schedules ?? []).length > 0)
    add('/dependencies', 'a job has either a schedule or dependencies, not both');
  const constraints: Constraint[] = [];
  (r.placement?.constraints ?? []).forEach((c, i) => {
    const operator = c.operator === 'EQ' ? 'IS' : c.operator;
    if (c.value === undefined) add(`/run/placement/constraints/${i}/value`, 'is required');
    else constraints.push({ attribute: c.attribute, operator, value: c.value });
  });
  const env: Record<string, EnvValue> = {};
  for (const [k, v] of Object.entries(r.env ?? {})) {
    if (typeof v === 'string') env[k] = { value: v };
    else {
      if (!r.secrets?.[v.secret])
        add(`/run/env/${k}`, `refers to secret '${v.secret}', which run.secrets does not define`);
      env[k] = { secret: v.secret };
    }
  }
  let sched: ScheduleFields | null = null;
  const first = b.schedules?.[0];
  if (first) {
    const s = scheduleFromMetronome(first);
    if (s.ok) sched = s.value;
    else for (const p of s.problems) add('/schedules/0' + (p.path === '/' ? '' : p.path), p.message);
  }
  if (problems.length > 0) return { ok: false, problems: problems.slice(0, 20) };

  let container: Container | null = null;
  if (r.docker)
    container = {
      type: 'DOCKER',
      image: r.docker.image,
      forcePullImage: r.docker.forcePullImage ?? false,
      privileged: r.docker.privileged ?? false,
      network: 'HOST',
      parameters: r.docker.parameters ?? [],
    };
  else if (r.ucr)
    container = {
      type: 'MESOS',
      image: r.ucr.image.id,
      forcePullImage: r.ucr.image.forcePull ?? false,
      privileged: r.ucr.privileged ?? false,
      network: 'HOST',
      parameters: [],
      imageKind: r.ucr.image.kind ?? 'docker',
    };
  const policy = r.restart?.policy ?? RestartPolicy.NEVER;
  const job: Job = {
    name: b.id,
    description: b.description ?? '',
    owner: '',
    ownerName: '',
    labels: b.labels ?? {},
    command: r.cmd ?? '',
    shell: r.cmd !== undefined,
    arguments: r.args ?? [],
    schedule: sched?.schedule ?? null,
    scheduleId: sched?.scheduleId ?? 'default',
    parents,
    startingDeadlineSeconds: sched?.startingDeadlineSeconds ?? JOB_DEFAULTS.metronomeStartingDeadlineSeconds,
    missedRunPolicy: sched?.missedRunPolicy ?? JOB_DEFAULTS.missedRunPolicy,
    concurrencyPolicy: sched?.concurrencyPolicy ?? ConcurrencyPolicy.ALLOW,
    disabled: sched?.disabled ?? false,
    retries: policy === RestartPolicy.ON_FAILURE ? null : 0,
    restart: { policy, activeDeadlineSeconds: r.restart?.activeDeadlineSeconds ?? null },
    retryDelaySeconds: JOB_DEFAULTS.retryDelaySeconds,
    softError: false,
    highPriority: false,
    cpus: r.cpus ?? JOB_DEFAULTS.metronomeCpus,
    mem: r.mem ?? JOB_DEFAULTS.metronomeMem,
    disk: r.disk ?? JOB_DEFAULTS.metronomeDisk,
    gpus: r.gpus ?? 0,
    container,
    networks: (r.networks ?? []).map((n) => ({
      ...(n.name !== undefined ? { name: n.name } : {}),
      mode: n.mode,
      labels: n.labels ?? {},
    })),
    volumes: (r.volumes ?? []).map((v) => ({ ...v })),
    env,
    secrets: r.secrets ?? {},
    fetch: (r.artifacts ?? []).map((a) => ({
      uri: a.uri,
      executable: a.executable ?? false,
      extract: a.extract ?? true,
      cache: a.cache ?? false,
      outputFile: '',
    })),
    constraints,
    user: r.user ?? '',
    maxCompletionTimeSeconds: r.maxCompletionTime ?? 0,
    maxLaunchDelaySeconds: r.maxLaunchDelay ?? JOB_DEFAULTS.maxLaunchDelaySeconds,
    taskKillGracePeriodSeconds: r.taskKillGracePeriodSeconds ?? null,
    chronosExtras: { executor: '', executorFlags: '', taskInfoData: '', dataProcessingJobType: false },
    counters: emptyCounters(),
  };
  return { ok: true, value: job };
}

/** A job's schedule as Metronome shows it, or null when it has none (or a Chronos R/… one, see docs). */
export function scheduleToMetronome(job: Job, nextRunAt?: number | null): Record<string, unknown> | null {
  const s = job.schedule;
  if (!s) return null;
  const out: Record<string, unknown> = {
    id: job.scheduleId,
    // A Chronos interval has no cron form: shown as written, so it is visible (Metronome clients only read it).
    cron: s.kind === 'cron' ? s.cron : formatIntervalForMetronome(s),
    timezone: s.timeZone === '' ? 'UTC' : s.timeZone,
    startingDeadlineSeconds: job.startingDeadlineSeconds,
    concurrencyPolicy: job.concurrencyPolicy,
    enabled: !job.disabled,
    missedRunPolicy: job.missedRunPolicy,
  };
  if (nextRunAt != null) out.nextRunAt = new Date(nextRunAt).toISOString();
  return out;
}

function formatIntervalForMetronome(s: Exclude<Job['schedule'], null>): string {
  return s.kind === 'iso' ? `R${s.repeat ?? ''}/${new Date(s.start).toISOString()}/${s.period}` : s.cron;
}

/** A job as Metronome's `GET /v1/jobs/{id}` shows it (without embeds; the service adds those). */
export function jobToMetronome(job: Job): Record<string, unknown> {
  const run: Record<string, unknown> = {
    cpus: job.cpus,
    mem: job.mem,
    disk: job.disk,
    gpus: job.gpus,
    artifacts: job.fetch.map((f) => ({ uri: f.uri, executable: f.executable, extract: f.extract, cache: f.cache })),
    env: Object.fromEntries(
      Object.entries(job.env).map(([k, v]) => [k, 'value' in v ? v.value : { secret: v.secret }]),
    ),
    secrets: job.secrets,
    maxLaunchDelay: job.maxLaunchDelaySeconds,
    placement: {
      constraints: job.constraints.map((c) => ({ attribute: c.attribute, operator: c.operator, value: c.value })),
    },
    restart: {
      policy: job.restart.policy,
      ...(job.restart.activeDeadlineSeconds !== null
        ? { activeDeadlineSeconds: job.restart.activeDeadlineSeconds }
        : {}),
    },
    volumes: job.volumes.map((v) => ({
      containerPath: v.containerPath,
      ...(v.hostPath !== undefined ? { hostPath: v.hostPath } : {}),
      ...(v.mode !== undefined ? { mode: v.mode } : {}),
      ...(v.secret !== undefined ? { secret: v.secret } : {}),
    })),
    networks: job.networks.map((n) => ({
      ...(n.name ? { name: n.name } : {}),
      mode: n.mode ?? 'container',
      labels: n.labels,
    })),
  };
  if (job.shell) run.cmd = job.command;
  else run.args = job.command === '' ? job.arguments : [job.command, ...job.arguments];
  if (job.user !== '') run.user = job.user;
  if (job.taskKillGracePeriodSeconds !== null) run.taskKillGracePeriodSeconds = job.taskKillGracePeriodSeconds;
  if (job.maxCompletionTimeSeconds > 0) run.maxCompletionTime = job.maxCompletionTimeSeconds;
  const c = job.container;
  if (c?.type === 'DOCKER')
    run.docker = {
      image: c.image,
      forcePullImage: c.forcePullImage,
      privileged: c.privileged,
      parameters: c.parameters,
    };
  else if (c?.type === 'MESOS')
    run.ucr = {
      image: { id: c.image, kind: c.imageKind ?? 'docker', forcePull: c.forcePullImage },
      privileged: c.privileged,
    };
  const out: Record<string, unknown> = { id: job.name, description: job.description, labels: job.labels, run };
  if (job.parents.length > 0) out.dependencies = job.parents.map((id) => ({ id }));
  return out;
}
