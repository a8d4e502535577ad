/**
 * Chronos 3's job JSON (`POST /scheduler/iso8601`, `POST /scheduler/dependency`, `GET /scheduler/jobs`):
 * its TypeBox schema, its defaults, and the mapping to and from the internal {@link Job}.
 *
 * Chronos quirks kept: numbers may come as numeric strings (its docs post `"cpus": "0.5"`); a 0 or
 * missing `cpus`/`mem`/`disk` means the service default (0.1 / 128 / 256); unknown fields (`async`,
 * 2.x's per-job `epsilon` is honoured, see below) are ignored; `uris` and `fetch` may not both be given.
 * Quirks not kept: an unknown constraint operator or time zone is refused instead of ignored; a job
 * with both `schedule` and `parents` is refused (Chronos's docs forbid it; its code let parents win).
 * Agora extensions (optional): a five-field cron in `schedule`, `missedRunPolicy`, `concurrencyPolicy`.
 */
import { Duration } from 'luxon';
import type { Static } from 'typebox';
import {
  type ChronosContainerSchema,
  type ChronosJobInput,
  ChronosJobSchema,
  UNLIMITED_RETRIES,
} from './chronos-schema.js';
import { formatIso8601, type IsoSchedule } from './iso8601.js';
import type { Checked, Constraint, Container, EnvValue, FetchUri, Job, Problem, Volume } from './job.js';
import { ConcurrencyPolicy, emptyCounters, JOB_DEFAULTS, MissedRunPolicy, RestartPolicy } from './job.js';
import { schemaProblems } from './problems.js';
import { parseSchedule, type Schedule } from './schedule.js';

/**
 * Which Chronos route the job came through: `iso8601` needs a schedule, `dependency` needs parents,
 * `any` accepts either or neither (a manual-only job, as Metronome allows).
 */
export type ChronosRoute = 'iso8601' | 'dependency' | 'any';

export interface ChronosParseOptions {
  /** The time the job is submitted (ms): an empty schedule start means this. */
  now: number;
  route?: ChronosRoute;
  /** The service's `--mesos_task_cpu`/`mem`/`disk` (Chronos's defaults when absent). */
  defaults?: { cpus?: number; mem?: number; disk?: number; epsilonSeconds?: number };
}

function num(v: number | string | undefined): number | undefined {
  if (v === undefined) return undefined;
  return typeof v === 'number' ? v : Number(v.trim());
}

/** Parses `PT30M`-style epsilon into whole seconds (≥ 1). */
export function parseEpsilon(text: string): { ok: true; seconds: number } | { ok: false; reason: string } {
  const d = Duration.fromISO(text);
  if (!d.isValid) return { ok: false, reason: `'${text}' is not an ISO 8601 duration (e.g. PT60S, PT30M)` };
  const ms = d.toMillis();
  if (!(ms >= 1000)) return { ok: false, reason: `epsilon '${text}' is shorter than one second` };
  if (ms > 366 * 86_400_000) return { ok: false, reason: `epsilon '${text}' is longer than a year` };
  return { ok: true, seconds: Math.floor(ms / 1000) };
}

