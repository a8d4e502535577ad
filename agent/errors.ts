/**
 * The agent's error catalogue: one class per failure, each with a stable code (never reused) and
 * the HTTP status it answers with. docs/errors.md lists every code; test/docs/error-codes.test.ts
 * keeps the two in step. Launch failures reach the framework as TASK_FAILED with a Mesos reason.
 *
 * Add new entries at the end of their section; never rename or reuse a code.
 */
import { defineError } from '../sdk/errors.js';

// ---------------------------------------------------------------- the agent HTTP API
export const BadRequest = defineError('AGORA_AGENT_BAD_REQUEST', 400, 'BadRequestError');
export const FileNotFound = defineError('AGORA_AGENT_FILE_NOT_FOUND', 404, 'FileNotFoundError');
export const FileForbidden = defineError('AGORA_AGENT_FILE_FORBIDDEN', 403, 'FileForbiddenError');

// ---------------------------------------------------------------- running tasks
export const ContainerizerUnavailable = defineError(
  'AGORA_AGENT_CONTAINERIZER_UNAVAILABLE',
  500,
  'ContainerizerUnavailableError',
);
export const ContainerLaunchFailed = defineError('AGORA_CONTAINER_LAUNCH_FAILED', 500, 'ContainerLaunchError');
export const FetchFailed = defineError('AGORA_FETCH_FAILED', 500, 'FetchError');
/** A framework or task id that is not safe as one directory name (the task gets TASK_ERROR). */
export const InvalidId = defineError('AGORA_AGENT_INVALID_ID', 400, 'InvalidIdError');
/**
 * A task's user (`command.user`, else the framework's `user`) that this agent cannot run it as:
 * not a valid name, or not in /etc/passwd (the task gets TASK_FAILED).
 */
export const UnknownUser = defineError('AGORA_AGENT_UNKNOWN_USER', 400, 'UnknownUserError');
