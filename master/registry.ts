/**
 * What the master holds in memory: agents, frameworks, offers and tasks. Plain records; the
 * master state (master/state/) is the only writer. Resource bookkeeping helpers keep the per-agent
 * and per-framework-role sums in step with the tasks and offers.
 */

import type { AgentInfo, FrameworkInfo, TaskInfo, TaskState, TaskStatus } from '../sdk/protocol/types.js';
import { DEFAULT_ROLE, Resources } from '../sdk/resources/resources.js';
import type { AllocatorAgent, RefusalFilter, SkipReason } from './allocator/types.js';

/** `gone`: an operator said the agent will never come back (Mesos MARK_AGENT_GONE); its id is refused. */
/** A connection as the state knows it: an opaque id the shell maps to a socket. */
export interface ConnRef {
  readonly id: string;
}

export type AgentState = 'active' | 'disconnected' | 'unreachable' | 'gone';

export interface AgentEntry {
  id: string;
  info: AgentInfo;
  /** Total resources, with reservations (static and dynamic) as role-tagged entries. */
  total: Resources;
  /** Resources of tasks that are not terminal. */
  used: Resources;
  /** Resources in outstanding offers. */
  offered: Resources;
  state: AgentState;
  /** The agent's live connection, if any. */
  peer?: ConnRef;
  registeredAt: number;
  reregisteredAt?: number;
  unreachableAt?: number;
  /** Pings sent without a PONG since. */
  missedPings: number;
  lastPingSeq: number;
  pongSeq: number;
  tasks: Set<string>; // keys into Master.tasks
  /**
   * The outstanding offers on this agent, oldest first, as a list threaded through the offers
   * themselves (`OfferEntry.prevOnAgent`/`nextOnAgent`): taking them back does not scan every
   * offer, and booking or returning one allocates nothing (a Set per agent shrank on every decline
   * and grew again on every booking, a third of the cost of booking 10,000 offers).
   */
  firstOffer: OfferEntry | undefined;
  lastOffer: OfferEntry | undefined;
  /**
   * Booking's copy of what every offer on this agent carries, taken from `offerInfo`, the `info`
   * it was read from (kept while `info` is that object: it is replaced, never changed in place):
   * reading the hostname and attributes through `info`, and the attributes' size bound through a
   * `WeakMap`, were three cache misses per offer.
   */
  offerInfo: AgentInfo | undefined;
  offerHostname: string;
  offerAttributes: AgentInfo['attributes'];
  offerAttributesBound: number;
  /** The size bound of what every offer on this agent carries of it: its id, hostname and attributes. */
  offerAgentBound: number;
  /**
   * The allocator's view of this agent in the last snapshot, and the values it was made from
   * (`view*`): kept while those are the same (master/state/offers.ts). On the entry itself, not in
   * a WeakMap keyed by it nor in an object of its own, so that a snapshot reads each agent in one
   * place and a master's first snapshot of 10,000 agents inserts no ephemerons.
   */
  view: AllocatorAgent | undefined;
  viewTotal: Resources | undefined;
  viewUsed: Resources | undefined;
  viewOffered: Resources | undefined;
  viewInfo: AgentInfo | undefined;
  viewActive: boolean;
  version: string;
  /** The principal that registered it: no other may re-register this id (undefined: unauthenticated). */
  principal?: string;
}

export interface FrameworkStats {
  offersSent: number;
  offersDeclined: number;
  offersAccepted: number;
  offersRescinded: number;
  /** Agents passed over for this framework in the last allocation cycle, by reason. */
  lastSkipped: Partial<Record<SkipReason, number>>;
}

