/**
 * Validation of decoded frames against the message schemas (messages.ts), compiled once per
 * message type. Every frame is checked here before it reaches any state; a frame that fails gives
 * a `ProtocolError` whose message names the path that is wrong.
 */

import { Compile, type Validator } from 'typebox/compile';
import type { TLocalizedValidationError } from 'typebox/error';
import { AgoraError, statusOf } from '../errors.js';
import { isValidId } from '../util/id.js';
import { MAX_BATCH, MAX_GROUP_TASKS } from './limits.js';
import { type Direction, type MessageOf, MessageSchemas, type SchedulerCall } from './messages.js';
import { OperationSchema, TaskInfoSchema } from './types.js';

export const ProtocolErrorCode = {
  INVALID_MESSAGE: 'AGORA_PROTOCOL_INVALID_MESSAGE',
  UNKNOWN_TYPE: 'AGORA_PROTOCOL_UNKNOWN_TYPE',
} as const;

/** An operation, or one task of a LAUNCH, that an ACCEPT carried and that is not valid. */
export interface RefusedOperation {
  /** Index of the operation in `accept.operations` as sent. */
  operation: number;
  /** Index of the task in `launch.task_infos`, when one task of a LAUNCH is refused. */
  task?: number;
  /** The refused task's id, when it is a valid id (so that a TASK_ERROR can name it). */
  task_id?: string;
  /** The operation's type as sent (cut to 32 characters). */
  type: string;
  /** What is wrong, with the path. */
  message: string;
}

/** What of an invalid ACCEPT is valid: the call without the refused operations and tasks, and those. */
export interface PartialAccept {
  call: Extract<SchedulerCall, { type: 'ACCEPT' }>;
  refused: RefusedOperation[];
}

/** A value that is not a valid message of its direction (`AGORA_PROTOCOL_INVALID_MESSAGE` / `_UNKNOWN_TYPE`). */
export class ProtocolError extends AgoraError {
  constructor(
    message: string,
    code: string = ProtocolErrorCode.INVALID_MESSAGE,
    /**
     * Set for an ACCEPT whose only faults are in some of its operations or tasks: the rest, valid,
     * so that the master can refuse those with TASK_ERROR (as Mesos does) and carry out the others.
     */
    readonly partial?: PartialAccept,
  ) {
    super(code, message, statusOf(code));
    this.name = 'ProtocolError';
  }
}

type Validators = ReadonlyMap<string, Validator>;

const validators: Record<Direction, Validators> = Object.fromEntries(
  Object.entries(MessageSchemas).map(([direction, byType]) => [
    direction,
    new Map(Object.entries(byType).map(([type, schema]) => [type, Compile(schema)])),
  ]),
) as unknown as Record<Direction, Validators>;

/**
 * Checks that `value` is a well-formed message for `direction` and returns it typed.
 * Throws `ProtocolError` naming the first field that is wrong.
 */
export function validateMessage<D extends Direction>(direction: D, value: unknown): MessageOf<D> {
  const table = Object.hasOwn(validators, direction) ? validators[direction] : undefined;
  if (!table) throw new ProtocolError(`unknown direction ${String(direction).slice(0, 64)}`);
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ProtocolError('message: expected an object with a "type" field');
  }
  const type = (value as { type?: unknown }).type;
  if (typeof type !== 'string') throw new ProtocolError('message.type: expected a string');
  const validator = table.get(type);
  if (!validator) {
    throw new ProtocolError(
      `message.type: unknown type ${JSON.stringify(type).slice(0, 64)} for ${direction} (expected one of ${[...table.keys()].join(', ')})`,
      ProtocolErrorCode.UNKNOWN_TYPE,
    );
  }
  if (!validator.Check(value)) {
    const message = describe(validator.Errors(value));
    const partial =
      type === 'ACCEPT' && direction === 'scheduler_to_master' ? salvageAccept(value, validator) : undefined;
    throw new ProtocolError(message, ProtocolErrorCode.INVALID_MESSAGE, partial);
  }
  return value as MessageOf<D>;
}

const operationValidator = Compile(OperationSchema);
const taskValidator = Compile(TaskInfoSchema);

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * The valid part of an invalid ACCEPT, when everything outside `accept.operations` is valid:
 * invalid operations are refused whole, except a LAUNCH whose only faults are in some of its
 * tasks, where only those tasks are refused. Undefined when the fault lies elsewhere.
 */
