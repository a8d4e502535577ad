/**
 * Authentication at the WebSocket upgrade: the route's action is put to the HTTP layer's
 * `Authorizer` before the socket becomes a WebSocket; a refusal is answered 401/403 with
 * `{code, message}` and the socket closed. What the authorizer proved (the principal) is kept for
 * the route, so the master can bind agent and framework ids to it.
 *
 * An authorizer may answer a plain `Decision` (sdk/http today) or a verdict carrying the principal
 * (`{decision, principal}`), and may authenticate first (`authenticate`, as sdk/auth's does).
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { AgoraError } from '../errors.js';
import {
  type AccessRequest,
  type Authorizer,
  accessRequestOf,
  type Decision,
  httpErrors,
  rawErrorResponse,
} from '../http/index.js';

/** What an authorizer may answer with beyond a bare decision. */
interface VerdictLike {
  decision: Decision;
  principal?: string;
  error?: AgoraError;
}

/** The optional steps an authorizer may have (sdk/auth's implements them). */
interface UpgradeAuthorizer extends Authorizer {
  authenticate?(request: AccessRequest, action: string): VerdictLike;
  readonly challenge?: string;
}

export type Admission = { ok: true; principal?: string } | { ok: false; status: number; code: string };

function verdictOf(raw: Decision | VerdictLike): VerdictLike {
  return typeof raw === 'string' ? { decision: raw } : raw;
}

/** Decides, and on refusal writes the answer and ends the socket. */
export async function admitUpgrade(
  authorizer: Authorizer,
  req: IncomingMessage,
  socket: Duplex,
  action: string,
): Promise<Admission> {
  const a = authorizer as UpgradeAuthorizer;
  const request = accessRequestOf(req);
  let v: VerdictLike = { decision: 'allow' };
  let principal: string | undefined;
  if (a.authenticate) {
    v = a.authenticate(request, action);
    principal = v.principal;
  }
  if (v.decision === 'allow') {
    const authed = principal === undefined ? request : { ...request, authenticated: { principal } };
    v = verdictOf((await a.authorize(authed, action)) as Decision | VerdictLike);
    principal = v.principal ?? principal;
  }
  if (v.decision === 'allow') return { ok: true, principal };
  const err =
    v.error ??
    (v.decision === 'deny'
      ? new httpErrors.Forbidden(`not allowed to '${action}'`)
      : new httpErrors.Unauthenticated(`'${action}' needs credentials`));
  let answer = rawErrorResponse(err);
  if (err.statusCode === 401 && a.challenge) {
    answer = answer.replace('\r\n', `\r\nWWW-Authenticate: ${a.challenge.replace(/[\r\n]/g, '')}\r\n`);
  }
  socket.once('finish', () => socket.destroy());
  socket.end(answer);
  return { ok: false, status: err.statusCode, code: err.code };
}