/** Validates a Chronos job body and maps it, with Chronos's defaults, to the internal model. */
export function jobFromChronos(body: unknown, opts: ChronosParseOptions): Checked<Job> {
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    return { ok: false, problems: [{ path: '/', message: 'a job must be a JSON object' }] };
  const schemaIssues = schemaProblems(ChronosJobSchema, body);
  if (schemaIssues.length > 0) return { ok: false, problems: schemaIssues };
  const b = body as ChronosJobInput;
  const problems: Problem[] = [];
  const add = (path: string, message: string) => problems.push({ path, message });
  const route = opts.route ?? 'any';
  const d = opts.defaults ?? {};

  const schedText = b.schedule ?? '';
  const parents = [...new Set(b.parents ?? [])];
  let schedule: Schedule | null = null;
  if (schedText !== '' && parents.length > 0) add('/parents', 'a job has either a schedule or parents, not both');
  if (route === 'iso8601' && schedText === '') add('/schedule', 'is required for a scheduled job');
  if (route === 'dependency' && parents.length === 0) add('/parents', 'a dependent job needs at least one parent');
  // Through 'any' (reading back, or a job Metronome created without schedules) a job may have
  // neither: it runs only when started by hand.
  if (parents.includes(b.name)) add('/parents', 'a job cannot be its own parent');
  if (schedText !== '') {
    const s = parseSchedule(schedText, b.scheduleTimeZone ?? '', opts.now);
    if (s.ok) schedule = s.value;
    else add(b.scheduleTimeZone && s.reason.includes('time zone') ? '/scheduleTimeZone' : '/schedule', s.reason);
  }

  let epsilon = d.epsilonSeconds ?? JOB_DEFAULTS.chronosEpsilonSeconds;
  if (b.epsilon !== undefined && b.epsilon !== '') {
    const e = parseEpsilon(b.epsilon);
    if (e.ok) epsilon = e.seconds;
    else add('/epsilon', e.reason);
  }

  const resources = { cpus: num(b.cpus), mem: num(b.mem), disk: num(b.disk) };
  for (const [k, v] of Object.entries(resources)) {
    if (v !== undefined && (!Number.isFinite(v) || v < 0 || v > 1e9)) add('/' + k, 'must be a number from 0 to 1e9');
  }
  const container = b.container ? chronosContainer(b.container) : null;
  const command = b.command ?? '';
  if (command.trim() === '' && !container && (b.shell ?? true)) add('/command', 'is required (or a container image)');
  if (command.trim() === '' && !container && b.shell === false && (b.arguments ?? []).length === 0)
    add('/command', 'is required (or a container image)');
  if ((b.uris ?? []).length > 0 && (b.fetch ?? []).length > 0)
    add('/fetch', 'give either fetch or the deprecated uris, not both');

  const constraints: Constraint[] = [];
  (b.constraints ?? []).forEach((c, i) => {
    const op = (c[1] ?? '').toUpperCase();
    const operator = op === 'EQUALS' ? 'IS' : op === 'LIKE' || op === 'UNLIKE' ? op : null;
    if (!operator) add(`/constraints/${i}/1`, `unknown operator '${c[1]}' (EQUALS, LIKE, UNLIKE)`);
    else if (c.length !== 3) add(`/constraints/${i}`, 'must be [attribute, operator, value]');
    else if (operator !== 'IS' && !validRegex(c[2])) add(`/constraints/${i}/2`, 'is not a valid regular expression');
    else constraints.push({ attribute: c[0], operator, value: c[2] });
  });

  const env: Record<string, EnvValue> = {};
  for (const v of b.environmentVariables ?? []) env[v.name] = { value: v.value };

  const fetch: FetchUri[] = [
    ...(b.uris ?? []).map((uri) => ({ uri, executable: false, extract: true, cache: false, outputFile: '' })),
    ...(b.fetch ?? []).map((f) => ({
      uri: f.uri,
      executable: f.executable ?? false,
      extract: f.extract ?? true,
      cache: f.cache ?? false,
      outputFile: f.output_file ?? '',
    })),
  ];
  if (problems.length > 0) return { ok: false, problems: problems.slice(0, 20) };

  const retries = b.retries ?? JOB_DEFAULTS.retries;
  const retryLimit = retries >= UNLIMITED_RETRIES ? null : retries;
  const concurrencyPolicy = b.concurrencyPolicy ?? (b.concurrent ? ConcurrencyPolicy.ALLOW : ConcurrencyPolicy.FORBID);
  const pick = (v: number | undefined, dflt: number) => (v === undefined || v === 0 ? dflt : v);
  const job: Job = {
    name: b.name,
    description: b.description ?? '',
    owner: b.owner ?? '',
    ownerName: b.ownerName ?? '',
    labels: {},
    command,
    shell: b.shell ?? true,
    arguments: b.arguments ?? [],
    schedule,
    scheduleId: 'default',
    parents,
    startingDeadlineSeconds: epsilon,
    missedRunPolicy: b.missedRunPolicy ?? MissedRunPolicy.RUN_ONCE,
    concurrencyPolicy,
    disabled: b.disabled ?? false,
    retries: retryLimit,
    restart: { policy: retries > 0 ? RestartPolicy.ON_FAILURE : RestartPolicy.NEVER, activeDeadlineSeconds: null },
    retryDelaySeconds: JOB_DEFAULTS.retryDelaySeconds,
    softError: b.softError ?? false,
    highPriority: b.highPriority ?? false,
    cpus: pick(resources.cpus, d.cpus ?? JOB_DEFAULTS.chronosCpus),
    mem: pick(resources.mem, d.mem ?? JOB_DEFAULTS.chronosMem),
    disk: pick(resources.disk, d.disk ?? JOB_DEFAULTS.chronosDisk),
    gpus: 0,
    container: container?.container ?? null,
    networks: container?.networks ?? [],
    volumes: container?.volumes ?? [],
    env,
    secrets: {},
    fetch,
    constraints,
    user: b.runAsUser ?? '',
    maxCompletionTimeSeconds: b.maxCompletionTime ?? 0,
    maxLaunchDelaySeconds: JOB_DEFAULTS.maxLaunchDelaySeconds,
    taskKillGracePeriodSeconds: null,
    chronosExtras: {
      executor: b.executor ?? '',
      executorFlags: b.executorFlags ?? '',
      taskInfoData: b.taskInfoData ?? '',
      dataProcessingJobType: b.dataProcessingJobType ?? false,
    },
    counters: {
      ...emptyCounters(),
      successCount: b.successCount ?? 0,
      errorCount: b.errorCount ?? 0,
      lastSuccess: b.lastSuccess ?? '',
      lastError: b.lastError ?? '',
      errorsSinceLastSuccess: b.errorsSinceLastSuccess ?? 0,
    },
  };
  return { ok: true, value: job };
}

