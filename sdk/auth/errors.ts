/**
 * The security catalogue: bad credentials, ACL and rate-limit files, and an unsafe listen address.
 * docs/errors.md lists every code; never rename or reuse one. Add new entries at the end.
 */
import { defineError } from '../errors.js';

/** A `--credentials` or `--credential` file that cannot be read or parsed, or is over a bound. */
export const BadCredentialsFile = defineError('AGORA_AUTH_BAD_CREDENTIALS_FILE', 400, 'BadCredentialsFileError');
/** An `--acls` value that is not Mesos's ACL JSON, or is over a bound. */
export const BadAcls = defineError('AGORA_AUTH_BAD_ACLS', 400, 'BadAclsError');
/** A `--rate_limits` value that is not Mesos's rate-limits JSON, or is over a bound. */
export const BadRateLimits = defineError('AGORA_AUTH_BAD_RATE_LIMITS', 400, 'BadRateLimitsError');
/** A daemon asked to listen beyond loopback without authentication and without `--insecure`. */
export const InsecureBind = defineError('AGORA_AUTH_INSECURE_BIND', 400, 'InsecureBindError');
/** Flags that contradict each other (authentication asked for with no credentials to check against). */
export const BadSecurityFlags = defineError('AGORA_AUTH_BAD_FLAGS', 400, 'BadSecurityFlagsError');
/** A framework or agent claims a principal other than the one its connection authenticated as. */
export const PrincipalMismatch = defineError('AGORA_AUTH_PRINCIPAL_MISMATCH', 403, 'PrincipalMismatchError');
/** A framework or agent id bound to another principal: no takeover by knowing an id. */
export const IdBoundToOtherPrincipal = defineError('AGORA_AUTH_ID_BOUND', 403, 'IdBoundToOtherPrincipalError');
/** A protocol call (SUBSCRIBE roles, LAUNCH user, TEARDOWN, RESERVE) the ACLs refuse this principal. */
export const NotAuthorized = defineError('AGORA_AUTH_NOT_AUTHORIZED', 403, 'NotAuthorizedError');
/** A connection that must authenticate (--authenticate_frameworks/--authenticate_agents) and did not. */
export const NotAuthenticated = defineError('AGORA_AUTH_NOT_AUTHENTICATED', 401, 'NotAuthenticatedError');
