/**
 * From a run to a TaskInfo on an offer (posix command or Docker), and the job's placement
 * constraints checked against the offer's agent (Chronos EQUALS/LIKE/UNLIKE, Metronome IS/LIKE/UNLIKE
 * on an attribute or `hostname`). Pure.
 */
import type { Offer, TaskInfo } from '../../../sdk/protocol/types.js';
import { Resources } from '../../../sdk/resources/resources.js';
import type { Constraint, Job } from './job.js';
import type { Run } from './records.js';

export function checkConstraints(constraints: Constraint[], offer: Offer): boolean {
  for (const c of constraints) {
    const value = c.attribute === 'hostname' ? offer.hostname : offer.attributes[c.attribute];
    switch (c.operator) {
      case 'EQUALS':
      case 'IS':
        if (value !== c.value) return false;
        break;
      case 'LIKE':
        if (value === undefined || !anchored(c.value).test(value)) return false;
        break;
      case 'UNLIKE':
        if (value !== undefined && anchored(c.value).test(value)) return false;
        break;
    }
  }
  return true;
}

function anchored(pattern: string): RegExp {
  try {
    return new RegExp(`^(?:${pattern})$`);
  } catch {
    return /^\b$/; // an invalid pattern matches nothing
  }
}

/** Quote for /bin/sh. */
function shq(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

export function taskInfoFor(job: Job, run: Run, offer: Offer, defaultUser?: string): TaskInfo {
  const scalars: Record<string, number> = { cpus: job.cpus, mem: job.mem };
  if (job.disk > 0) scalars.disk = job.disk;
  const role = offer.allocation_role;
  const resources = Resources.scalars(
    Object.fromEntries(Object.entries(scalars).filter(([, v]) => v > 0)),
    role === '*' ? undefined : role,
  ).toList();
  const args = run.arguments ?? job.arguments;
  const env = [
    ...job.env.map((e) =>
      e.secret !== undefined
        ? {
            name: e.name,
            type: 'SECRET' as const,
            secret: { type: 'REFERENCE' as const, reference: { name: e.secret } },
          }
        : { name: e.name, value: e.value ?? '' },
    ),
    { name: 'CHRONOS_JOB_NAME', value: job.name },
    { name: 'CHRONOS_RUN_ID', value: run.id },
    { name: 'CHRONOS_DUE', value: String(run.due) },
    { name: 'CHRONOS_ATTEMPT', value: String(run.attempt) },
  ];
  // Chronos with shell=true appends the arguments to the command line; without a shell they are argv.
  const value = job.shell ? [job.command, ...args.map(shq)].filter(Boolean).join(' ') : job.command;
  const task: TaskInfo = {
    name: `ChronosTask:${job.name}`.slice(0, 200),
    task_id: run.taskId as string,
    agent_id: offer.agent_id,
    resources,
    command: {
      value,
      shell: job.shell,
      ...(job.shell ? {} : { arguments: [job.command, ...args] }),
      environment: { variables: env },
      ...(job.uris.length > 0
        ? {
            uris: job.uris.map((u) => ({ value: u.uri, extract: u.extract, executable: u.executable, cache: u.cache })),
          }
        : {}),
      ...((job.runAsUser ?? defaultUser) ? { user: job.runAsUser ?? defaultUser } : {}),
    },
    labels: { labels: [{ key: 'chronos.run', value: run.id }] },
  };
  if (!job.command && job.docker) delete task.command?.value;
  if (job.docker) {
    task.container = {
      type: 'DOCKER',
      docker: {
        image: job.docker.image,
        network: 'HOST',
        ...(job.docker.privileged ? { privileged: true } : {}),
        ...(job.docker.forcePullImage ? { force_pull_image: true } : {}),
        ...(job.docker.parameters?.length ? { parameters: job.docker.parameters } : {}),
      },
      containerizer: 'docker',
    };
  }
  if (job.taskKillGracePeriodSeconds !== undefined)
    task.kill_policy = { grace_period_seconds: job.taskKillGracePeriodSeconds };
  return task;
}
