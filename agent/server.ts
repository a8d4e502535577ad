/**
 * The agent's HTTP surface: `/state` (Mesos's agent state shape), `/files/browse` and
 * `/files/read` over task sandboxes, `/monitor/statistics`, `/health`.
 */
import { closeSync, openSync, readdirSync, readSync, realpathSync, statSync } from 'node:fs';
import { join, sep } from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import { Resources, resourcesObject } from '../sdk/resources/resources.js';
import { AGENT_VERSION, type Agent } from './agent.js';

/** Largest slice `/files/read` returns at once (Mesos pages logs the same way). */
export const MAX_READ_LENGTH = 4 * 1024 * 1024;

export class FilesError extends Error {
  constructor(
    message: string,
    readonly statusCode: number,
    readonly code: string,
  ) {
    super(message);
  }
}

/** Resolves `path` inside the agent's sandboxes, refusing anything outside (links included). */
export function resolveSandboxPath(workDir: string, path: string): string {
  const root = join(workDir, 'sandboxes');
  let real: string;
  try {
    real = realpathSync(path.startsWith('/') ? path : join(root, path));
  } catch {
    throw new FilesError(`no such file or directory: ${path}`, 404, 'AGORA_AGENT_FILE_NOT_FOUND');
  }
  const realRoot = realpathSync(root);
  if (real !== realRoot && !real.startsWith(realRoot + sep)) {
    throw new FilesError(`path ${path} is outside the task sandboxes (${root})`, 403, 'AGORA_AGENT_FILE_FORBIDDEN');
  }
  return real;
}

export async function startAgentHttp(agent: Agent, port: number, host = '0.0.0.0'): Promise<FastifyInstance> {
  const http = Fastify({ logger: false, bodyLimit: 64 * 1024 });
  http.setErrorHandler((err, _req, reply) => {
    const e = err as Error & { statusCode?: number; code?: string };
    void reply.status(e.statusCode ?? 500).send({ message: e.message, code: e.code });
  });

  http.get('/health', async () => ({ healthy: true, registered: agent.connected }));

  const state = async () => {
    const frameworks = new Map<string, { id: string; name: string; tasks: unknown[]; completed: unknown[] }>();
    for (const t of agent.tasks.values()) {
      let f = frameworks.get(t.framework.id);
      if (!f) {
        f = { id: t.framework.id, name: t.framework.name, tasks: [], completed: [] };
        frameworks.set(t.framework.id, f);
      }
      const json = {
        id: t.task.task_id,
        name: t.task.name,
        framework_id: t.framework.id,
        state: t.state,
        resources: resourcesObject(Resources.from(t.task.resources)),
        sandbox: t.sandbox,
        containerizer: t.containerizer,
        container: t.handle ? { id: t.handle.id, pid: t.handle.pid } : undefined,
        statuses: t.latest ? [t.latest] : [],
        unacknowledged_updates: t.pending.length,
      };
      (['TASK_FINISHED', 'TASK_FAILED', 'TASK_KILLED', 'TASK_ERROR', 'TASK_LOST'].includes(t.state)
        ? f.completed
        : f.tasks
      ).push(json);
    }
    return {
      id: agent.agentId,
      version: AGENT_VERSION,
      master_hostname: agent.masterInfo?.pid,
      resources: resourcesObject(agent.resources),
      attributes: agent.attributes,
      containerizers: agent.containerizers.map((c) => c.name),
      registered: agent.connected,
      start_time: agent.startedAt / 1000,
      frameworks: [...frameworks.values()].map((f) => ({
        id: f.id,
        name: f.name,
        executors: [{ id: '', tasks: f.tasks, completed_tasks: f.completed }],
      })),
      pending_status_updates: agent.updates.pendingCount(),
    };
  };
  http.get('/state', state);
  http.get('/slave(1)/state', state);

  http.get<{ Querystring: { path?: string } }>('/files/browse', async (req) => {
    if (!req.query.path) throw new FilesError('query parameter "path" is required', 400, 'AGORA_AGENT_BAD_REQUEST');
    const dir = resolveSandboxPath(agent.workDir, req.query.path);
    if (!statSync(dir).isDirectory())
      throw new FilesError(`${req.query.path} is not a directory`, 400, 'AGORA_AGENT_BAD_REQUEST');
    return readdirSync(dir).map((name) => {
      const st = statSync(join(dir, name));
      return {
        path: join(dir, name),
        size: st.size,
        mtime: st.mtimeMs / 1000,
        mode: st.mode.toString(8),
        nlink: st.nlink,
      };
    });
  });

  http.get<{ Querystring: { path?: string; offset?: string; length?: string } }>('/files/read', async (req) => {
    const { path, offset, length } = req.query;
    if (!path) throw new FilesError('query parameter "path" is required', 400, 'AGORA_AGENT_BAD_REQUEST');
    const file = resolveSandboxPath(agent.workDir, path);
    const st = statSync(file);
    if (!st.isFile()) throw new FilesError(`${path} is not a file`, 400, 'AGORA_AGENT_BAD_REQUEST');
    // Mesos: offset -1 (or absent with no length) returns just the size.
    const off = offset === undefined ? -1 : Number(offset);
    const len = length === undefined ? MAX_READ_LENGTH : Number(length);
    if (!Number.isInteger(off) || !Number.isInteger(len) || len < 0) {
      throw new FilesError('offset and length must be integers (length >= 0)', 400, 'AGORA_AGENT_BAD_REQUEST');
    }
    if (off < 0) return { data: '', offset: st.size };
    const n = Math.max(0, Math.min(len, MAX_READ_LENGTH, st.size - off));
    const buf = Buffer.alloc(n);
    const fd = openSync(file, 'r');
    try {
      readSync(fd, buf, 0, n, off);
    } finally {
      closeSync(fd);
    }
    return { data: buf.toString('utf8'), offset: off };
  });

  http.get('/monitor/statistics', async () => {
    const out = [];
    for (const t of agent.tasks.values()) {
      if (!t.handle || !t.containerizerRef || !t.container) continue;
      const statistics = await t.containerizerRef.usage(t.handle).catch(() => undefined);
      out.push({ framework_id: t.framework.id, executor_id: t.task.task_id, source: t.task.name, statistics });
    }
    return out;
  });

  await http.listen({ port, host });
  return http;
}
