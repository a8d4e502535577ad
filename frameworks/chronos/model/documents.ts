/**
 * Which face a JSON document speaks, and whether it is a job at all: the fixture test uses this, and
 * the service can use it to give a clear 400 for a document posted to the wrong API (a Metronome
 * JobSpec posted to Chronos's `iso8601`, a JSON Schema, a Kubernetes CronJob).
 */
import { jobFromChronos } from './chronos.js';
import type { Checked, Job } from './job.js';
import { jobFromMetronome, type ScheduleFields, scheduleFromMetronome } from './metronome.js';

export type Classified =
  | { kind: 'chronos-job'; result: Checked<Job> }
  | { kind: 'metronome-job'; result: Checked<Job> }
  | { kind: 'metronome-schedule'; result: Checked<ScheduleFields> }
  | { kind: 'list'; items: Classified[] }
  | { kind: 'not-a-job'; reason: string };

/** Most items of a list classified. */
export const MAX_LIST_ITEMS = 1000;

/** Classifies and validates one JSON document; `now` fills an empty Chronos schedule start. */
export function classifyDocument(doc: unknown, now: number): Classified {
  if (Array.isArray(doc)) {
    if (doc.length > MAX_LIST_ITEMS)
      return { kind: 'not-a-job', reason: `a list of more than ${MAX_LIST_ITEMS} items` };
    return { kind: 'list', items: doc.map((d) => classifyDocument(d, now)) };
  }
  if (typeof doc !== 'object' || doc === null) return { kind: 'not-a-job', reason: 'not a JSON object' };
  const o = doc as Record<string, unknown>;
  if ('$schema' in o || ('definitions' in o && 'properties' in o))
    return { kind: 'not-a-job', reason: 'a JSON Schema, not a job' };
  if ('apiVersion' in o && 'kind' in o)
    return { kind: 'not-a-job', reason: `a Kubernetes ${String(o.kind)} object, not a Chronos or Metronome job` };
  if ('jobId' in o && 'status' in o) return { kind: 'not-a-job', reason: 'a Metronome job run, not a job' };
  if ('run' in o || ('id' in o && !('name' in o) && !('cron' in o)))
    return { kind: 'metronome-job', result: jobFromMetronome(doc) };
  if ('cron' in o && 'id' in o && !('name' in o))
    return { kind: 'metronome-schedule', result: scheduleFromMetronome(doc) };
  return { kind: 'chronos-job', result: jobFromChronos(doc, { now }) };
}