function validRegex(text: string): boolean {
  try {
    new RegExp(text);
    return true;
  } catch {
    return false;
  }
}

function chronosContainer(c: Static<typeof ChronosContainerSchema>): {
  container: Container;
  volumes: Volume[];
  networks: Job['networks'];
} {
  const force = c.forcePullImage;
  return {
    container: {
      type: (c.type ?? 'DOCKER').toUpperCase() as 'DOCKER' | 'MESOS',
      image: c.image,
      forcePullImage: typeof force === 'string' ? force.toLowerCase() === 'true' : (force ?? false),
      privileged: false,
      network: c.network ?? 'HOST',
      ...(c.networkName !== undefined ? { networkName: c.networkName } : {}),
      parameters: c.parameters ?? [],
    },
    volumes: (c.volumes ?? []).map((v) => ({
      containerPath: v.containerPath,
      ...(v.hostPath !== undefined ? { hostPath: v.hostPath } : {}),
      ...(v.mode !== undefined ? { mode: v.mode.toUpperCase() as 'RO' | 'RW' } : {}),
      ...(v.external
        ? { external: { name: v.external.name, provider: v.external.provider, options: v.external.options ?? [] } }
        : {}),
    })),
    networks: (c.networkInfos ?? []).map((n) => ({
      name: n.name,
      labels: Object.fromEntries((n.labels ?? []).map((l) => [l.key, l.value])),
      ...(n.protocol !== undefined ? { protocol: n.protocol } : {}),
      ...(n.portMappings
        ? {
            portMappings: n.portMappings.map((m) => ({
              hostPort: m.hostPort,
              containerPort: m.containerPort,
              ...(m.protocol !== undefined ? { protocol: m.protocol } : {}),
            })),
          }
        : {}),
    })),
  };
}

/** The schedule without its written gap start (that belongs to the first due time only). */
function withoutLocalStart(s: IsoSchedule): IsoSchedule {
  const { localStart: _written, ...rest } = s;
  return rest;
}

