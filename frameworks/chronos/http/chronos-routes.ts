/**
 * Chronos 3's REST API, under `/v1/scheduler/` and the older `/scheduler/` (mesos/chronos
 * docs/docs/api.md): jobs, search, summary, run now, delete, success, kill, stats, graph, leader.
 * Invalid jobs answer 400 with a message naming the field (never a stack); a cycle is refused.
 */
import { Type } from 'typebox';
import type { AgoraPlugin } from '../../../sdk/http/index.js';
import { fromChronos, type Job, toChronos } from '../engine/job.js';
import { isActive } from '../engine/records.js';
import {
  cycleThrough,
  durations,
  graphCsv,
  graphDot,
  jobStat,
  lastStatus,
  runningStatus,
  STAT_NAMES,
  type StatName,
  statOf,
} from '../engine/stats.js';
import { DependencyInvalid, JobNotFound } from '../errors.js';
import { AnyBody, type ChronosHttpOptions, invalid, NameParams, ready } from './context.js';

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
const StatParams = Type.Object({
  stat: Type.Union(Object.keys(STAT_NAMES).map((k) => Type.Literal(k))),
});

export const chronosRoutes: AgoraPlugin<ChronosHttpOptions & { base: string }> = async (app, opts) => {
  const p = opts.base;
  const now = () => opts.clock.now();

  const post = async (body: unknown, kind: 'iso8601' | 'dependency') => {
    const engine = ready(opts);
    const job: Job = invalid(() => fromChronos(body, kind, now()));
    const jobs = new Map(engine.list().map((r) => [r.job.name, r.job]));
    for (const parent of job.parents) {
      if (!jobs.has(parent)) throw new DependencyInvalid(`parent job '${parent}' of '${job.name}' does not exist`);
    }
    const cycle = cycleThrough(job.name, job.parents, jobs);
    if (cycle) throw new DependencyInvalid(`parents would form a cycle: ${cycle.join(' -> ')}`);
    const existing = engine.get(job.name)?.job;
    if (existing && existing.face === 'metronome') job.face = 'metronome';
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

  const view = (name: string) => {
    const rec = ready(opts).get(name);
    if (!rec) throw new JobNotFound(`job '${name}' does not exist`);
    return toChronos(rec.job, rec.state.counters);
  };

  app.get(`${p}/jobs`, { config: READ }, async () =>
    ready(opts)
      .list()
      .map((r) => toChronos(r.job, r.state.counters)),
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
    return found.slice(offset, offset + (q.limit ?? 10)).map((r) => toChronos(r.job, r.state.counters));
  });

  app.get(`${p}/jobs/summary`, { config: READ }, async () => ({
    jobs: ready(opts)
      .list()
      .map((r) => ({
        name: r.job.name,
        status: lastStatus(r),
        state: runningStatus(r),
        schedule: r.job.schedules[0]?.text ?? '',
        parents: r.job.parents,
        disabled: r.job.disabled,
      })),
  }));

  app.get(`${p}/job/:name`, { config: READ, schema: { params: NameParams } }, async (req) => view(req.params.name));

  app.put(
    `${p}/job/:name`,
    { config: WRITE, schema: { params: NameParams, querystring: RunQuery } },
    async (req, reply) => {
      const args =
        req.query.arguments === undefined ? undefined : req.query.arguments.split(',').filter((a) => a !== '');
      await ready(opts).runNow(req.params.name, args);
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
    if (!engine.get(req.params.name)) throw new JobNotFound(`job '${req.params.name}' does not exist`);
    return jobStat(await engine.history(req.params.name));
  });

  app.get(`${p}/stats/:stat`, { config: READ, schema: { params: StatParams } }, async (req) => {
    const engine = ready(opts);
    const out: { jobNameLabel: string; time: number }[] = [];
    for (const r of engine.list()) {
      const d = durations(await engine.history(r.job.name));
      if (d.length > 0) out.push({ jobNameLabel: r.job.name, time: statOf(d, req.params.stat as StatName) });
    }
    return out.sort((a, b) => b.time - a.time);
  });

  app.get(`${p}/graph/dot`, { config: READ }, async (_req, reply) =>
    reply.type('text/plain; charset=utf-8').send(graphDot(ready(opts).list())),
  );
  app.get(`${p}/graph/csv`, { config: READ }, async (_req, reply) =>
    reply.type('text/plain; charset=utf-8').send(graphCsv(ready(opts).list())),
  );

  app.get(`${p}/leader`, { config: READ }, async () => ({ leader: opts.leader() ?? '' }));

  // Agora: a job's active runs and history (Chronos shows them only in its UI).
  app.get(`${p}/job/:name/runs`, { config: READ, schema: { params: NameParams } }, async (req) => {
    const engine = ready(opts);
    if (!engine.get(req.params.name)) throw new JobNotFound(`job '${req.params.name}' does not exist`);
    const hist = await engine.history(req.params.name);
    return { active: engine.activeRuns(req.params.name).filter(isActive), history: hist };
  });
};
