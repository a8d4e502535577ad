/** `/v2/groups`: nested groups with dependencies; PUT with `scaleBy`, with `version` to roll back, `dryRun`. */

import type { AgoraPlugin } from 'agora/sdk';
import { Type } from 'typebox';
import { allApps, findGroup, removeGroup, updateGroup } from '../core/groups.js';
import { absoluteId, type GroupDef, type Json, normaliseGroup, parentOf, SpecError } from '../core/spec.js';
import { AlreadyExists, UnknownId } from '../errors.js';
import { changeAnswer, EmbedValue, flag, type MarathonHttpContext, READ, WRITE } from './context.js';
import { groupJson, parseEmbed } from './views.js';

const Query = Type.Object({
  force: Type.Optional(Type.String({ maxLength: 8 })),
  dryRun: Type.Optional(Type.String({ maxLength: 8 })),
  embed: EmbedValue,
});
const Params = Type.Object({ '*': Type.String({ maxLength: 2000 }) });

function groupId(rest: string | undefined): { id: string; versions: boolean; version?: string } {
  const path = `/${rest ?? ''}`.replace(/\/+$/, '') || '/';
  let m = /^(.*)\/versions\/([^/]+)$/.exec(path);
  if (m) return { id: absoluteId(m[1] || '/'), versions: true, version: decodeURIComponent(m[2]) };
  m = /^(.*)\/versions$/.exec(path);
  if (m) return { id: absoluteId(m[1] || '/'), versions: true };
  return { id: absoluteId(path), versions: false };
}

function scaled(g: GroupDef, by: number): GroupDef {
  return {
    ...g,
    apps: g.apps.map((a) => ({ ...a, instances: Math.ceil(a.instances * by) })),
    groups: g.groups.map((c) => scaled(c, by)),
  };
}

export function groupRoutes(ctx: MarathonHttpContext): AgoraPlugin {
  return async (app) => {
    const get = async (rest: string | undefined, embed: string | string[] | undefined) => {
      const s = ctx.service();
      const { id, versions, version } = groupId(rest);
      if (versions) {
        await s.settled();
        if (version) {
          const root = await s.repo.loadGroupVersion(version);
          const g = root && findGroup(root, id);
          if (!g) throw new UnknownId(`Group '${id}' does not exist in version ${version}`);
          return groupJson(g, s.scheduler, undefined);
        }
        return (await s.repo.groupVersions()).sort().reverse();
      }
      const g = s.findGroup(id);
      if (!g) throw new UnknownId(`Group '${id}' does not exist`);
      const e = parseEmbed(embed, 'group.apps', false);
      return groupJson(g, s.scheduler, e);
    };
    app.get('/v2/groups', { config: { action: READ }, schema: { querystring: Query } }, (req) =>
      get(undefined, req.query.embed),
    );
    app.get('/v2/groups/*', { config: { action: READ }, schema: { params: Params, querystring: Query } }, (req) =>
      get(req.params['*'], req.query.embed),
    );

    const create = async (
      rest: string | undefined,
      body: unknown,
      q: { force?: string; dryRun?: string },
      reply: { status(n: number): unknown },
    ) => {
      const s = ctx.service();
      const base = groupId(rest).id;
      const raw = (body ?? {}) as Json;
      if (typeof raw !== 'object' || Array.isArray(raw))
        throw new SpecError([{ path: '/', errors: ['error.expected.jsobject'] }]);
      const g =
        raw.id === undefined
          ? normaliseGroup({ ...raw, id: base }, parentOf(base), s.nowIso(), s.role)
          : normaliseGroup(raw, base, s.nowIso(), s.role);
      if (g.id !== '/' && s.findGroup(g.id)) throw new AlreadyExists(`A group with id [${g.id}] already exists.`);
      for (const a of allApps(g))
        if (s.findApp(a.id)) throw new AlreadyExists(`An app with id [${a.id}] already exists.`);
      const target = updateGroup(s.root, g.id, () => g, s.nowIso());
      const d = await s.deploy(target, { force: flag(q.force), dryRun: flag(q.dryRun) });
      if (flag(q.dryRun)) return { steps: d.steps };
      reply.status(201);
      return changeAnswer(d);
    };
    app.post(
      '/v2/groups',
      { config: { action: WRITE }, schema: { querystring: Query, body: Type.Unknown() } },
      (req, reply) => create(undefined, req.body, req.query, reply),
    );
    app.post(
      '/v2/groups/*',
      { config: { action: WRITE }, schema: { params: Params, querystring: Query, body: Type.Unknown() } },
      (req, reply) => create(req.params['*'], req.body, req.query, reply),
    );

    const put = async (rest: string | undefined, body: unknown, q: { force?: string; dryRun?: string }) => {
      const s = ctx.service();
      const id = groupId(rest).id;
      const raw = (body ?? {}) as Json;
      if (typeof raw !== 'object' || Array.isArray(raw))
        throw new SpecError([{ path: '/', errors: ['error.expected.jsobject'] }]);
      const now = s.nowIso();
      let next: GroupDef;
      const current = s.findGroup(id);
      if (typeof raw.version === 'string') {
        await s.settled();
        const old = await s.repo.loadGroupVersion(raw.version);
        const g = old && findGroup(old, id);
        if (!g) throw new UnknownId(`Group '${id}' does not exist in version ${raw.version}`);
        next = g;
      } else if (raw.scaleBy !== undefined) {
        if (!current) throw new UnknownId(`Group '${id}' does not exist`);
        const by = Number(raw.scaleBy);
        if (!Number.isFinite(by) || by < 0 || by > 1000)
          throw new SpecError([{ path: '/scaleBy', errors: ['must be a number from 0 to 1000'] }]);
        next = scaled(current, by);
      } else {
        const given = normaliseGroup({ ...raw, id }, parentOf(id), now, s.role);
        next = {
          ...(current ?? given),
          ...(raw.apps !== undefined ? { apps: given.apps } : {}),
          ...(raw.groups !== undefined ? { groups: given.groups } : {}),
          ...(raw.dependencies !== undefined ? { dependencies: given.dependencies } : {}),
        };
      }
      const target = updateGroup(s.root, id, () => next, now);
      const d = await s.deploy(target, { force: flag(q.force), dryRun: flag(q.dryRun) });
      if (flag(q.dryRun)) return { steps: d.steps };
      return changeAnswer(d);
    };
    app.put('/v2/groups', { config: { action: WRITE }, schema: { querystring: Query, body: Type.Unknown() } }, (req) =>
      put(undefined, req.body, req.query),
    );
    app.put(
      '/v2/groups/*',
      { config: { action: WRITE }, schema: { params: Params, querystring: Query, body: Type.Unknown() } },
      (req) => put(req.params['*'], req.body, req.query),
    );
    app.patch(
      '/v2/groups/*',
      { config: { action: WRITE }, schema: { params: Params, querystring: Query, body: Type.Unknown() } },
      (req) => put(req.params['*'], req.body, req.query),
    );

    const del = async (rest: string | undefined, q: { force?: string }) => {
      const s = ctx.service();
      const id = groupId(rest).id;
      if (!s.findGroup(id)) throw new UnknownId(`Group '${id}' does not exist`);
      return changeAnswer(await s.deploy(removeGroup(s.root, id, s.nowIso()), { force: flag(q.force) }));
    };
    app.delete('/v2/groups', { config: { action: WRITE }, schema: { querystring: Query } }, (req) =>
      del(undefined, req.query),
    );
    app.delete('/v2/groups/*', { config: { action: WRITE }, schema: { params: Params, querystring: Query } }, (req) =>
      del(req.params['*'], req.query),
    );
  };
}