/** What the runner knows about a job's schedule progress, for Chronos's counting-down display. */
export interface ScheduleProgress {
  /** The next due time (ms), null when the schedule has ended. */
  nextDue: number | null;
  /** Runs left for `Rn` (null for ever). */
  remaining: number | null;
}

/** A job as Chronos's `GET /scheduler/jobs` shows it (secret env references are left out). */
export function jobToChronos(job: Job, progress?: ScheduleProgress): Record<string, unknown> {
  const out: Record<string, unknown> = {
    name: job.name,
    command: job.command,
    shell: job.shell,
    epsilon: `PT${job.startingDeadlineSeconds}S`,
    executor: job.chronosExtras.executor,
    executorFlags: job.chronosExtras.executorFlags,
    taskInfoData: job.chronosExtras.taskInfoData,
    retries: job.restart.policy === RestartPolicy.NEVER ? 0 : (job.retries ?? UNLIMITED_RETRIES),
    owner: job.owner,
    ownerName: job.ownerName,
    description: job.description,
    successCount: job.counters.successCount,
    errorCount: job.counters.errorCount,
    lastSuccess: job.counters.lastSuccess,
    lastError: job.counters.lastError,
    cpus: job.cpus,
    disk: job.disk,
    mem: job.mem,
    disabled: job.disabled,
    softError: job.softError,
    dataProcessingJobType: job.chronosExtras.dataProcessingJobType,
    errorsSinceLastSuccess: job.counters.errorsSinceLastSuccess,
    fetch: job.fetch.map((f) => ({
      uri: f.uri,
      executable: f.executable,
      extract: f.extract,
      cache: f.cache,
      ...(f.outputFile ? { output_file: f.outputFile } : {}),
    })),
    uris: [],
    environmentVariables: Object.entries(job.env)
      .filter((e): e is [string, { value: string }] => 'value' in e[1])
      .map(([name, v]) => ({ name, value: v.value })),
    arguments: job.arguments,
    highPriority: job.highPriority,
    runAsUser: job.user,
    concurrent: job.concurrencyPolicy === ConcurrencyPolicy.ALLOW,
    concurrencyPolicy: job.concurrencyPolicy,
    missedRunPolicy: job.missedRunPolicy,
    constraints: job.constraints.map((c) => [c.attribute, c.operator === 'IS' ? 'EQUALS' : c.operator, c.value]),
    maxCompletionTime: job.maxCompletionTimeSeconds,
  };
  if (job.container) {
    out.container = {
      type: job.container.type,
      image: job.container.image,
      network: job.container.network,
      ...(job.container.networkName !== undefined ? { networkName: job.container.networkName } : {}),
      forcePullImage: job.container.forcePullImage,
      parameters: job.container.parameters,
      volumes: job.volumes.map((v) => ({
        containerPath: v.containerPath,
        ...(v.hostPath !== undefined ? { hostPath: v.hostPath } : {}),
        ...(v.mode !== undefined ? { mode: v.mode } : {}),
        ...(v.external ? { external: v.external } : {}),
      })),
      networkInfos: job.networks.map((n) => ({
        name: n.name ?? '',
        ...(n.protocol !== undefined ? { protocol: n.protocol } : {}),
        labels: Object.entries(n.labels).map(([key, value]) => ({ key, value })),
        ...(n.portMappings ? { portMappings: n.portMappings } : {}),
      })),
    };
  }
  if (job.parents.length > 0) out.parents = job.parents;
  else if (job.schedule) {
    const s = job.schedule;
    if (s.kind === 'cron') out.schedule = s.cron;
    else if (progress?.nextDue != null)
      out.schedule = formatIso8601({ ...withoutLocalStart(s), start: progress.nextDue, repeat: progress.remaining });
    else if (progress?.remaining === 0) out.schedule = formatIso8601({ ...s, repeat: 0 });
    else out.schedule = formatIso8601(s);
    out.scheduleTimeZone = s.timeZone;
  }
  return out;
}
