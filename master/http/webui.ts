/**
 * Mesos's web UI served by the master itself (`--webui_dir`, as Mesos's flag): `/` is the UI's
 * `index.html`, `/app/*` and `/assets/*` its files. Only regular files inside the directory are
 * served (no listing, no `..`, no link leading out); anything else is 404.
 */
import { createReadStream, realpathSync, statSync } from 'node:fs';
import { extname, resolve, sep } from 'node:path';
import type { FastifyReply } from 'fastify';
import { Type } from 'typebox';
import { type AgoraPlugin, httpErrors } from '../../sdk/http/index.js';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'application/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.map': 'application/json',
  '.png': 'image/png',
  '.gif': 'image/gif',
  '.ico': 'image/x-icon',
  '.svg': 'image/svg+xml',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.ttf': 'font/ttf',
  '.eot': 'application/vnd.ms-fontobject',
};

/** The real path of `rel` inside `root` when it is a regular file there; undefined otherwise. */
export function webuiFile(root: string, rel: string): string | undefined {
  if (rel.includes('\0')) return undefined;
  const abs = resolve(root, rel);
  if (!abs.startsWith(root + sep)) return undefined;
  try {
    const real = realpathSync(abs);
    if (!real.startsWith(root + sep) || !statSync(real).isFile()) return undefined;
    return real;
  } catch {
    return undefined;
  }
}

const Rest = Type.Object({ '*': Type.String({ maxLength: 1024 }) });

export const webuiRoutes: AgoraPlugin<{ webuiDir?: string }> = async (app, opts) => {
  if (!opts.webuiDir) return;
  const root = realpathSync(resolve(opts.webuiDir));
  const serve = (rel: string, reply: FastifyReply) => {
    const file = webuiFile(root, rel);
    if (!file) throw new httpErrors.NotFound(`no such file in the web UI: ${rel.slice(0, 200)}`);
    return reply
      .header('content-type', TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream')
      .header('x-content-type-options', 'nosniff')
      .send(createReadStream(file));
  };
  app.get('/', { config: { action: 'view_webui' } }, async (_req, reply) => serve('index.html', reply));
  for (const dir of ['app', 'assets']) {
    app.get(`/${dir}/*`, { config: { action: 'view_webui' }, schema: { params: Rest } }, async (req, reply) =>
      serve(`${dir}/${req.params['*']}`, reply),
    );
  }
};
