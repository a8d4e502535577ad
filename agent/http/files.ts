/**
 * `GET /files/browse?path=DIR` and `GET /files/read?path=FILE&offset=N&length=M` over the task
 * sandboxes (Mesos's shapes). A path outside the sandboxes is 403 whether it exists or not; a
 * missing path inside is 404; neither answer names the work dir or a raw system error.
 */
import { constants, promises as fs, lstatSync, readdirSync, realpathSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { Type } from 'typebox';
import { type AgoraPlugin, httpErrors, taskUser, viewer } from '../../sdk/http/index.js';
import { BadRequest, FileForbidden, FileNotFound } from '../errors.js';
import type { AgentHttpOptions } from './context.js';
import { hostOwners, lsMode } from './ls.js';
import { resolveSandboxPath } from './sandbox.js';

/** Largest slice `/files/read` returns at once (Mesos pages logs the same way). */
export const MAX_READ_LENGTH = 4 * 1024 * 1024;
/** Most entries `/files/browse` lists for one directory. */
export const MAX_BROWSE_ENTRIES = 10_000;

const PathQuery = Type.String({ minLength: 1, maxLength: 4096, pattern: '^[^\\u0000]*$' });
// Other query parameters (a UI's `jsonp`, cache busters) are ignored.
export const BrowseQuery = Type.Object({ path: PathQuery });
export const ReadQuery = Type.Object({
  path: PathQuery,
  /** -1 (the default): answer only the file's size, as `offset`. */
  offset: Type.Integer({ minimum: -1, maximum: Number.MAX_SAFE_INTEGER, default: -1 }),
  /** Capped at MAX_READ_LENGTH. */
  length: Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER, default: MAX_READ_LENGTH }),
});
const Entry = Type.Object({
  path: Type.String(),
  size: Type.Number(),
  mtime: Type.Number(),
  mode: Type.String(),
  nlink: Type.Number(),
  uid: Type.String(),
  gid: Type.String(),
});
const ReadResponse = Type.Object({ data: Type.String(), offset: Type.Number() });

/** The real path of `path` in the sandboxes, or the 403/404 to answer. */
function sandboxed(workDir: string, path: string): string {
  const r = resolveSandboxPath(workDir, path);
  if (r.kind === 'outside') throw new FileForbidden(`path ${path} is outside the task sandboxes`);
  if (r.kind === 'missing') throw new FileNotFound(`no such file or directory in the task sandboxes: ${path}`);
  return r.real;
}

/**
 * The OS user whose sandbox holds `real` (a resolved path): the task whose sandbox contains it,
 * else a framework whose sandboxes directory contains it; undefined for the sandboxes root.
 */
export function sandboxOwner(agent: AgentHttpOptions['agent'], real: string): string | undefined {
  const inside = (dir: string) => real === dir || real.startsWith(`${dir}/`);
  let frameworkUser: string | undefined;
  for (const t of agent.tasks.values()) {
    const dir = realOrSelf(t.sandbox);
    if (inside(dir)) return taskUser(t.task.command, t.framework.user);
    if (frameworkUser === undefined && inside(dirname(dir))) frameworkUser = t.framework.user || undefined;
  }
  return frameworkUser;
}

function realOrSelf(p: string): string {
  try {
    return realpathSync(p);
  } catch {
    return p;
  }
}

function isGoneError(e: unknown): boolean {
  const code = (e as NodeJS.ErrnoException).code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}

