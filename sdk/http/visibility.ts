/**
 * For routes that show each caller only what it may see (Mesos's view_frameworks, view_tasks,
 * access_sandboxes): whether the caller of a request may act on one object, per the server's
 * authorizer. Without an authorizer that filters, everything is visible.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';

/** `may(action, object)` for this request's caller; object undefined: the thing names none. */
export function viewer(
  app: FastifyInstance,
  req: FastifyRequest,
): (action: string, object: string | undefined) => boolean {
  const permits = app.authorizer.permits?.bind(app.authorizer);
  if (!permits) return () => true;
  const principal = req.access?.principal;
  return (action, object) => permits(principal, action, object);
}

/** The OS user a task runs as: its command's, else its framework's; undefined when neither says. */
export function taskUser(
  command: { user?: string } | undefined,
  frameworkUser: string | undefined,
): string | undefined {
  return command?.user || frameworkUser || undefined;
}
