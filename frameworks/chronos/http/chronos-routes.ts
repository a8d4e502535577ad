/**
 * Chronos 3's REST API, under `/v1/scheduler/` and the older `/scheduler/` (mesos/chronos
 * docs/docs/api.md): jobs, search, summary, run now, delete, success, kill, stats, graph, leader.
 * Invalid jobs answer 400 with a message naming the field (never a stack); a cycle is refused.
 */
import { Type } from 'typebox';
import type { AgoraPlugin } from '../../../sdk/http/index.js';
import type { Engine } from '../engine/engine.js';
import { isActive, type JobRecord, toRunRecord } from '../engine/records.js';
import { DependencyInvalid, JobNotFound } from '../errors.js';
import {
  type ChronosRoute,
  chronosJobStat,
  chronosStatsList,
  chronosSummary,
  currentState,
  dependencyProblem,
  isoRemaining,
  jobFromChronos,
  jobToChronos,
  lastState,
  nextDue,
  type RunRecord,
  renderCsv,
  renderDot,
  STAT_NAMES,
  type StatName,
} from '../model/index.js';
import { AnyBody, type ChronosHttpOptions, checked, NameParams, ready } from './context.js';

const READ = { action: 'chronos_read' };
const WRITE = { action: 'chronos_write' };
const SearchQuery = Type.Object({
  name: Type.Optional(Type.String({ maxLength: 200 })),
  command: Type.Optional(Type.String({ maxLength: 1000 })),
  any: Type.Optional(Type.String({ maxLength: 1000 })),
  limit: Type.Optional(Type.Integer({ minimum: 0, maximum: 100_000 })),
  offset: Type.Optional(Type.Integer({ minimum: 0, maximum: 10_000_000 })),
});
const RunQuery = Type.Object({ arguments: Type.Optional(Type.String({ maxLength: 10_000 })) });
const StatParams = Type.Object({ stat: Type.Union(STAT_NAMES.map((k) => Type.Literal(k))) });

/** A job as Chronos shows it, its Rn schedule counted down from the runner's progress. */
export function chronosView(rec: JobRecord, now: number): Record<string, unknown> {
  const s = rec.job.schedule;
  if (!s) return jobToChronos(rec.job);
  const next = nextDue(s, rec.state.lastDue, now);
  return jobToChronos(rec.job, {
    nextDue: next,
    remaining: s.kind === 'iso' ? isoRemaining(s, rec.state.lastDue) : null,
  });
}

/** Every record of a job the statistics read: history, then its runs not yet moved there. */
export async function recordsOf(engine: Engine, name: string): Promise<RunRecord[]> {
  const hist = await engine.history(name);
  const active = engine.activeRuns(name);
  return [...hist, ...active].map(toRunRecord);
}