export const filesRoutes: AgoraPlugin<AgentHttpOptions> = async (app, { agent }) => {
  app.get(
    '/files/browse',
    {
      config: { action: 'access_sandboxes' },
      schema: { querystring: BrowseQuery, response: { 200: Type.Array(Entry) } },
    },
    async (req) => {
      const dir = sandboxed(agent.workDir, req.query.path);
      const may = viewer(app, req);
      const allowed = (p: string) => may('access_sandboxes', sandboxOwner(agent, p));
      // The sandboxes root itself lists only what the caller may open (below).
      const root = dir === realOrSelf(join(agent.workDir, 'sandboxes'));
      if (!root && !allowed(dir))
        throw new httpErrors.Forbidden(`not allowed to access_sandboxes on ${req.query.path}`);
      let names: string[];
      try {
        if (!statSync(dir).isDirectory()) throw new BadRequest(`${req.query.path} is not a directory`);
        names = readdirSync(dir).sort().slice(0, MAX_BROWSE_ENTRIES);
      } catch (e) {
        if (isGoneError(e))
          throw new FileNotFound(`no such file or directory in the task sandboxes: ${req.query.path}`);
        throw e;
      }
      // Entries as they are (links not followed: a dangling or outside link is listed, not opened).
      const owners = hostOwners();
      return names.flatMap((name) => {
        // Entries of the root and of framework directories: only those the caller may open.
        if (!allowed(join(dir, name))) return [];
        try {
          const st = lstatSync(join(dir, name));
          return [
            {
              path: join(dir, name),
              size: st.size,
              mtime: Math.floor(st.mtimeMs / 1000),
              mode: lsMode(st.mode),
              nlink: st.nlink,
              uid: owners.user(st.uid),
              gid: owners.group(st.gid),
            },
          ];
        } catch {
          return []; // removed meanwhile
        }
      });
    },
  );

  app.get(
    '/files/read',
    { config: { action: 'access_sandboxes' }, schema: { querystring: ReadQuery, response: { 200: ReadResponse } } },
    async (req) => {
      const { path, offset, length } = req.query;
      const file = sandboxed(agent.workDir, path);
      if (!viewer(app, req)('access_sandboxes', sandboxOwner(agent, file))) {
        throw new httpErrors.Forbidden(`not allowed to access_sandboxes on ${path}`);
      }
      try {
        // Non-blocking, so that opening a FIFO a task left in its sandbox cannot hang a thread.
        const fh = await fs.open(file, constants.O_RDONLY | constants.O_NONBLOCK);
        try {
          const st = await fh.stat();
          if (!st.isFile()) throw new BadRequest(`${path} is not a file`);
          if (offset < 0) return { data: '', offset: st.size };
          const n = Math.max(0, Math.min(length, MAX_READ_LENGTH, st.size - offset));
          const buf = Buffer.alloc(n);
          const { bytesRead } = await fh.read(buf, 0, n, offset);
          return { data: buf.subarray(0, bytesRead).toString('utf8'), offset };
        } finally {
          await fh.close();
        }
      } catch (e) {
        if (isGoneError(e)) throw new FileNotFound(`no such file or directory in the task sandboxes: ${path}`);
        throw e;
      }
    },
  );

  // Mesos's /files/download: the file itself, as an attachment, streamed.
  app.get(
    '/files/download',
    { config: { action: 'access_sandboxes' }, schema: { querystring: BrowseQuery } },
    async (req, reply) => {
      const { path } = req.query;
      const file = sandboxed(agent.workDir, path);
      if (!viewer(app, req)('access_sandboxes', sandboxOwner(agent, file))) {
        throw new httpErrors.Forbidden(`not allowed to access_sandboxes on ${path}`);
      }
      let fh: fs.FileHandle;
      try {
        fh = await fs.open(file, constants.O_RDONLY | constants.O_NONBLOCK);
      } catch (e) {
        if (isGoneError(e)) throw new FileNotFound(`no such file or directory in the task sandboxes: ${path}`);
        throw e;
      }
      const st = await fh.stat();
      if (!st.isFile()) {
        await fh.close();
        throw new BadRequest(`${path} is not a file`);
      }
      const name = basename(file).replace(/[^A-Za-z0-9._-]/g, '_');
      return reply
        .header('content-type', 'application/octet-stream')
        .header('content-disposition', `attachment; filename="${name}"`)
        .header('content-length', String(st.size))
        .send(fh.createReadStream({ start: 0, end: Math.max(0, st.size - 1), autoClose: true }));
    },
  );
};