export interface FrameworkEntry {
  id: string;
  info: FrameworkInfo & { id: string };
  roles: string[];
  suppressedRoles: Set<string>;
  filters: RefusalFilter[];
  /**
   * `filters` was handed to a snapshot as it is (no filter had expired): it is copied before the
   * next filter is added, so that a snapshot never changes under the allocator (offers.ts).
   */
  filtersShared: boolean;
  /**
   * No filter of `filters` expires before this time (ms; a lower bound: it may be earlier than
   * the true earliest, never later): cycles before it skip looking at each filter (offers.ts).
   */
  filtersExpireFrom: number;
  /** Its outstanding offers, oldest first; iterating gives their ids (keys into Master.offers). */
  offers: FrameworkOffers;
  tasks: Set<string>; // keys into Master.tasks (live ones)
  completedTasks: TaskEntry[];
  /** The same completed tasks by key (a lookup per acknowledgement must not scan the list). */
  completedByKey: Map<string, TaskEntry>;
  /** Tasks and offers held, per role. */
  allocated: Map<string, Resources>;
  /** The scheduler's live connection, if any. */
  peer?: ConnRef;
  active: boolean;
  connected: boolean;
  registeredAt: number;
  reregisteredAt?: number;
  disconnectedAt?: number;
  unregisteredAt?: number;
  stats: FrameworkStats;
  partitionAware: boolean;
  /** The principal that subscribed it: no other may subscribe with this id (undefined: none yet). */
  principal?: string;
}

export interface TaskEntry {
  key: string;
  task: TaskInfo;
  frameworkId: string;
  agentId: string;
  role: string;
  resources: Resources;
  state: TaskState;
  status?: TaskStatus;
  /** Every state the task has been in, with the time (seconds), as Mesos's `statuses`. */
  statuses: { state: TaskState; timestamp: number; healthy?: boolean }[];
}

export interface OfferEntry {
  id: string;
  frameworkId: string;
  agentId: string;
  role: string;
  resources: Resources;
  createdAt: number;
  /** The agent entry whose offer list holds this offer (undefined once it is taken out), and its neighbours there. */
  onAgent: AgentEntry | undefined;
  prevOnAgent: OfferEntry | undefined;
  nextOnAgent: OfferEntry | undefined;
  /** The framework list that holds this offer (undefined once it is taken out), and its neighbours there. */
  onFramework: FrameworkOffers | undefined;
  prevOnFramework: OfferEntry | undefined;
  nextOnFramework: OfferEntry | undefined;
}

/**
 * One framework's outstanding offers, oldest first, as a list threaded through the offers
 * themselves: booking or returning an offer allocates nothing (a Set per framework was rebuilt
 * every cycle on DeclineOffers, growing twice while booked and shrinking while declined).
 * Iterating gives the offers' ids, in the order they were made, as the Set did.
 */
export class FrameworkOffers implements Iterable<string> {
  first: OfferEntry | undefined = undefined;
  last: OfferEntry | undefined = undefined;
  size = 0;

  add(o: OfferEntry): void {
    o.onFramework = this;
    o.prevOnFramework = this.last;
    o.nextOnFramework = undefined;
    if (this.last === undefined) this.first = o;
    else this.last.nextOnFramework = o;
    this.last = o;
    this.size++;
  }

  /** Takes the offer off this list; nothing when it is not on it. */
  remove(o: OfferEntry): void {
    if (o.onFramework !== this) return;
    const prev = o.prevOnFramework;
    const next = o.nextOnFramework;
    if (prev === undefined) this.first = next;
    else prev.nextOnFramework = next;
    if (next === undefined) this.last = prev;
    else next.prevOnFramework = prev;
    o.onFramework = undefined;
    o.prevOnFramework = undefined;
    o.nextOnFramework = undefined;
    this.size--;
  }

  /** The ids, oldest first, as an array (to take the offers back while walking them). */
  ids(): string[] {
    const out: string[] = [];
    for (let o = this.first; o !== undefined; o = o.nextOnFramework) out.push(o.id);
    return out;
  }

  *[Symbol.iterator](): Iterator<string> {
    for (let o = this.first; o !== undefined; ) {
      const next = o.nextOnFramework;
      yield o.id;
      o = next;
    }
  }
}

