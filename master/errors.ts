/**
 * The master's error catalogue: one class per failure, each with a stable code (never reused) and
 * the HTTP status it answers with. docs/errors.md lists every code; test/docs/error-codes.test.ts
 * keeps the two in step. Wire errors reach a framework as an ERROR event `{message, code}`.
 *
 * Add new entries at the end of their section; never rename or reuse a code.
 */
import { defineError } from '../sdk/errors.js';

// ---------------------------------------------------------------- the framework protocol
export const NotSubscribed = defineError('AGORA_MASTER_NOT_SUBSCRIBED', 400, 'NotSubscribedError');
export const FrameworkRemoved = defineError('AGORA_MASTER_FRAMEWORK_REMOVED', 403, 'FrameworkRemovedError');
export const FrameworkFailedOver = defineError('AGORA_MASTER_FRAMEWORK_FAILED_OVER', 409, 'FrameworkFailedOverError');
export const InvalidAccept = defineError('AGORA_MASTER_INVALID_ACCEPT', 400, 'InvalidAcceptError');
export const UnknownAgent = defineError('AGORA_MASTER_UNKNOWN_AGENT', 404, 'UnknownAgentError');
export const AlreadySubscribed = defineError('AGORA_MASTER_ALREADY_SUBSCRIBED', 409, 'AlreadySubscribedError');
export const UnknownFramework = defineError('AGORA_MASTER_UNKNOWN_FRAMEWORK', 404, 'UnknownFrameworkError');
export const RoleNotSubscribed = defineError('AGORA_MASTER_ROLE_NOT_SUBSCRIBED', 400, 'RoleNotSubscribedError');
export const InvalidFrameworkRole = defineError(
  'AGORA_MASTER_INVALID_FRAMEWORK_ROLE',
  400,
  'InvalidFrameworkRoleError',
);
export const InvalidFrameworkUpdate = defineError(
  'AGORA_MASTER_INVALID_FRAMEWORK_UPDATE',
  400,
  'InvalidFrameworkUpdateError',
);
/** A framework id a new leader does not know yet while agents that may report it still re-register. */
export const FrameworkRecovering = defineError('AGORA_MASTER_FRAMEWORK_RECOVERING', 503, 'FrameworkRecoveringError');

// ---------------------------------------------------------------- the operator HTTP API
export const InvalidRoleRequest = defineError('AGORA_MASTER_INVALID_ROLE_REQUEST', 400, 'InvalidRoleRequestError');
/** 400 as in Mesos (removing a quota that is not set is a bad request). */
export const UnknownQuota = defineError('AGORA_MASTER_UNKNOWN_QUOTA', 400, 'UnknownQuotaError');
export const InvalidOperatorCall = defineError('AGORA_MASTER_INVALID_OPERATOR_CALL', 400, 'InvalidOperatorCallError');
export const NoLeader = defineError('AGORA_MASTER_NO_LEADER', 503, 'NoLeaderError');
export const Internal = defineError('AGORA_MASTER_INTERNAL', 500, 'InternalError');

// ---------------------------------------------------------------- durable state
export const RegistrarFenced = defineError('AGORA_REGISTRAR_FENCED', 503, 'RegistrarFencedError');
export const UnreadableRecord = defineError('AGORA_REGISTRAR_UNREADABLE_RECORD', 500, 'UnreadableRecordError');

// ---------------------------------------------------------------- connection caps (master/conn-guard.ts)
export const TooManyConnections = defineError('AGORA_MASTER_TOO_MANY_CONNECTIONS', 429, 'TooManyConnectionsError');
export const ConnectionDeadline = defineError('AGORA_MASTER_CONNECTION_DEADLINE', 408, 'ConnectionDeadlineError');
export const RegistrarUnavailable = defineError('AGORA_MASTER_REGISTRAR_UNAVAILABLE', 503, 'RegistrarUnavailableError');
export const RateLimited = defineError('AGORA_MASTER_RATE_LIMITED', 429, 'RateLimitedError');
// ---------------------------------------------------------------- v1 operator API (master/http/operator.ts)
export const TooManySubscribers = defineError('AGORA_MASTER_TOO_MANY_SUBSCRIBERS', 503, 'TooManySubscribersError');
export const ReservationRefused = defineError('AGORA_MASTER_RESERVATION_REFUSED', 409, 'ReservationRefusedError');
export const NoSuchFile = defineError('AGORA_MASTER_NO_SUCH_FILE', 404, 'NoSuchFileError');
