/**
 * The allocator's contract with the master. The master builds an `AllocatorSnapshot` (read-only),
 * calls `allocate(snapshot, rng)`, and applies the returned plan (creates the offers, sends them,
 * records the counters). Nothing in the allocator does I/O, reads the clock, or mutates the snapshot.
 */
import type { Resources } from '../../sdk/resources/resources.js';
import type { Rng } from '../../sdk/util/random.js';

export interface AllocatorAgent {
  id: string;
  hostname: string;
  /** Everything the agent has, static reservations included (role-tagged entries). */
  total: Resources;
  /** Everything already handed out on this agent: running tasks plus outstanding offers, all roles. */
  allocated: Resources;
  attributes: Record<string, string>;
  /** Only active (registered, reachable) agents are offered. */
  active: boolean;
}

/**
 * A refusal filter: the framework declined resources on this agent until `expiresAt` (ms), in an
 * offer allocated to `role` (Mesos's `allocation_info.role`).
 */
export interface RefusalFilter {
  agentId: string;
  expiresAt: number;
  /**
   * The role of the declined offer: the filter only holds back offers to the framework in this
   * role (a multi-role framework still gets the agent in its other roles). Absent: every role.
   */
  role?: string;
  /** When present, only offers whose resources are contained in these are filtered (Mesos semantics). */
  resources?: Resources;
}

export interface AllocatorFramework {
  id: string;
  /** The roles the framework subscribed with (at least one; `*` by default). */
  roles: string[];
  /** Roles for which the framework asked not to get offers (SUPPRESS). */
  suppressedRoles: string[];
  /** What the framework holds in each of its roles: tasks plus outstanding offers, over all agents. */
  allocated: Record<string, Resources>;
  filters: RefusalFilter[];
  /** Only active (connected, subscribed) frameworks are offered. */
  active: boolean;
}

export interface RoleQuota {
  /** Resources the role is guaranteed: served first in a cycle up to this amount. */
  guarantee?: Resources;
  /** Resources the role may never exceed (allocated + offered). */
  limit?: Resources;
}

export interface AllocatorRole {
  name: string;
  /** > 0; default 1. */
  weight: number;
  quota?: RoleQuota;
}

export interface AllocatorSnapshot {
  /** Time of this cycle in ms since the epoch (for filter expiry); the allocator never reads a clock. */
  now: number;
  agents: readonly AllocatorAgent[];
  frameworks: readonly AllocatorFramework[];
  /** Roles with a non-default weight or a quota; any other role has weight 1 and no quota. */
  roles: readonly AllocatorRole[];
  /**
   * Alternatives: an offer is made only if its resources contain at least one of these
   * (Mesos's `--min_allocatable_resources`, default `cpus:0.01|mem:32`).
   */
  minAllocatable: readonly Resources[];
  /**
   * Scalar totals of every agent of the cluster, given when `agents` holds only some of them (an
   * event's allocation of just the agents it changed): DRF shares are then computed against the
   * whole cluster, as a full cycle would. Absent: the totals of `agents`.
   */
  clusterTotals?: Readonly<Record<string, number>>;
}

/** One offer to make: these resources on this agent, to this framework, for this role. */
export interface PlannedOffer {
  frameworkId: string;
  agentId: string;
  role: string;
  resources: Resources;
  /**
   * The agent's index in the snapshot's `agents`: the master finds its entry by position in the
   * list it built the snapshot from (checked against `agentId`) instead of by a lookup by id.
   */
  agentIndex?: number;
}

export const SkipReason = {
  filtered: 'filtered',
  suppressed: 'suppressed',
  quotaReached: 'quota_reached',
  reservedForOtherRole: 'reserved_for_other_role',
  belowMinAllocatable: 'below_min_allocatable',
  /** Unreserved resources held back for other roles' unsatisfied quota guarantees (Mesos's headroom). */
  quotaHeadroom: 'quota_headroom',
} as const;
export type SkipReason = (typeof SkipReason)[keyof typeof SkipReason];

export interface AllocationPlan {
  offers: PlannedOffer[];
  /** Per framework id: how many agents were passed over for it this cycle, by reason. */
  skipped: Record<string, Partial<Record<SkipReason, number>>>;
}

export type AllocateFn = (snapshot: AllocatorSnapshot, rng: Rng) => AllocationPlan;
