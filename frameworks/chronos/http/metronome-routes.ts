/**
 * Metronome's jobs API on the same engine (dcos/metronome api/v1 RAML): `/v1/jobs` CRUD with
 * `embed=activeRuns|schedules|history|historySummary`, `/v1/jobs/{id}/runs` (start, list, get,
 * stop) and `/v1/jobs/{id}/schedules` CRUD. A job made through Chronos's face shows here too.
 */
import { Type } from 'typebox';
import type { AgoraPlugin } from '../../../sdk/http/index.js';
import type { Engine } from '../engine/engine.js';
import type { JobRecord, Run } from '../engine/records.js';
import { DependencyInvalid, JobConflict, JobInvalidError, JobNotFound, RunNotFound } from '../errors.js';
import {
  dependencyProblem,
  type Job,
  jobFromMetronome,
  jobToMetronome,
  metronomeHistory,
  metronomeHistorySummary,
  nextDue,
  type ScheduleFields,
  scheduleFromMetronome,
  scheduleToMetronome,
} from '../model/index.js';
import { recordsOf } from './chronos-routes.js';
import { AnyBody, type ChronosHttpOptions, checked, IdParams, ready } from './context.js';

const READ = { action: 'chronos_read' };
const WRITE = { action: 'chronos_write' };
const EmbedQuery = Type.Object({
  embed: Type.Optional(
    Type.Union([Type.String({ maxLength: 200 }), Type.Array(Type.String({ maxLength: 200 }), { maxItems: 8 })]),
  ),
});
const RunParams = Type.Object({ id: Type.String({ maxLength: 200 }), runId: Type.String({ maxLength: 400 }) });
const SchedParams = Type.Object({ id: Type.String({ maxLength: 200 }), sid: Type.String({ maxLength: 200 }) });
const DeleteQuery = Type.Object({ stopCurrentJobRuns: Type.Optional(Type.Boolean()) });

function embeds(q: { embed?: string | string[] }): Set<string> {
  const list = q.embed === undefined ? [] : Array.isArray(q.embed) ? q.embed : [q.embed];
  return new Set(list.flatMap((e) => e.split(',')).map((e) => e.trim()));
}

const iso = (t?: number) => (t === undefined ? null : new Date(t).toISOString());

export function runJson(r: Run): Record<string, unknown> {
  const status =
    r.state === 'QUEUED'
      ? 'INITIAL'
      : r.state === 'LAUNCHED'
        ? r.started
          ? 'ACTIVE'
          : 'STARTING'
        : r.state === 'SUCCESS'
          ? 'SUCCESS'
          : 'FAILED';
  return {
    id: r.id,
    jobId: r.job,
    status,
    createdAt: iso(r.due),
    completedAt: iso(r.ended),
    tasks: r.taskId
      ? [
          {
            id: r.taskId,
            status: r.taskState ?? (r.state === 'LAUNCHED' ? 'TASK_STAGING' : undefined),
            startedAt: iso(r.started),
            completedAt: iso(r.ended),
          },
        ]
      : [],
    ...(r.reason ? { reason: r.reason } : {}),
  };
}

function schedulesOf(rec: JobRecord, now: number): Record<string, unknown>[] {
  const s = rec.job.schedule;
  const out = scheduleToMetronome(rec.job, s ? nextDue(s, rec.state.lastDue, now) : null);
  return out ? [out] : [];
}

async function jobJson(
  engine: Engine,
  rec: JobRecord,
  embed: Set<string>,
  now: number,
): Promise<Record<string, unknown>> {
  const out = jobToMetronome(rec.job);
  if (embed.has('activeRuns')) out.activeRuns = engine.activeRuns(rec.job.name).map(runJson);
  if (embed.has('schedules')) out.schedules = schedulesOf(rec, now);
  if (embed.has('history')) out.history = metronomeHistory(await recordsOf(engine, rec.job.name));
  if (embed.has('historySummary')) out.historySummary = metronomeHistorySummary(await recordsOf(engine, rec.job.name));
  return out;
}

