/**
 * The one place where authentication and authorization plug in. Every route declares the action
 * it performs (`config: { action: 'update_quota' }`); before its handler runs, the server asks the
 * `Authorizer` whether this request may perform that action. WebSocket upgrades ask the same
 * authorizer through `guardUpgrade`/`authorizeUpgrade`. The default allows everything; sdk/auth
 * supplies the real one (credentials from headers, Mesos ACLs per action and object).
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
  /** Set when the server already authenticated this request (its `authenticate` step allowed it). */
  authenticated?: { principal?: string };
}

/** `unauthenticated`: no or bad credentials (401); `deny`: known caller, not allowed (403). */
export type Decision = 'allow' | 'deny' | 'unauthenticated';

/** A decision with what was learnt on the way. */
export interface Verdict {
  decision: Decision;
  /** The principal the caller proved; absent when anonymous. */
  principal?: string;
  /** What the decision was about (a role, an agent id), for the audit log. */
  target?: string;
  /** A refusal with its own code (e.g. 429 when over a rate limit) instead of the plain 401/403. */
  error?: AgoraError;
}

/** One answered request, as the audit log records it. */
export interface AccessRecord {
  principal?: string;
  action: string;
  method: string;
  /** The path, without the query. */
  path: string;
  target?: string;
  decision: Decision;
  status: number;
  ip: string;
}

export interface Authorizer {
  /**
   * Optional first step, before the body is read: who the caller is, and whether it may go on at
   * all (401, 429). `authorize` then gets the request with `authenticated` set.
   */
  authenticate?(request: AccessRequest, action: string): Verdict;
  authorize(request: AccessRequest, action: string): Decision | Verdict | Promise<Decision | Verdict>;
  /**
   * Whether `principal` (undefined: anonymous) may perform `action` on one object, for routes that
   * show each caller only what it may see. Absent: everything.
   */
  permits?(principal: string | undefined, action: string, object: string | undefined): boolean;
  /** Told of every answered route call (the audit log). */
  answered?(record: AccessRecord): void;
  /** The `WWW-Authenticate` value sent with a 401. */
  readonly challenge?: string;
}

/** Today's authorizer: everyone may do everything. */
export const allowAll: Authorizer = { authorize: () => 'allow' };

export interface AccessOutcome {
  decision: Decision;
  principal?: string;
  target?: string;
  /** The refusal to answer with; undefined when allowed. */
  error?: AgoraError;
}

/** The authorizer's decision with the refusal to answer when not allowed. */
export async function decideAccess(
  authorizer: Authorizer,
  request: AccessRequest,
  action: string,
): Promise<AccessOutcome> {
  let req = request;
  if (authorizer.authenticate && !request.authenticated) {
    const a = authorizer.authenticate(request, action);
    if (a.decision !== 'allow') return refusal(a, action);
    req = { ...request, authenticated: { principal: a.principal } };
  }
  const raw = await authorizer.authorize(req, action);
  const v: Verdict = typeof raw === 'string' ? { decision: raw } : raw;
  return refusal({ ...v, principal: v.principal ?? req.authenticated?.principal }, action);
}

function refusal(v: Verdict, action: string): AccessOutcome {
  if (v.decision === 'allow') return { decision: 'allow', principal: v.principal, target: v.target };
  const cls: ErrorClass = v.decision === 'unauthenticated' ? Unauthenticated : Forbidden;
  const error =
    v.error ??
    new cls(v.decision === 'unauthenticated' ? `'${action}' needs credentials` : `not allowed to '${action}'`);
  return { decision: v.decision, principal: v.principal, target: v.target, error };
}

/** The error for a refusal, or undefined when allowed. */
export async function checkAccess(
  authorizer: Authorizer,
  request: AccessRequest,
  action: string,
): Promise<AgoraError | undefined> {
  return (await decideAccess(authorizer, request, action)).error;
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
 * The whole check for an upgrade handler, keeping who the caller is: `{ok: true, principal}` to go
 * on (principal absent for an anonymous caller), or `{ok: false}` after the refusal (401 with
 * `WWW-Authenticate`, 403, 429, with `{code, message}`) was written and the socket closed.
 */
export async function admitUpgrade(
  authorizer: Authorizer,
  req: IncomingMessage,
  socket: Duplex,
  action: string,
): Promise<{ ok: true; principal?: string } | { ok: false }> {
  const request = accessRequestOf(req);
  const out = await decideAccess(authorizer, request, action);
  authorizer.answered?.({
    principal: out.principal,
    action,
    method: request.method,
    path: request.url.split('?')[0],
    target: out.target,
    decision: out.decision,
    status: out.error ? out.error.statusCode : 101,
    ip: request.ip,
  });
  if (!out.error) return { ok: true, principal: out.principal };
  const extra: Record<string, string> =
    out.error.statusCode === 401 && authorizer.challenge ? { 'WWW-Authenticate': authorizer.challenge } : {};
  socket.end(rawErrorResponse(out.error, extra));
  return { ok: false };
}

/** As `admitUpgrade`, answering only whether to go on. */
export async function guardUpgrade(
  authorizer: Authorizer,
  req: IncomingMessage,
  socket: Duplex,
  action: string,
): Promise<boolean> {
  return (await admitUpgrade(authorizer, req, socket, action)).ok;
}
