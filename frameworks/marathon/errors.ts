/**
 * Marathon's error catalogue. Marathon-compatible routes answer in Marathon's shape
 * (`{message, details?}`, see http/reply.ts), with the stable `code` beside it.
 * docs/errors.md lists every code; never rename or reuse one. Add new entries at the end.
 */
import { defineError } from 'agora/sdk';

/** A body that is not JSON (Marathon: 400 `Invalid JSON`). */
export const InvalidJson = defineError('AGORA_MARATHON_INVALID_JSON', 400, 'InvalidJsonError');
/** An app, group or pod definition that breaks Marathon's rules (422 `Object is not valid`, with details). */
export const InvalidObject = defineError('AGORA_MARATHON_INVALID_OBJECT', 422, 'InvalidObjectError');
/** No app, group, pod, task, deployment or version with that id. */
export const UnknownId = defineError('AGORA_MARATHON_UNKNOWN_ID', 404, 'UnknownIdError');
/** The app or group is being changed by a running deployment; `?force=true` overrides. */
export const Locked = defineError('AGORA_MARATHON_LOCKED', 409, 'LockedError');
/** An app or group with that id exists already (POST). */
export const AlreadyExists = defineError('AGORA_MARATHON_ALREADY_EXISTS', 409, 'AlreadyExistsError');
/** This instance is not the leader and no leader is known to proxy to. */
export const NoLeader = defineError('AGORA_MARATHON_NO_LEADER', 503, 'NoLeaderError');
/** A request that is well-formed JSON but makes no sense here (bad query value, ...). */
export const BadRequest = defineError('AGORA_MARATHON_BAD_REQUEST', 400, 'BadRequestError');
/** An unexpected failure; the details are in the log. */
export const Internal = defineError('AGORA_MARATHON_INTERNAL', 500, 'InternalError');