function withSchedule(job: Job, s: ScheduleFields | null): Job {
  if (!s) return { ...job, schedule: null };
  return {
    ...job,
    schedule: s.schedule,
    scheduleId: s.scheduleId,
    startingDeadlineSeconds: s.startingDeadlineSeconds,
    concurrencyPolicy: s.concurrencyPolicy,
    missedRunPolicy: s.missedRunPolicy,
    disabled: s.disabled,
  };
}

export const metronomeRoutes: AgoraPlugin<ChronosHttpOptions> = async (app, opts) => {
  const now = () => opts.clock.now();
  const must = (engine: Engine, id: string): JobRecord => {
    const rec = engine.get(id);
    if (!rec) throw new JobNotFound(`job '${id}' does not exist`);
    return rec;
  };

  app.get('/v1/jobs', { config: READ, schema: { querystring: EmbedQuery } }, async (req) => {
    const engine = ready(opts);
    const e = embeds(req.query);
    return Promise.all(engine.list().map((r) => jobJson(engine, r, e, now())));
  });

  app.post('/v1/jobs', { config: WRITE, schema: { body: AnyBody } }, async (req, reply) => {
    const engine = ready(opts);
    const job = checked(jobFromMetronome(req.body));
    const problem = dependencyProblem(
      engine.list().map((r) => r.job),
      job,
    );
    if (problem) throw new DependencyInvalid(problem);
    const rec = await engine.upsert(job, { create: true });
    return reply.status(201).send(await jobJson(engine, rec, new Set(), now()));
  });

  app.get('/v1/jobs/:id', { config: READ, schema: { params: IdParams, querystring: EmbedQuery } }, async (req) => {
    const engine = ready(opts);
    return jobJson(engine, must(engine, req.params.id), embeds(req.query), now());
  });

  app.put('/v1/jobs/:id', { config: WRITE, schema: { params: IdParams, body: AnyBody } }, async (req) => {
    const engine = ready(opts);
    const old = must(engine, req.params.id);
    let job: Job = checked(jobFromMetronome(req.body));
    if (job.name !== req.params.id)
      throw new JobInvalidError(`'id' '${job.name}' differs from the path's '${req.params.id}'`);
    // The schedule has its own routes: a JobSpec PUT keeps it.
    const o = old.job;
    job = {
      ...job,
      schedule: o.schedule,
      scheduleId: o.scheduleId,
      startingDeadlineSeconds: o.startingDeadlineSeconds,
    };
    job = { ...job, concurrencyPolicy: o.concurrencyPolicy, missedRunPolicy: o.missedRunPolicy, disabled: o.disabled };
    if (job.parents.length === 0) job.parents = o.parents;
    const rec = await engine.upsert(job, { update: true });
    return jobJson(engine, rec, new Set(), now());
  });

  app.delete('/v1/jobs/:id', { config: WRITE, schema: { params: IdParams, querystring: DeleteQuery } }, async (req) => {
    const engine = ready(opts);
    const rec = must(engine, req.params.id);
    if (engine.activeRuns(req.params.id).length > 0 && !req.query.stopCurrentJobRuns)
      throw new JobConflict(`job '${req.params.id}' has active runs; delete with ?stopCurrentJobRuns=true`);
    const out = jobToMetronome(rec.job);
    await engine.remove(req.params.id);
    return out;
  });

  // ---- runs
  app.get('/v1/jobs/:id/runs', { config: READ, schema: { params: IdParams } }, async (req) => {
    const engine = ready(opts);
    must(engine, req.params.id);
    return engine.activeRuns(req.params.id).map(runJson);
  });

  app.post('/v1/jobs/:id/runs', { config: WRITE, schema: { params: IdParams } }, async (req, reply) => {
    const run = await ready(opts).runNow(req.params.id);
    return reply.status(201).send(runJson(run));
  });

  const findRun = async (engine: Engine, id: string, runId: string): Promise<Run> => {
    must(engine, id);
    const active = engine.activeRuns(id).find((r) => r.id === runId);
    if (active) return active;
    const done = (await engine.history(id)).find((r) => r.id === runId);
    if (!done) throw new RunNotFound(`run '${runId}' of job '${id}' does not exist`);
    return done;
  };

  app.get('/v1/jobs/:id/runs/:runId', { config: READ, schema: { params: RunParams } }, async (req) =>
    runJson(await findRun(ready(opts), req.params.id, req.params.runId)),
  );

  app.post('/v1/jobs/:id/runs/:runId/actions/stop', { config: WRITE, schema: { params: RunParams } }, async (req) => {
    const engine = ready(opts);
    const run = await findRun(engine, req.params.id, req.params.runId);
    await engine.kill(req.params.id, 'stopped by request', run.id);
    return runJson(run);
  });

  // ---- schedules
  app.get('/v1/jobs/:id/schedules', { config: READ, schema: { params: IdParams } }, async (req) =>
    schedulesOf(must(ready(opts), req.params.id), now()),
  );

  app.post(
    '/v1/jobs/:id/schedules',
    { config: WRITE, schema: { params: IdParams, body: AnyBody } },
    async (req, reply) => {
      const engine = ready(opts);
      const rec = must(engine, req.params.id);
      const s = checked(scheduleFromMetronome(req.body));
      // Metronome's answers, in its order: the same id twice, then any second schedule (409 both).
      if (rec.job.schedule && rec.job.scheduleId === s.scheduleId)
        throw new JobConflict(`A schedule with id ${s.scheduleId} already exists`);
      if (rec.job.schedule)
        throw new JobConflict(
          `Only one schedule supported at the moment (job '${req.params.id}' has schedule '${rec.job.scheduleId}'; PUT it, or DELETE it first)`,
        );
      if (rec.job.parents.length > 0)
        throw new JobInvalidError(`job '${req.params.id}' is a dependent job; it has no schedule`);
      const after = await engine.upsert(withSchedule(structuredClone(rec.job), s), { update: true });
      return reply.status(201).send(schedulesOf(after, now())[0]);
    },
  );

  const findSchedule = (rec: JobRecord, sid: string) => {
    if (!rec.job.schedule || rec.job.scheduleId !== sid)
      throw new JobNotFound(`schedule '${sid}' of job '${rec.job.name}' does not exist`);
  };

  app.get('/v1/jobs/:id/schedules/:sid', { config: READ, schema: { params: SchedParams } }, async (req) => {
    const rec = must(ready(opts), req.params.id);
    findSchedule(rec, req.params.sid);
    return schedulesOf(rec, now())[0];
  });

  app.put(
    '/v1/jobs/:id/schedules/:sid',
    { config: WRITE, schema: { params: SchedParams, body: AnyBody } },
    async (req) => {
      const engine = ready(opts);
      const rec = must(engine, req.params.id);
      findSchedule(rec, req.params.sid);
      const s = checked(scheduleFromMetronome(req.body));
      if (s.scheduleId !== req.params.sid)
        throw new JobInvalidError(`schedule 'id' '${s.scheduleId}' differs from the path's '${req.params.sid}'`);
      const after = await engine.upsert(withSchedule(structuredClone(rec.job), s), { update: true });
      return schedulesOf(after, now())[0];
    },
  );

  app.delete('/v1/jobs/:id/schedules/:sid', { config: WRITE, schema: { params: SchedParams } }, async (req) => {
    const engine = ready(opts);
    const rec = must(engine, req.params.id);
    findSchedule(rec, req.params.sid);
    const shown = schedulesOf(rec, now())[0];
    await engine.upsert(withSchedule(structuredClone(rec.job), null), { update: true });
    return shown;
  });
};