/** Appends an offer to its agent's list (an offer is on one list at most). */
export function linkAgentOffer(agent: AgentEntry, o: OfferEntry): void {
  o.onAgent = agent;
  o.prevOnAgent = agent.lastOffer;
  o.nextOnAgent = undefined;
  if (agent.lastOffer === undefined) agent.firstOffer = o;
  else agent.lastOffer.nextOnAgent = o;
  agent.lastOffer = o;
}

/** Takes an offer off this agent's list; nothing when the list is another entry's (or none). */
export function unlinkAgentOffer(agent: AgentEntry, o: OfferEntry): void {
  if (o.onAgent !== agent) return;
  const prev = o.prevOnAgent;
  const next = o.nextOnAgent;
  if (prev === undefined) agent.firstOffer = next;
  else prev.nextOnAgent = next;
  if (next === undefined) agent.lastOffer = prev;
  else next.prevOnAgent = prev;
  o.onAgent = undefined;
  o.prevOnAgent = undefined;
  o.nextOnAgent = undefined;
}

/** The ids of the agent's outstanding offers, oldest first. */
export function agentOfferIds(agent: AgentEntry): string[] {
  const ids: string[] = [];
  for (let o = agent.firstOffer; o !== undefined; o = o.nextOnAgent) ids.push(o.id);
  return ids;
}

/** The one key of a task in the master's maps: task ids are unique per framework. */
export function taskKey(frameworkId: string, taskId: string): string {
  return `${frameworkId}\u0000${taskId}`;
}

export function newAgentEntry(
  info: AgentInfo & { id: string },
  total: Resources,
  state: AgentState,
  registeredAt: number,
  version: string,
): AgentEntry {
  // What booking reads and writes for every offer first, together (the object's fields are laid
  // out in this order: a cache line or two per agent rather than three or four).
  return {
    id: info.id,
    info,
    offered: Resources.empty(),
    firstOffer: undefined,
    lastOffer: undefined,
    offerInfo: undefined,
    offerHostname: '',
    offerAttributes: {},
    offerAgentBound: 0,
    offerAttributesBound: 0,
    total,
    used: Resources.empty(),
    view: undefined,
    viewTotal: undefined,
    viewUsed: undefined,
    viewOffered: undefined,
    viewInfo: undefined,
    viewActive: false,
    state,
    registeredAt,
    missedPings: 0,
    lastPingSeq: 0,
    pongSeq: 0,
    tasks: new Set(),
    version,
  };
}

export function newFrameworkEntry(info: FrameworkInfo & { id: string }, now: number): FrameworkEntry {
  const roles = info.roles && info.roles.length > 0 ? [...new Set(info.roles)] : [DEFAULT_ROLE];
  return {
    id: info.id,
    info: { ...info, roles },
    roles,
    suppressedRoles: new Set(),
    filters: [],
    filtersShared: false,
    filtersExpireFrom: Number.POSITIVE_INFINITY,
    offers: new FrameworkOffers(),
    tasks: new Set(),
    completedTasks: [],
    completedByKey: new Map(),
    allocated: new Map(),
    active: false,
    connected: false,
    registeredAt: now,
    stats: { offersSent: 0, offersDeclined: 0, offersAccepted: 0, offersRescinded: 0, lastSkipped: {} },
    partitionAware: (info.capabilities ?? []).some((c) => c.type === 'PARTITION_AWARE'),
  };
}

export function addAllocation(fw: FrameworkEntry, role: string, r: Resources): void {
  fw.allocated.set(role, (fw.allocated.get(role) ?? Resources.empty()).plus(r));
}

export function subtractAllocation(fw: FrameworkEntry, role: string, r: Resources): void {
  const left = (fw.allocated.get(role) ?? Resources.empty()).minus(r);
  if (left.isEmpty()) fw.allocated.delete(role);
  else fw.allocated.set(role, left);
}

/** Keep at most this many completed tasks per framework, and completed frameworks (as Mesos). */
export const MAX_COMPLETED_TASKS_PER_FRAMEWORK = 1000;
export const MAX_COMPLETED_FRAMEWORKS = 50;
