/**
 * From a run to a TaskInfo on an offer (a posix command, or a Docker / Mesos-containerizer image),
 * and the job's placement constraints checked against the offer's agent (IS / LIKE / UNLIKE on an
 * attribute or `hostname`). Pure.
 */
import type { EnvironmentVariable, Offer, Resource, TaskInfo } from 'agora/sdk';
import type { Constraint, Job } from '../model/index.js';
import type { Run } from './records.js';

export function checkConstraints(constraints: Constraint[], offer: Offer): boolean {
  for (const c of constraints) {
    const value = c.attribute === 'hostname' ? offer.hostname : offer.attributes[c.attribute];
    switch (c.operator) {
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

/** The TaskInfo of a run's attempt on `offer`, booking `resources` (what the SDK's take() chose there). */
export function taskInfoFor(job: Job, run: Run, offer: Offer, resources: Resource[], defaultUser?: string): TaskInfo {
  const command = run.command ?? job.command;
  const args = run.arguments ?? job.arguments;
  const env: EnvironmentVariable[] = Object.entries(job.env).map(([name, v]) =>
    'secret' in v
      ? {
          name,
          type: 'SECRET' as const,
          secret: {
            type: 'REFERENCE' as const,
            reference: { name: job.secrets[v.secret]?.source ?? v.secret },
          },
        }
      : { name, value: v.value },
  );
  env.push(
    { name: 'CHRONOS_JOB_NAME', value: job.name },
    { name: 'CHRONOS_RUN_ID', value: run.id },
    { name: 'CHRONOS_DUE', value: String(run.due) },
    { name: 'CHRONOS_ATTEMPT', value: String(run.attempt) },
  );
  // As Chronos 3 (through Mesos's CommandInfo): with a shell the command line runs as written and
  // the job's `arguments` are not used; without, `arguments` are the argv after the command.
  const value = command;
  const user = job.user || defaultUser;
  const task: TaskInfo = {
    name: `ChronosTask:${job.name}`.slice(0, 200),
    task_id: run.taskId as string,
    agent_id: offer.agent_id,
    resources,
    command: {
      ...(value ? { value } : {}),
      shell: job.shell,
      ...(job.shell ? {} : { arguments: [command, ...args].filter(Boolean) }),
      environment: { variables: env },
      ...(job.fetch.length > 0
        ? {
            uris: job.fetch.map((u) => ({
              value: u.uri,
              extract: u.extract,
              executable: u.executable,
              cache: u.cache,
              ...(u.outputFile ? { output_file: u.outputFile } : {}),
            })),
          }
        : {}),
      ...(user ? { user } : {}),
    },
    labels: { labels: [{ key: 'chronos.run', value: run.id }] },
  };
  const c = job.container;
  if (c) {
    task.container = {
      type: c.type === 'DOCKER' ? 'DOCKER' : 'MESOS',
      docker: {
        image: c.image,
        network: c.network === 'BRIDGE' ? 'BRIDGE' : 'HOST',
        ...(c.privileged ? { privileged: true } : {}),
        ...(c.forcePullImage ? { force_pull_image: true } : {}),
        ...(c.parameters.length > 0 ? { parameters: c.parameters } : {}),
      },
      // The Mesos containerizer with a Docker image is run by the docker containerizer here too.
      containerizer: 'docker',
    };
  }
  if (job.taskKillGracePeriodSeconds !== null)
    task.kill_policy = { grace_period_seconds: job.taskKillGracePeriodSeconds };
  return task;
}