export const chronosRoutes: AgoraPlugin<ChronosHttpOptions & { base: string }> = async (app, opts) => {
  const p = opts.base;
  const now = () => opts.clock.now();

  const post = async (body: unknown, route: ChronosRoute) => {
    const engine = ready(opts);
    const job = checked(jobFromChronos(body, { now: now(), route }));
    const jobs = engine
      .list()
      .map((r) => r.job)
      .filter((j) => j.name !== job.name);
    const problem = dependencyProblem(jobs, job);
    if (problem) throw new DependencyInvalid(problem);
    await engine.upsert(job);
  };

  app.post(`${p}/iso8601`, { config: WRITE, schema: { body: AnyBody } }, async (req, reply) => {
    await post(req.body, 'iso8601');
    return reply.status(204).send();
  });
  app.post(`${p}/dependency`, { config: WRITE, schema: { body: AnyBody } }, async (req, reply) => {
    await post(req.body, 'dependency');
    return reply.status(204).send();
  });

  const must = (engine: Engine, name: string) => {
    const rec = engine.get(name);
    if (!rec) throw new JobNotFound(`job '${name}' does not exist`);
    return rec;
  };

  app.get(`${p}/jobs`, { config: READ }, async () =>
    ready(opts)
      .list()
      .map((r) => chronosView(r, now())),
  );

  app.get(`${p}/jobs/search`, { config: READ, schema: { querystring: SearchQuery } }, async (req) => {
    const q = req.query;
    const has = (hay: string, needle?: string) =>
      needle === undefined || hay.toLowerCase().includes(needle.toLowerCase());
    const found = ready(opts)
      .list()
      .filter((r) => has(r.job.name, q.name) && has(r.job.command, q.command))
      .filter(
        (r) => q.any === undefined || has(`${r.job.name} ${r.job.command} ${r.job.description} ${r.job.owner}`, q.any),
      )
      .sort((a, b) => a.job.name.localeCompare(b.job.name));
    const offset = q.offset ?? 0;
    return found.slice(offset, offset + (q.limit ?? 10)).map((r) => chronosView(r, now()));
  });

  app.get(`${p}/jobs/summary`, { config: READ }, async () => {
    const engine = ready(opts);
    const jobs = [];
    for (const r of engine.list()) {
      const s = r.job.schedule;
      const text = !s ? '' : s.kind === 'cron' ? s.cron : (chronosView(r, now()).schedule as string);
      jobs.push(
        chronosSummary(
          { name: r.job.name, disabled: r.job.disabled, parents: r.job.parents, scheduleText: text },
          await recordsOf(engine, r.job.name),
        ),
      );
    }
    return { jobs };
  });

  app.get(`${p}/job/:name`, { config: READ, schema: { params: NameParams } }, async (req) =>
    chronosView(must(ready(opts), req.params.name), now()),
  );

  app.put(
    `${p}/job/:name`,
    { config: WRITE, schema: { params: NameParams, querystring: RunQuery } },
    async (req, reply) => {
      await ready(opts).runNow(req.params.name, req.query.arguments);
      return reply.status(204).send();
    },
  );

  app.delete(`${p}/job/:name`, { config: WRITE, schema: { params: NameParams } }, async (req, reply) => {
    await ready(opts).remove(req.params.name);
    return reply.status(204).send();
  });

  app.put(`${p}/job/success/:name`, { config: WRITE, schema: { params: NameParams } }, async (req, reply) => {
    await ready(opts).markSuccess(req.params.name);
    return reply.status(204).send();
  });

  app.delete(`${p}/task/kill/:name`, { config: WRITE, schema: { params: NameParams } }, async (req, reply) => {
    await ready(opts).kill(req.params.name);
    return reply.status(204).send();
  });

  app.get(`${p}/job/stat/:name`, { config: READ, schema: { params: NameParams } }, async (req) => {
    const engine = ready(opts);
    must(engine, req.params.name);
    return chronosJobStat(await recordsOf(engine, req.params.name));
  });

  app.get(`${p}/stats/:stat`, { config: READ, schema: { params: StatParams } }, async (req) => {
    const engine = ready(opts);
    const byJob = new Map<string, RunRecord[]>();
    for (const r of engine.list()) byJob.set(r.job.name, await recordsOf(engine, r.job.name));
    return chronosStatsList(byJob, req.params.stat as StatName);
  });

  const graphInputs = async () => {
    const engine = ready(opts);
    const recs = engine.list();
    const records = new Map<string, RunRecord[]>();
    for (const r of recs) records.set(r.job.name, await recordsOf(engine, r.job.name));
    return { jobs: recs.map((r) => r.job), records };
  };
  app.get(`${p}/graph/dot`, { config: READ }, async (_req, reply) =>
    reply.type('text/plain; charset=utf-8').send(renderDot((await graphInputs()).jobs)),
  );
  app.get(`${p}/graph/csv`, { config: READ }, async (_req, reply) => {
    const { jobs, records } = await graphInputs();
    const csv = renderCsv(
      jobs,
      (n) => lastState(records.get(n) ?? []),
      (n) => currentState(records.get(n) ?? []),
    );
    return reply.type('text/plain; charset=utf-8').send(csv);
  });

  app.get(`${p}/leader`, { config: READ }, async () => ({ leader: opts.leader() ?? '' }));

  // Agora: a job's active runs and history, with due, start and end times (Chronos shows them only in its UI).
  app.get(`${p}/job/:name/runs`, { config: READ, schema: { params: NameParams } }, async (req) => {
    const engine = ready(opts);
    must(engine, req.params.name);
    return {
      active: engine.activeRuns(req.params.name).filter(isActive),
      history: await engine.history(req.params.name),
    };
  });
};
