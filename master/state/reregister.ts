/**
 * A re-registration in parts: REREGISTER with `more: true`, then REREGISTER_TASKS frames on the same
 * connection until one has `more: false`. The parts are held here per connection and handed to
 * `onReregister` as one message when the last arrives. Bounded in tasks, frameworks and time.
 */
import type { AgentMessage } from '../../sdk/protocol/messages.js';
import { onReregister } from './agents.js';
import type { Core } from './core.js';
import type { Effects } from './effects.js';

type Reregister = Extract<AgentMessage, { type: 'REREGISTER' }>;
type Continuation = Extract<AgentMessage, { type: 'REREGISTER_TASKS' }>;

/** Tasks of one re-registration, over all its parts. */
export const MAX_REREGISTER_TASKS = 1_000_000;
/** Frameworks of one re-registration, over all its parts. */
export const MAX_REREGISTER_FRAMEWORKS = 100_000;
/** Time from the first part to the last before the connection is closed (below the 30 s connection deadline). */
export const REREGISTER_PARTS_TIMEOUT_MS = 20_000;
/** Timer name prefix; the connection id follows. */
export const REREGISTER_PARTS_TIMER = 'agent-reregister-parts:';

interface Pending {
  first: Reregister;
  tasks: Reregister['tasks'];
  frameworks: Reregister['frameworks'];
}

const pendingByCore = new WeakMap<Core, Map<string, Pending>>();

function pendingOf(s: Core): Map<string, Pending> {
  let m = pendingByCore.get(s);
  if (!m) {
    m = new Map();
    pendingByCore.set(s, m);
  }
  return m;
}

/** Parts held for this connection (for tests and state views). */
export function pendingReregisterTasks(s: Core, conn: string): number | undefined {
  return pendingOf(s).get(conn)?.tasks.length;
}

function abort(s: Core, out: Effects, conn: string, why: string): void {
  pendingOf(s).delete(conn);
  out.cancel(REREGISTER_PARTS_TIMER + conn);
  s.counters.agentRegistrationsRefused++;
  out.log('warn', `agent re-registration in parts refused: ${why}`, { conn });
  out.close(conn, 1008, why);
}

function add(s: Core, out: Effects, conn: string, p: Pending, m: Reregister | Continuation): boolean {
  if (
    p.tasks.length + m.tasks.length > MAX_REREGISTER_TASKS ||
    p.frameworks.length + m.frameworks.length > MAX_REREGISTER_FRAMEWORKS
  ) {
    abort(
      s,
      out,
      conn,
      `re-registration over ${MAX_REREGISTER_TASKS} tasks or ${MAX_REREGISTER_FRAMEWORKS} frameworks`,
    );
    return false;
  }
  for (const t of m.tasks) p.tasks.push(t);
  for (const f of m.frameworks) p.frameworks.push(f);
  return true;
}

function finish(s: Core, out: Effects, conn: string, p: Pending): void {
  pendingOf(s).delete(conn);
  out.cancel(REREGISTER_PARTS_TIMER + conn);
  const { more: _more, ...first } = p.first;
  onReregister(s, out, conn, { ...first, tasks: p.tasks, frameworks: p.frameworks });
}

/** REREGISTER: complete at once, or the first of several parts. */
export function onReregisterPart(s: Core, out: Effects, conn: string, m: Reregister): void {
  if (!s.agentConns.has(conn)) return;
  if (pendingOf(s).has(conn)) {
    abort(s, out, conn, 'a second REREGISTER before the first was complete');
    return;
  }
  if (!m.more) {
    onReregister(s, out, conn, m);
    return;
  }
  const p: Pending = { first: m, tasks: [], frameworks: [] };
  if (!add(s, out, conn, p, m)) return;
  pendingOf(s).set(conn, p);
  out.arm(REREGISTER_PARTS_TIMER + conn, REREGISTER_PARTS_TIMEOUT_MS);
}

/** REREGISTER_TASKS: a further part; the last (`more: false`) completes the re-registration. */
export function onReregisterTasks(s: Core, out: Effects, conn: string, m: Continuation): void {
  const p = pendingOf(s).get(conn);
  if (!p) {
    abort(s, out, conn, 'REREGISTER_TASKS without a REREGISTER that announced more');
    return;
  }
  if (!add(s, out, conn, p, m)) return;
  if (!m.more) finish(s, out, conn, p);
}

/** The parts timer fired: the agent started a re-registration and never finished it. */
export function onReregisterPartsTimeout(s: Core, out: Effects, conn: string): void {
  if (!pendingOf(s).has(conn)) return;
  abort(s, out, conn, `re-registration not completed within ${REREGISTER_PARTS_TIMEOUT_MS} ms`);
}

/** The connection closed: drop its parts. */
export function onReregisterConnClosed(s: Core, out: Effects, conn: string): void {
  if (pendingOf(s).delete(conn)) out.cancel(REREGISTER_PARTS_TIMER + conn);
}
