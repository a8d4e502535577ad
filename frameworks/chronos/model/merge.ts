/**
 * Updating a job through one face must not wipe what only the other face can express. A Chronos
 * `PUT`/re-`POST` of a job created through Metronome keeps its labels, secrets, secret environment
 * references, gpus, privileged flag, launch delay and kill grace; a Metronome `PUT /v1/jobs/{id}`
 * keeps Chronos's owner, counters, softError, highPriority and executor fields, and (like Metronome,
 * whose schedules are their own resource) the schedule when the body has no `schedules`.
 */
import type { EnvValue, Job } from './job.js';

export type Face = 'chronos' | 'metronome';

/** `incoming` (parsed through `face`) with the fields that face cannot express taken from `existing`. */
export function mergeUpdate(existing: Job, incoming: Job, face: Face, opts: { bodyHasSchedules?: boolean } = {}): Job {
  if (face === 'chronos') {
    const secretEnv: Record<string, EnvValue> = {};
    for (const [k, v] of Object.entries(existing.env)) if ('secret' in v && !(k in incoming.env)) secretEnv[k] = v;
    return {
      ...incoming,
      labels: existing.labels,
      secrets: existing.secrets,
      env: { ...incoming.env, ...secretEnv },
      gpus: existing.gpus,
      container:
        incoming.container && existing.container && incoming.container.type === existing.container.type
          ? {
              ...incoming.container,
              privileged: existing.container.privileged,
              ...(existing.container.imageKind ? { imageKind: existing.container.imageKind } : {}),
            }
          : incoming.container,
      maxLaunchDelaySeconds: existing.maxLaunchDelaySeconds,
      taskKillGracePeriodSeconds: existing.taskKillGracePeriodSeconds,
      scheduleId: existing.scheduleId,
      restart: { ...incoming.restart, activeDeadlineSeconds: existing.restart.activeDeadlineSeconds },
      volumes: incoming.volumes.length > 0 || incoming.container ? incoming.volumes : existing.volumes,
    };
  }
  const keepSchedule = opts.bodyHasSchedules === false;
  return {
    ...incoming,
    owner: existing.owner,
    ownerName: existing.ownerName,
    softError: existing.softError,
    highPriority: existing.highPriority,
    chronosExtras: existing.chronosExtras,
    counters: existing.counters,
    retryDelaySeconds: existing.retryDelaySeconds,
    // Chronos's external and container-only volumes have no Metronome form: kept.
    volumes: [
      ...incoming.volumes,
      ...existing.volumes.filter((v) => v.external || (v.hostPath === undefined && v.secret === undefined)),
    ],
    // Chronos's retry count survives as long as the policy still retries.
    retries:
      incoming.restart.policy === 'ON_FAILURE' && existing.retries !== null ? existing.retries : incoming.retries,
    ...(keepSchedule
      ? {
          schedule: existing.schedule,
          scheduleId: existing.scheduleId,
          startingDeadlineSeconds: existing.startingDeadlineSeconds,
          concurrencyPolicy: existing.concurrencyPolicy,
          missedRunPolicy: existing.missedRunPolicy,
          disabled: existing.disabled,
        }
      : {}),
  };
}