function salvageAccept(value: object, accept: Validator): PartialAccept | undefined {
  const body = (value as { accept?: unknown }).accept;
  if (!isPlainObject(body)) return undefined;
  const ops = body.operations;
  if (!Array.isArray(ops) || ops.length > MAX_BATCH) return undefined;
  const kept: unknown[] = [];
  const refused: RefusedOperation[] = [];
  for (let i = 0; i < ops.length; i++) {
    const op = ops[i];
    if (operationValidator.Check(op)) {
      kept.push(op);
      continue;
    }
    const base = `message.accept.operations[${i}]`;
    const type = isPlainObject(op) && typeof op.type === 'string' ? op.type.slice(0, 32) : '?';
    const launch = isPlainObject(op) ? op.launch : undefined;
    const tasks = isPlainObject(launch) ? launch.task_infos : undefined;
    const launchShape =
      type === 'LAUNCH' &&
      Object.keys(op as object).length === 2 &&
      Object.keys(launch as object).length === 1 &&
      Array.isArray(tasks) &&
      tasks.length <= MAX_BATCH;
    if (type === 'LAUNCH_GROUP' && isPlainObject(op)) {
      // A group is all or none: every task with a usable id is refused (TASK_ERROR), with the group's fault.
      const message = describe(operationValidator.Errors(op), base);
      const lg = op.launch_group;
      const tg = isPlainObject(lg) ? lg.task_group : undefined;
      const list = isPlainObject(tg) && Array.isArray(tg.tasks) ? tg.tasks.slice(0, MAX_GROUP_TASKS) : [];
      let named = 0;
      list.forEach((t: unknown, j: number) => {
        const id = isPlainObject(t) ? t.task_id : undefined;
        if (!isValidId(id)) return;
        named++;
        refused.push({ operation: i, task: j, task_id: id, type, message });
      });
      if (named === 0) refused.push({ operation: i, type, message });
      continue;
    }
    if (!launchShape) {
      refused.push({ operation: i, type, message: describe(operationValidator.Errors(op), base) });
      continue;
    }
    const good: unknown[] = [];
    (tasks as unknown[]).forEach((t, j) => {
      if (taskValidator.Check(t)) {
        good.push(t);
        return;
      }
      const id = isPlainObject(t) ? t.task_id : undefined;
      refused.push({
        operation: i,
        task: j,
        ...(isValidId(id) ? { task_id: id } : {}),
        type,
        message: describe(taskValidator.Errors(t), `${base}.launch.task_infos[${j}]`),
      });
    });
    if (good.length > 0) kept.push({ type: 'LAUNCH', launch: { task_infos: good } });
  }
  const call = { ...value, accept: { ...body, operations: kept } };
  if (refused.length === 0 || !accept.Check(call)) return undefined;
  return { call: call as PartialAccept['call'], refused };
}

/**
 * One line for the most specific error: the deepest path wins (in a union, the branch whose tag
 * matched goes deepest), then the first reported.
 */
function describe(errors: TLocalizedValidationError[], base = 'message'): string {
  let best: { path: string; what: string; depth: number } | undefined;
  for (const e of errors) {
    if (e.keyword === 'anyOf' || e.keyword === 'boolean') continue;
    const segments = e.instancePath === '' ? [] : e.instancePath.slice(1).split('/');
    let what = e.message;
    if (e.keyword === 'type') {
      const t = String((e.params as { type?: unknown }).type);
      what = `expected ${/^[aeiou]/.test(t) ? 'an' : 'a'} ${t}`;
    } else if (e.keyword === 'required') {
      const missing = (e.params as { requiredProperties?: string[] }).requiredProperties?.[0];
      if (missing !== undefined) {
        segments.push(missing);
        what = 'is required';
      }
    } else if (e.keyword === 'additionalProperties') {
      const extra = (e.params as { additionalProperties?: string[] }).additionalProperties?.[0];
      if (extra !== undefined) {
        segments.push(extra);
        what = 'is not a known field';
      }
    }
    if (!best || segments.length > best.depth) best = { path: pathOf(segments, base), what, depth: segments.length };
  }
  return best ? `${best.path}: ${best.what}`.slice(0, 1024) : `${base}: invalid`;
}

function pathOf(segments: string[], base: string): string {
  let out = base;
  for (const raw of segments) {
    const s = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (/^\d+$/.test(s)) out += `[${s}]`;
    else if (s.length <= 64 && /^[A-Za-z_][A-Za-z0-9_]*$/.test(s)) out += `.${s}`;
    else out += `[${JSON.stringify(s.slice(0, 64))}${s.length > 64 ? '…' : ''}]`;
  }
  return out;
}
