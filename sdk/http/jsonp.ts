/**
 * JSONP on read endpoints, as Mesos serves it (its web UI loads everything this way): a `GET` with
 * `?jsonp=NAME` is answered `NAME(<json>);` as `application/javascript`. The name must be a plain
 * identifier, optionally dotted (`angular.callbacks._0`), at most 128 characters; anything else is
 * refused with 400 `AGORA_HTTP_BAD_JSONP_CALLBACK` before the route runs, so no caller can make
 * the server echo script of its choosing. Only successful JSON answers are wrapped (as Mesos).
 */
import type { FastifyPluginAsync } from 'fastify';
import { BadJsonpCallback } from './errors.js';

export const MAX_JSONP_CALLBACK_LENGTH = 128;
const IDENT = '[A-Za-z_$][A-Za-z0-9_$]*';
const CALLBACK = new RegExp(`^${IDENT}(?:\\.${IDENT})*$`);

/** The callback name of a URL's query: undefined when absent; throws when present and not a plain name. */
export function jsonpCallback(url: string): string | undefined {
  const q = url.indexOf('?');
  if (q < 0) return undefined;
  const params = new URLSearchParams(url.slice(q + 1));
  const all = params.getAll('jsonp');
  if (all.length === 0) return undefined;
  if (all.length > 1) throw new BadJsonpCallback('give one jsonp callback, not several');
  const name = all[0];
  if (name.length > MAX_JSONP_CALLBACK_LENGTH || !CALLBACK.test(name)) {
    throw new BadJsonpCallback(
      `jsonp callback must be a JavaScript identifier (letters, digits, _ and $, dotted), at most ${MAX_JSONP_CALLBACK_LENGTH} characters`,
    );
  }
  return name;
}

/** `NAME(<json>);`: the JSON text needs no escaping beyond U+2028/U+2029, which older engines reject in script. */
export function wrapJsonp(name: string, json: string): string {
  return `${name}(${json.replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029')});`;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** The validated `?jsonp=` callback of a GET, if any. */
    jsonp?: string;
  }
}

const plugin: FastifyPluginAsync = async (app) => {
  app.decorateRequest('jsonp', undefined);
  app.addHook('onRequest', async (req) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return;
    req.jsonp = jsonpCallback(req.url);
  });
  app.addHook('onSend', async (req, reply, payload) => {
    const name = req.jsonp;
    if (!name || reply.statusCode !== 200 || typeof payload !== 'string') return payload;
    const type = String(reply.getHeader('content-type') ?? '');
    if (!type.startsWith('application/json')) return payload;
    void reply.header('content-type', 'application/javascript; charset=utf-8');
    void reply.header('x-content-type-options', 'nosniff');
    return wrapJsonp(name, payload);
  });
};
// Not encapsulated: the hooks apply to every route of the server it is registered on.
(plugin as unknown as Record<symbol, boolean>)[Symbol.for('skip-override')] = true;
/** Register once on a server (before its routes) to serve `?jsonp=` on every GET route. */
export const jsonpSupport = plugin;
