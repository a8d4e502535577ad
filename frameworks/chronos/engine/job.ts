/**
 * The one internal job the engine runs, and its translation from and to the two faces: Chronos 3's
 * job JSON and Metronome's JobSpec/ScheduleSpec. Pure: the time is passed in (an empty ISO start
 * means "now"). Invalid input throws {@link JobInvalid} with a message that names the field.
 */
import { isoDurationMs, parseCron, parseIso, type Schedule, ScheduleError } from './schedule.js';

export type ConcurrencyPolicy = 'ALLOW' | 'FORBID' | 'REPLACE';
/** What a new leader (or a restarted service) does with due times it missed: see docs/chronos.md. */
export type MissedRunPolicy = 'RUN_ONCE' | 'RUN_ALL' | 'SKIP';

export interface JobSchedule {
  id: string;
  /** The text as given (Chronos `schedule`, Metronome `cron`). */
  text: string;
  kind: 'iso' | 'cron';
  tz: string;
  parsed: Schedule;
  /** A run that cannot start within this of its due time is recorded as skipped. */
  deadlineMs: number;
  concurrency: ConcurrencyPolicy;
  enabled: boolean;
}

export interface Constraint {
  attribute: string;
  operator: 'EQUALS' | 'LIKE' | 'UNLIKE' | 'IS';
  value: string;
}

export interface Job {
  name: string;
  face: 'chronos' | 'metronome';
  description: string;
  owner: string;
  ownerName: string;
  command: string;
  shell: boolean;
  arguments: string[];
  schedules: JobSchedule[];
  parents: string[];
  retries: number;
  retryDelayMs: number;
  disabled: boolean;
  softError: boolean;
  highPriority: boolean;
  cpus: number;
  mem: number;
  disk: number;
  docker?: {
    image: string;
    forcePullImage?: boolean;
    privileged?: boolean;
    parameters?: { key: string; value: string }[];
  };
  env: { name: string; value?: string; secret?: string }[];
  uris: { uri: string; extract?: boolean; executable?: boolean; cache?: boolean }[];
  constraints: Constraint[];
  runAsUser?: string;
  maxCompletionTimeMs?: number;
  missedRunPolicy: MissedRunPolicy;
  labels: Record<string, string>;
  taskKillGracePeriodSeconds?: number;
  /** Fields of the face's JSON kept as given, to answer GET faithfully. */
  extra: Record<string, unknown>;
}

export class JobInvalid extends Error {}

