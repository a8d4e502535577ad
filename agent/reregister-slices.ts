/**
 * Cuts a re-registration into frames that each fit the wire limits: a REREGISTER with the first
 * slice of tasks (and the frameworks they need), then REREGISTER_TASKS frames, every frame but the
 * last with `more: true`. A single frame carries no `more` field. Pure.
 */
import { DEFAULT_MAX_FRAME_BYTES, encode, MAX_CONTAINERS, MAX_ELEMENTS } from '../sdk/codec/index.js';
import { MAX_FRAMEWORKS, MAX_LARGE_BATCH } from '../sdk/protocol/limits.js';
import type { AgentMessage } from '../sdk/protocol/messages.js';
import type { FrameworkInfo, TaskRecord } from '../sdk/protocol/types.js';

type Reregister = Extract<AgentMessage, { type: 'REREGISTER' }>;
type Slice = { tasks: TaskRecord[]; frameworks: FrameworkInfo[]; bytes: number };

/** Room kept in every frame for the message's own fields and array headers. */
const SLACK_BYTES = 1_024;

/**
 * Frame size aimed at. Every MessagePack value takes at least one byte, so a frame of at most
 * MAX_CONTAINERS bytes also stays within the decoder's element and container counts.
 */
export function reregisterFrameBudget(maxFrameBytes = DEFAULT_MAX_FRAME_BYTES): number {
  return Math.min(maxFrameBytes, MAX_CONTAINERS, MAX_ELEMENTS) - SLACK_BYTES;
}

function sizeOf(tasks: TaskRecord[], frameworks: FrameworkInfo[]): number {
  return encode({ type: 'REREGISTER_TASKS', tasks, frameworks, more: true }).byteLength;
}

export function sliceReregister(
  head: Pick<Reregister, 'agent' | 'version'>,
  tasks: TaskRecord[],
  frameworks: FrameworkInfo[],
  maxFrameBytes = DEFAULT_MAX_FRAME_BYTES,
): AgentMessage[] {
  const empty = sizeOf([], []);
  const budget =
    reregisterFrameBudget(maxFrameBytes) -
    encode({ ...head, type: 'REREGISTER', tasks: [], frameworks: [] }).byteLength;
  const byId = new Map(frameworks.map((f) => [f.id, f]));
  const sent = new Set<string | undefined>();
  const slices: Slice[] = [];
  let cur: Slice = { tasks: [], frameworks: [], bytes: 0 };
  const fits = (bytes: number, t: number, f: number): boolean =>
    (cur.tasks.length === 0 && cur.frameworks.length === 0) ||
    (cur.bytes + bytes <= budget &&
      cur.tasks.length + t <= MAX_LARGE_BATCH &&
      cur.frameworks.length + f <= MAX_FRAMEWORKS);
  const place = (t: TaskRecord[], f: FrameworkInfo[]): void => {
    const bytes = sizeOf(t, f) - empty;
    if (!fits(bytes, t.length, f.length)) {
      slices.push(cur);
      cur = { tasks: [], frameworks: [], bytes: 0 };
    }
    cur.tasks.push(...t);
    cur.frameworks.push(...f);
    cur.bytes += bytes;
  };
  for (const rec of tasks) {
    // The framework goes in the slice of the first task that needs it (sent once in all).
    const fw = sent.has(rec.framework_id) ? undefined : byId.get(rec.framework_id);
    place([rec], fw ? [fw] : []);
    if (fw) sent.add(fw.id);
  }
  for (const f of frameworks) if (!sent.has(f.id)) place([], [f]);
  slices.push(cur);
  return slices.map((sl, i) => {
    const more = slices.length > 1 ? i < slices.length - 1 : undefined;
    if (i === 0) {
      const first: Reregister = { ...head, type: 'REREGISTER', tasks: sl.tasks, frameworks: sl.frameworks };
      return more === undefined ? first : { ...first, more };
    }
    return { type: 'REREGISTER_TASKS', tasks: sl.tasks, frameworks: sl.frameworks, more: more ?? false };
  });
}
