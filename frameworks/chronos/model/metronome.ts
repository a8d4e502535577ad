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
import type { CronSchedule } from './cron.js';
import { parseCron } from './cron.js';
import type { Checked, Constraint, Container, EnvValue, Job, Problem } from './job.js';
import { ConcurrencyPolicy, emptyCounters, JOB_DEFAULTS, type MissedRunPolicy, RestartPolicy } from './job.js';
import {
  type MetronomeJobInput,
  MetronomeJobSchema,
  type MetronomeScheduleInput,
  MetronomeScheduleSchema,
} from './metronome-schema.js';
import { schemaProblems } from './problems.js';

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
  if (r.cmd === undefined && !r.docker && !r.ucr)
    add('/run/cmd', 'a job needs cmd, or a docker or ucr image (args alone need a container to run in)');
  if ((r.gpus ?? 0) > 0 && r.docker) add('/run/gpus', 'GPUs are not supported with Docker (use ucr)');
  (r.volumes ?? []).forEach((v, i) => {
    const host = v.hostPath !== undefined && v.mode !== undefined && v.secret === undefined;
    const secret = v.secret !== undefined && v.hostPath === undefined && v.mode === undefined;
    if (!host && !secret)
      add(`/run/volumes/${i}`, 'a volume is either {containerPath, hostPath, mode} or {containerPath, secret}');
    else if (secret && r.docker) add(`/run/volumes/${i}`, 'file-based secrets are only supported by ucr, not docker');
  });
  const referenced = new Set([
    ...Object.values(r.env ?? {}).flatMap((v) => (typeof v === 'string' ? [] : [v.secret])),
    ...(r.volumes ?? []).flatMap((v) => (v.secret !== undefined ? [v.secret] : [])),
  ]);
  const defined = new Set(Object.keys(r.secrets ?? {}));
  const undefinedSecrets = [...referenced].filter((x) => !defined.has(x));
  const unused = [...defined].filter((x) => !referenced.has(x));
  if (undefinedSecrets.length > 0)
    add('/run/secrets', `secrets referenced but not defined: ${undefinedSecrets.slice(0, 10).join(', ')}`);
  if (unused.length > 0) add('/run/secrets', `secrets defined but not referenced: ${unused.slice(0, 10).join(', ')}`);
  for (const msg of networkProblems(r.networks ?? [], !!r.ucr, !!r.docker)) add('/run/networks', msg);
  const nSchedules = (b.schedules ?? []).length;
  if (nSchedules > 1)
    add(
      '/schedules',
      `has size ${nSchedules}, expected 1 or less (only one schedule per job is supported, as in Metronome)`,
    );
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
    env[k] = typeof v === 'string' ? { value: v } : { secret: v.secret };
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

/** Metronome's networking rules (JobRunSpec's networkingValidation and Network's). */
function networkProblems(
  networks: readonly { name?: string; mode: string; labels?: Record<string, string> }[],
  ucr: boolean,
  docker: boolean,
): string[] {
  const out: string[] = [];
  const modes = new Set(networks.map((n) => n.mode));
  if (modes.size > 1) out.push('do not mix host, container and container/bridge networks');
  if (!ucr && !docker && [...modes].some((m) => m !== 'host'))
    out.push('only containers may join container or bridge networks');
  if (docker && modes.size === 1 && modes.has('container') && networks.length > 1)
    out.push('docker does not allow more than one network');
  if ([...modes].some((m) => m !== 'container') && networks.length > 1)
    out.push('only one host or container/bridge network is allowed');
  const names = networks.flatMap((n) => (n.name ? [n.name] : []));
  if (new Set(names).size !== names.length) out.push('network names must be unique');
  for (const n of networks) {
    if (n.mode === 'host' && (n.name || Object.keys(n.labels ?? {}).length > 0))
      out.push('a host network has no name or labels');
    if (n.mode === 'container/bridge' && n.name) out.push('a container/bridge network has no name');
    if (n.mode === 'container' && !n.name) out.push('a container network needs a name');
  }
  return out;
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
    // Metronome knows host volumes (with a mode; Mesos's default is RW) and secret volumes; a Chronos
    // external volume has no Metronome form and is left out of this view (an update keeps it).
    volumes: job.volumes.flatMap((v): Record<string, string>[] =>
      v.secret !== undefined
        ? [{ containerPath: v.containerPath, secret: v.secret }]
        : v.hostPath !== undefined
          ? [{ containerPath: v.containerPath, hostPath: v.hostPath, mode: v.mode ?? 'RW' }]
          : [],
    ),
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
