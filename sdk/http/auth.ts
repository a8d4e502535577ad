/**
 * The one place where authentication and authorization plug in. Every route declares the action
 * it performs (`config: { action: 'update_quota' }`); before its handler runs, the server asks the
 * `Authorizer` whether this request may perform that action. WebSocket upgrades ask the same
 * authorizer through `authorizeUpgrade`. Today's default allows everything; the security issue
 * supplies a real one (credentials from headers, ACLs per action and object).
 */
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { AgoraError, ErrorClass } from '../errors.js';
import { Forbidden, Unauthenticated } from './errors.js';
import { rawErrorResponse } from './reply.js';

/** What an authorizer sees of a request (an HTTP route call or a WebSocket upgrade). */
export interface AccessRequest {
  method: string;
  /** The path and query as sent. */
  url: string;
  headers: IncomingHttpHeaders;
  /** The peer's address. */
  ip: string;
  /** Parsed and validated parts, for decisions on an object (e.g. the role of a quota); absent for upgrades. */
  params?: unknown;
  query?: unknown;
  body?: unknown;
}

/** `unauthenticated`: no or bad credentials (401); `deny`: known caller, not allowed (403). */
export type Decision = 'allow' | 'deny' | 'unauthenticated';

export interface Authorizer {
  authorize(request: AccessRequest, action: string): Decision | Promise<Decision>;
}

/** Today's authorizer: everyone may do everything. */
export const allowAll: Authorizer = { authorize: () => 'allow' };

/** The error for a refusal, or undefined when allowed. */
export async function checkAccess(
  authorizer: Authorizer,
  request: AccessRequest,
  action: string,
): Promise<AgoraError | undefined> {
  const d = await authorizer.authorize(request, action);
  if (d === 'allow') return undefined;
  const cls: ErrorClass = d === 'unauthenticated' ? Unauthenticated : Forbidden;
  return new cls(d === 'unauthenticated' ? `'${action}' needs credentials` : `not allowed to '${action}'`);
}

/** The access request of a raw Node request (a WebSocket upgrade). */
export function accessRequestOf(req: IncomingMessage): AccessRequest {
  return {
    method: req.method ?? 'GET',
    url: req.url ?? '/',
    headers: req.headers,
    ip: req.socket.remoteAddress ?? '',
  };
}

/**
 * For the transport's upgrade handler: undefined to proceed, or the refusal to write on the
 * socket (`HTTP/1.1 <statusCode>` with `{code, message}`) before destroying it.
 */
export function authorizeUpgrade(
  authorizer: Authorizer,
  req: IncomingMessage,
  action: string,
): Promise<AgoraError | undefined> {
  return checkAccess(authorizer, accessRequestOf(req), action);
}

/**
 * The whole check for an upgrade handler: true to go on with the upgrade; false after the refusal
 * (401/403 with `{code, message}`) was written and the socket closed.
 */
export async function guardUpgrade(
  authorizer: Authorizer,
  req: IncomingMessage,
  socket: Duplex,
  action: string,
): Promise<boolean> {
  const refused = await authorizeUpgrade(authorizer, req, action);
  if (!refused) return true;
  socket.end(rawErrorResponse(refused));
  return false;
}
