/**
 * The offer helpers' error catalogue (sdk/offers): a TaskInfo that the builders would make but the
 * wire schema refuses. Listed in docs/errors.md; never rename or reuse a code.
 */
import { defineError } from '../errors.js';

/** A task spec that makes no valid TaskInfo (the message names the field). */
export const InvalidTaskSpec = defineError('AGORA_SDK_INVALID_TASK_SPEC', 400, 'InvalidTaskSpecError');
