/**
 * The Chronos service's error catalogue (stable codes, never reused; docs/errors.md lists each).
 * Chronos-compatible routes answer 400 with a plain message as Chronos did, plus this code.
 */
import { defineError } from '../../sdk/errors.js';

/** A job (Chronos JSON or Metronome JobSpec/ScheduleSpec) that is not valid; the message names the field. */
export const JobInvalidError = defineError('AGORA_CHRONOS_JOB_INVALID', 400, 'JobInvalidError');
export const JobNotFound = defineError('AGORA_CHRONOS_JOB_NOT_FOUND', 404, 'JobNotFoundError');
/** Metronome: creating a job (or schedule) whose id exists. */
export const JobConflict = defineError('AGORA_CHRONOS_JOB_CONFLICT', 409, 'JobConflictError');
/** A dependent job whose parents would form a cycle, or that names a parent that does not exist. */
export const DependencyInvalid = defineError('AGORA_CHRONOS_DEPENDENCY_INVALID', 400, 'DependencyInvalidError');
export const RunNotFound = defineError('AGORA_CHRONOS_RUN_NOT_FOUND', 404, 'RunNotFoundError');
/** No leader is known to forward the request to (an election is under way). */
export const NoLeader = defineError('AGORA_CHRONOS_NO_LEADER', 503, 'NoLeaderError');
/** This instance is the leader but has not finished loading its state yet. */
export const NotReady = defineError('AGORA_CHRONOS_NOT_READY', 503, 'NotReadyError');
export const Internal = defineError('AGORA_CHRONOS_INTERNAL', 500, 'ChronosInternalError');
