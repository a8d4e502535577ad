/**
 * The `Authorizer` of sdk/http built from the security flags: authenticates per
 * `--authenticate_http_readonly` (GET, HEAD) and `--authenticate_http_readwrite` (every other
 * method), and WebSocket upgrades per `--authenticate_agents` / `--authenticate_frameworks`;
 * applies `--rate_limits` to writes; authorizes the route's action against the ACLs, on the
 * object of the request where the route has one. `/health` is always open.
 */
import type { AccessRecord, AccessRequest, Authorizer, Verdict } from '../http/auth.js';
import { RateLimited } from '../http/errors.js';
import type { Clock } from '../util/clock.js';
import { type AclAction, type Acls, aclAllows, PERMISSIVE } from './acls.js';
import type { AuditLog } from './audit.js';
import { identify } from './authenticate.js';
import { Credentials } from './credentials.js';
import type { RateLimiter } from './rate-limits.js';

/** Actions of WebSocket upgrades (the transport passes these to `admitUpgrade`). */
export const AGENT_CONNECT = 'agent_connect';
export const SCHEDULER_CONNECT = 'scheduler_connect';

export interface SecurityOptions {
  credentials?: Credentials;
  acls?: Acls;
  authenticateHttpReadonly?: boolean;
  authenticateHttpReadwrite?: boolean;
  authenticateAgents?: boolean;
  authenticateFrameworks?: boolean;
  rateLimiter?: RateLimiter;
  audit?: AuditLog;
  clock: Clock;
  realm?: string;
}

type Objects = (r: AccessRequest) => string[];

/**
 * How each route action is authorized: the ACL action and the objects of the request. Routes that
 * filter what they show (state, roles, quota, files) check each object themselves through
 * `permits`; here they only need authentication.
 */
interface Policy {
  acl?: AclAction;
  objects?: Objects;
  open?: true;
}

const body = (r: AccessRequest) => (r.body ?? {}) as Record<string, unknown>;
const path = (r: AccessRequest) => r.url.split('?')[0];
const secretName = (r: AccessRequest) => `/${String((r.params as Record<string, unknown> | undefined)?.['*'] ?? '')}`;

export const POLICIES: Record<string, Policy> = {
  view_health: { open: true },
  // POST /api/v1 (Mesos's v1 operator API): the route only authenticates; each call is then
  // authorized as the classic request that does the same thing (master/http/operator.ts).
  operator_api: {},
  view_state: {},
  view_leader: {},
  view_roles: {},
  view_quota: {},
  access_sandboxes: {},
  view_metrics: { acl: 'get_endpoints', objects: (r) => [path(r)] },
  view_statistics: { acl: 'get_endpoints', objects: (r) => [path(r)] },
  update_weights: {
    acl: 'update_weights',
    objects: (r) => (Array.isArray(r.body) ? r.body.map((w) => String((w as { role?: unknown }).role)) : []),
  },
  update_quota: {
    acl: 'update_quotas',
    objects: (r) =>
      r.method === 'DELETE' ? [String((r.params as Record<string, unknown>)?.['*'])] : [String(body(r).role)],
  },
  mark_agent_gone: {
    acl: 'mark_agents_gone',
    objects: (r) => {
      const v = (body(r).mark_agent_gone as { agent_id?: { value?: unknown } } | undefined)?.agent_id?.value;
      return typeof v === 'string' ? [v] : [];
    },
  },
  // Secrets: the name is the path after /secrets; PUT picks create_ or update_secrets in the route.
  list_secrets: {},
  put_secrets: {},
  view_secrets: { acl: 'view_secrets', objects: (r) => [secretName(r)] },
  delete_secrets: { acl: 'delete_secrets', objects: (r) => [secretName(r)] },
  [AGENT_CONNECT]: { acl: 'register_agents' },
  [SCHEDULER_CONNECT]: {},
};

const READ_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export class SecurityAuthorizer implements Authorizer {
  readonly challenge: string;
  private readonly credentials: Credentials;
  private readonly acls: Acls;

  constructor(private readonly o: SecurityOptions) {
    this.credentials = o.credentials ?? new Credentials([]);
    this.acls = o.acls ?? PERMISSIVE;
    const realm = (o.realm ?? 'agora').replace(/"/g, '');
    this.challenge = `Basic realm="${realm}", Bearer realm="${realm}"`;
  }

  private mustAuthenticate(request: AccessRequest, action: string): boolean {
    if (action === AGENT_CONNECT) return !!this.o.authenticateAgents;
    if (action === SCHEDULER_CONNECT) return !!this.o.authenticateFrameworks;
    return READ_METHODS.has(request.method) ? !!this.o.authenticateHttpReadonly : !!this.o.authenticateHttpReadwrite;
  }

  authenticate(request: AccessRequest, action: string): Verdict {
    if (POLICIES[action]?.open) return { decision: 'allow' };
    // No credentials configured: nobody can prove anything, so a header is ignored (as Mesos without an authenticator).
    const header = this.credentials.size > 0 ? request.headers.authorization : undefined;
    const id = identify(header, this.credentials, this.o.clock.now());
    if (id.kind === 'invalid') return { decision: 'unauthenticated' };
    const principal = id.kind === 'principal' ? id.principal : undefined;
    if (principal === undefined && this.mustAuthenticate(request, action)) return { decision: 'unauthenticated' };
    const isWrite = !READ_METHODS.has(request.method);
    if (isWrite && this.o.rateLimiter && !this.o.rateLimiter.take(principal)) {
      return {
        decision: 'deny',
        principal,
        error: new RateLimited(
          `${principal ? `principal '${principal}'` : 'anonymous callers'} over the rate limit; retry later`,
        ),
      };
    }
    return { decision: 'allow', principal };
  }

  authorize(request: AccessRequest, action: string): Verdict {
    let principal = request.authenticated?.principal;
    if (!request.authenticated) {
      const a = this.authenticate(request, action);
      if (a.decision !== 'allow') return a;
      principal = a.principal;
    }
    const policy = POLICIES[action];
    if (policy?.open) return { decision: 'allow', principal };
    // An action no policy names: its path under Mesos's get_endpoints for reads; writes only when permissive.
    if (!policy) {
      const ok = READ_METHODS.has(request.method)
        ? aclAllows(this.acls, 'get_endpoints', principal, path(request))
        : this.acls.permissive;
      return { decision: ok ? 'allow' : 'deny', principal, target: path(request) };
    }
    if (!policy.acl) return { decision: 'allow', principal };
    const objects = policy.objects?.(request) ?? [];
    const target = objects.length > 0 ? objects.join(',') : undefined;
    const list = objects.length > 0 ? objects : [undefined];
    const ok = list.every((obj) => aclAllows(this.acls, policy.acl as AclAction, principal, obj));
    return { decision: ok ? 'allow' : 'deny', principal, target };
  }

  permits(principal: string | undefined, action: string, object: string | undefined): boolean {
    return aclAllows(this.acls, action as AclAction, principal, object);
  }

  answered(record: AccessRecord): void {
    this.o.audit?.record(record);
  }
}