const NAME = /^[\w.#-][\w\s.#-]*$/;
const METRONOME_ID = /^([a-z0-9]([a-z0-9-]*[a-z0-9])?)(\.([a-z0-9]([a-z0-9-]*[a-z0-9])?))*$/;
export const MAX_JOB_NAME = 200;

type Json = Record<string, unknown>;

function str(o: Json, k: string, fallback = ''): string {
  const v = o[k];
  if (v === undefined || v === null) return fallback;
  if (typeof v !== 'string') throw new JobInvalid(`'${k}' must be a string`);
  return v;
}
function num(o: Json, k: string, fallback: number, min = 0, max = 1e9): number {
  const v = o[k];
  if (v === undefined || v === null) return fallback;
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new JobInvalid(`'${k}' must be a number`);
  if (v < min || v > max) throw new JobInvalid(`'${k}' must be between ${min} and ${max}, got ${v}`);
  return v;
}
function bool(o: Json, k: string, fallback: boolean): boolean {
  const v = o[k];
  if (v === undefined || v === null) return fallback;
  if (typeof v !== 'boolean') throw new JobInvalid(`'${k}' must be true or false`);
  return v;
}
function obj(v: unknown, what: string): Json {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new JobInvalid(`${what} must be a JSON object`);
  return v as Json;
}
function arr(o: Json, k: string): unknown[] {
  const v = o[k];
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw new JobInvalid(`'${k}' must be an array`);
  if (v.length > 1000) throw new JobInvalid(`'${k}' has more than 1000 entries`);
  return v;
}
function strings(o: Json, k: string): string[] {
  return arr(o, k).map((x, i) => {
    if (typeof x !== 'string') throw new JobInvalid(`'${k}[${i}]' must be a string`);
    return x;
  });
}

export function checkName(name: string): void {
  if (!name) throw new JobInvalid("'name' is required");
  if (name.length > MAX_JOB_NAME) throw new JobInvalid(`'name' is longer than ${MAX_JOB_NAME} characters`);
  if (!NAME.test(name))
    throw new JobInvalid(`'name' '${name}' may hold only letters, digits, spaces, '.', '#', '_' and '-'`);
}

function sched(id: string, text: string, kind: 'iso' | 'cron', tz: string, nowMs: number): Schedule {
  try {
    return kind === 'iso' ? parseIso(text, tz, nowMs) : parseCron(text, tz);
  } catch (e) {
    if (e instanceof ScheduleError) throw new JobInvalid(`schedule ${id}: ${e.message}`);
    throw e;
  }
}

/**
 * A Chronos 3 job (POST /scheduler/iso8601 or /scheduler/dependency). `kind` says which: an
 * iso8601 job needs `schedule` (cron too, an Agora extension: `schedule` of five fields), a
 * dependent job needs `parents`.
 */
export function fromChronos(input: unknown, kind: 'iso8601' | 'dependency', nowMs: number): Job {
  const o = obj(input, 'a job');
  const name = str(o, 'name');
  checkName(name);
  const command = str(o, 'command');
  const container = o.container === undefined || o.container === null ? undefined : obj(o.container, "'container'");
  if (!command && !container) throw new JobInvalid("'command' is required (or a 'container')");
  const tz = str(o, 'scheduleTimeZone') || 'UTC';
  const parents = strings(o, 'parents');
  const schedText = str(o, 'schedule');
  const schedules: JobSchedule[] = [];
  const epsilonMs = (() => {
    try {
      return o.epsilon ? isoDurationMs(str(o, 'epsilon')) : 60_000;
    } catch {
      throw new JobInvalid(`'epsilon' '${String(o.epsilon)}' is not an ISO 8601 duration`);
    }
  })();
  const concurrent = bool(o, 'concurrent', false);
  if (kind === 'iso8601') {
    if (!schedText) throw new JobInvalid("'schedule' is required for a scheduled job (R[n]/<start>/<period>)");
    if (parents.length > 0) throw new JobInvalid("a scheduled job has no 'parents'; post it to /scheduler/dependency");
    const isCron = !schedText.includes('/');
    schedules.push({
      id: 'default',
      text: schedText,
      kind: isCron ? 'cron' : 'iso',
      tz,
      parsed: sched('default', schedText, isCron ? 'cron' : 'iso', tz, nowMs),
      deadlineMs: epsilonMs,
      concurrency: concurrent ? 'ALLOW' : 'FORBID',
      enabled: true,
    });
  } else {
    if (parents.length === 0) throw new JobInvalid("'parents' is required for a dependent job");
    if (schedText) throw new JobInvalid("a dependent job has no 'schedule'; post it to /scheduler/iso8601");
  }
  for (const p of parents) checkName(p);
  if (parents.includes(name)) throw new JobInvalid(`job '${name}' cannot be its own parent`);
  let docker: Job['docker'];
  if (container) {
    const type = str(container, 'type', 'DOCKER').toUpperCase();
    if (type !== 'DOCKER' && type !== 'MESOS') throw new JobInvalid("'container.type' must be DOCKER or MESOS");
    const image = str(container, 'image');
    if (!image) throw new JobInvalid("'container.image' is required");
    docker = { image, forcePullImage: bool(container, 'forcePullImage', false) };
  }
  const env = arr(o, 'environmentVariables').map((x, i) => {
    const e = obj(x, `'environmentVariables[${i}]'`);
    const n = str(e, 'name');
    if (!n) throw new JobInvalid(`'environmentVariables[${i}].name' is required`);
    return { name: n, value: str(e, 'value') };
  });
  const uris = [
    ...strings(o, 'uris').map((uri) => ({ uri })),
    ...arr(o, 'fetch').map((x, i) => {
      const f = obj(x, `'fetch[${i}]'`);
      return { uri: str(f, 'uri'), extract: bool(f, 'extract', true), executable: bool(f, 'executable', false) };
    }),
  ];
  const constraints = arr(o, 'constraints').map((x, i) => {
    if (!Array.isArray(x) || x.length < 2 || x.some((s) => typeof s !== 'string'))
      throw new JobInvalid(`'constraints[${i}]' must be [attribute, operator, value]`);
    const op = String(x[1]).toUpperCase();
    if (op !== 'EQUALS' && op !== 'LIKE' && op !== 'UNLIKE')
      throw new JobInvalid(`'constraints[${i}]': operator '${x[1]}' is not EQUALS, LIKE or UNLIKE`);
    return { attribute: String(x[0]), operator: op, value: String(x[2] ?? '') } as Constraint;
  });
  const mct = num(o, 'maxCompletionTime', 0, 0, 1e12);
  const missed = str(o, 'missedRunPolicy', 'RUN_ONCE').toUpperCase();
  if (missed !== 'RUN_ONCE' && missed !== 'RUN_ALL' && missed !== 'SKIP')
    throw new JobInvalid("'missedRunPolicy' must be RUN_ONCE, RUN_ALL or SKIP");
  const keep: Json = {};
  for (const k of ['successCount', 'errorCount', 'lastSuccess', 'lastError', 'dataProcessingJobType'])
    if (o[k] !== undefined) keep[k] = o[k];
  return {
    name,
    face: 'chronos',
    description: str(o, 'description'),
    owner: str(o, 'owner'),
    ownerName: str(o, 'ownerName'),
    command,
    shell: bool(o, 'shell', true),
    arguments: strings(o, 'arguments'),
    schedules,
    parents,
    retries: num(o, 'retries', 2, 0, 100),
    retryDelayMs: num(o, 'retryDelayMs', 1000, 0, 86_400_000),
    disabled: bool(o, 'disabled', false),
    softError: bool(o, 'softError', false),
    highPriority: bool(o, 'highPriority', false),
    cpus: num(o, 'cpus', 0.1, 0, 1024),
    mem: num(o, 'mem', 128, 0, 1 << 24),
    disk: num(o, 'disk', 256, 0, 1 << 30),
    docker,
    env,
    uris,
    constraints,
    runAsUser: str(o, 'runAsUser') || undefined,
    maxCompletionTimeMs: mct > 0 ? mct : undefined,
    missedRunPolicy: missed as MissedRunPolicy,
    labels: {},
    extra: keep,
  };
}

/** A Metronome JobSpec (POST /v1/jobs); `schedules` from the embedded or separate ScheduleSpecs. */
export function fromMetronome(input: unknown, nowMs: number, schedules: unknown[] = []): Job {
  const o = obj(input, 'a job');
  const id = str(o, 'id');
  if (!id) throw new JobInvalid("'id' is required");
  if (id.length > MAX_JOB_NAME || !METRONOME_ID.test(id))
    throw new JobInvalid(`'id' '${id}' must be lower-case letters, digits and '-', in '.'-separated parts`);
  const run = obj(o.run, "'run'");
  const cmd = str(run, 'cmd');
  const args = strings(run, 'args');
  const dockerIn = run.docker ?? (run.ucr ? (obj(run.ucr, "'run.ucr'").image as unknown) : undefined);
  if (!cmd && args.length === 0 && !dockerIn) throw new JobInvalid("'run' needs 'cmd', 'args' or a 'docker' image");
  let docker: Job['docker'];
  if (dockerIn) {
    const d = obj(dockerIn, "'run.docker'");
    const image = str(d, 'image') || str(d, 'id');
    if (!image) throw new JobInvalid("'run.docker.image' is required");
    docker = {
      image,
      forcePullImage: bool(d, 'forcePullImage', false),
      privileged: bool(d, 'privileged', false),
      parameters: arr(d, 'parameters').map((p, i) => {
        const q = obj(p, `'run.docker.parameters[${i}]'`);
        return { key: str(q, 'key'), value: str(q, 'value') };
      }),
    };
  }
  const secrets = run.secrets === undefined ? {} : obj(run.secrets, "'run.secrets'");
  const envIn = run.env === undefined ? {} : obj(run.env, "'run.env'");
  const env = Object.entries(envIn).map(([name, v]) => {
    if (typeof v === 'string') return { name, value: v };
    const ref = obj(v, `'run.env.${name}'`);
    const s = str(ref, 'secret');
    const source = secrets[s] === undefined ? undefined : str(obj(secrets[s], `'run.secrets.${s}'`), 'source');
    if (!source) throw new JobInvalid(`'run.env.${name}' names secret '${s}', which 'run.secrets' does not define`);
    return { name, secret: source };
  });
  const placement = run.placement === undefined ? {} : obj(run.placement, "'run.placement'");
  const constraints = arr(placement, 'constraints').map((x, i) => {
    const c = obj(x, `'run.placement.constraints[${i}]'`);
    const op = str(c, 'operator').toUpperCase();
    const map: Record<string, Constraint['operator']> = { EQ: 'EQUALS', IS: 'IS', LIKE: 'LIKE', UNLIKE: 'UNLIKE' };
    if (!map[op]) throw new JobInvalid(`'run.placement.constraints[${i}].operator' must be IS, LIKE or UNLIKE`);
    return { attribute: str(c, 'attribute'), operator: map[op], value: str(c, 'value') } as Constraint;
  });
  const restart = run.restart === undefined ? {} : obj(run.restart, "'run.restart'");
  const policy = str(restart, 'policy', 'NEVER');
  if (policy !== 'NEVER' && policy !== 'ON_FAILURE')
    throw new JobInvalid("'run.restart.policy' must be NEVER or ON_FAILURE");
  const deadline = num(restart, 'activeDeadlineSeconds', 0, 0, 1e9);
  const labelsIn = o.labels === undefined ? {} : obj(o.labels, "'labels'");
  const labels = Object.fromEntries(Object.entries(labelsIn).map(([k, v]) => [k, String(v)]));
  const job: Job = {
    name: id,
    face: 'metronome',
    description: str(o, 'description'),
    owner: '',
    ownerName: '',
    command: cmd,
    shell: args.length === 0,
    arguments: args,
    schedules: [],
    parents: [],
    retries: policy === 'ON_FAILURE' ? 1000 : 0,
    retryDelayMs: 1000,
    disabled: false,
    softError: false,
    highPriority: false,
    cpus: num(run, 'cpus', 1, 0, 1024),
    mem: num(run, 'mem', 128, 0, 1 << 24),
    disk: num(run, 'disk', 0, 0, 1 << 30),
    docker,
    env,
    uris: arr(run, 'artifacts').map((x, i) => {
      const a = obj(x, `'run.artifacts[${i}]'`);
      return {
        uri: str(a, 'uri'),
        extract: bool(a, 'extract', true),
        executable: bool(a, 'executable', false),
        cache: bool(a, 'cache', false),
      };
    }),
    constraints,
    runAsUser: str(run, 'user') || undefined,
    maxCompletionTimeMs: deadline > 0 ? deadline * 1000 : undefined,
    missedRunPolicy: 'RUN_ONCE',
    labels,
    taskKillGracePeriodSeconds:
      run.taskKillGracePeriodSeconds === undefined ? undefined : num(run, 'taskKillGracePeriodSeconds', 0),
    extra: {
      maxLaunchDelay: num(run, 'maxLaunchDelay', 3600, 1, 1e9),
      restart: { policy, activeDeadlineSeconds: deadline || undefined },
    },
  };
  const all = [...arr(o, 'schedules'), ...schedules];
  job.schedules = all.map((s) => scheduleFromMetronome(s, nowMs));
  return job;
}

export function scheduleFromMetronome(input: unknown, nowMs: number): JobSchedule {
  const s = obj(input, 'a schedule');
  const id = str(s, 'id');
  if (!id || !/^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/.test(id))
    throw new JobInvalid(`schedule 'id' '${id}' must be lower-case letters, digits and '-'`);
  const cron = str(s, 'cron');
  if (!cron) throw new JobInvalid(`schedule '${id}': 'cron' is required`);
  const tz = str(s, 'timezone', 'UTC') || 'UTC';
  const policy = str(s, 'concurrencyPolicy', 'ALLOW');
  if (policy !== 'ALLOW' && policy !== 'FORBID' && policy !== 'REPLACE')
    throw new JobInvalid(`schedule '${id}': 'concurrencyPolicy' must be ALLOW, FORBID or REPLACE`);
  return {
    id,
    text: cron,
    kind: 'cron',
    tz,
    parsed: sched(id, cron, 'cron', tz, nowMs),
    deadlineMs: num(s, 'startingDeadlineSeconds', 900, 1, 1e9) * 1000,
    concurrency: policy,
    enabled: bool(s, 'enabled', true),
  };
}

function isoDuration(ms: number): string {
  return `PT${Math.round(ms / 1000)}S`;
}

/** The job in Chronos's JSON, with its counters. */
export function toChronos(job: Job, counters: Counters): Json {
  const s = job.schedules[0];
  return {
    name: job.name,
    command: job.command,
    shell: job.shell,
    arguments: job.arguments,
    schedule: s?.text ?? '',
    scheduleTimeZone: s?.tz ?? '',
    parents: job.parents.length > 0 ? job.parents : undefined,
    epsilon: isoDuration(s?.deadlineMs ?? 60_000),
    executor: '',
    executorFlags: '',
    retries: job.retries,
    owner: job.owner,
    ownerName: job.ownerName,
    description: job.description,
    async: false,
    successCount: counters.successCount,
    errorCount: counters.errorCount,
    lastSuccess: counters.lastSuccess ? new Date(counters.lastSuccess).toISOString() : '',
    lastError: counters.lastError ? new Date(counters.lastError).toISOString() : '',
    cpus: job.cpus,
    disk: job.disk,
    mem: job.mem,
    disabled: job.disabled,
    softError: job.softError,
    dataProcessingJobType: false,
    errorsSinceLastSuccess: counters.errorsSinceLastSuccess,
    uris: job.uris.map((u) => u.uri),
    fetch: job.uris.map((u) => ({
      uri: u.uri,
      executable: !!u.executable,
      extract: u.extract !== false,
      cache: !!u.cache,
    })),
    environmentVariables: job.env.filter((e) => e.value !== undefined).map((e) => ({ name: e.name, value: e.value })),
    highPriority: job.highPriority,
    runAsUser: job.runAsUser ?? 'root',
    concurrent: s?.concurrency === 'ALLOW',
    container: job.docker
      ? {
          type: 'DOCKER',
          image: job.docker.image,
          forcePullImage: !!job.docker.forcePullImage,
          network: 'HOST',
          volumes: [],
        }
      : undefined,
    constraints: job.constraints.map((c) => [c.attribute, c.operator, c.value]),
    maxCompletionTime: job.maxCompletionTimeMs ?? 0,
    missedRunPolicy: job.missedRunPolicy,
  };
}

export function scheduleToMetronome(s: JobSchedule): Json {
  return {
    id: s.id,
    cron: s.text,
    timezone: s.tz,
    startingDeadlineSeconds: Math.round(s.deadlineMs / 1000),
    concurrencyPolicy: s.concurrency,
    enabled: s.enabled,
  };
}

/** The job as a Metronome JobSpec (without its schedules; they have their own routes). */
export function toMetronome(job: Job): Json {
  const extra = job.extra as { maxLaunchDelay?: number; restart?: Json };
  return {
    id: job.name,
    description: job.description,
    labels: job.labels,
    run: {
      cmd: job.command || undefined,
      args: job.shell ? undefined : job.arguments,
      cpus: job.cpus,
      mem: job.mem,
      disk: job.disk,
      docker: job.docker ? { image: job.docker.image, forcePullImage: !!job.docker.forcePullImage } : undefined,
      env: Object.fromEntries(job.env.map((e) => [e.name, e.value ?? { secret: e.secret }])),
      placement: {
        constraints: job.constraints.map((c) => ({
          attribute: c.attribute,
          operator: c.operator === 'EQUALS' ? 'IS' : c.operator,
          value: c.value,
        })),
      },
      artifacts: job.uris.map((u) => ({
        uri: u.uri,
        extract: u.extract !== false,
        executable: !!u.executable,
        cache: !!u.cache,
      })),
      maxLaunchDelay: extra.maxLaunchDelay ?? 3600,
      restart: extra.restart ?? { policy: job.retries > 0 ? 'ON_FAILURE' : 'NEVER' },
      user: job.runAsUser,
      taskKillGracePeriodSeconds: job.taskKillGracePeriodSeconds,
    },
  };
}

export interface Counters {
  successCount: number;
  errorCount: number;
  errorsSinceLastSuccess: number;
  lastSuccess?: number;
  lastError?: number;
}

/** The Chronos schedule JSON again, for jobs kept across restarts: schedules are re-parsed from their text. */
export function reviveSchedules(job: Job): Job {
  for (const s of job.schedules) {
    if (s.kind === 'cron') s.parsed = parseCron(s.text, s.tz);
  }
  return job;
}
