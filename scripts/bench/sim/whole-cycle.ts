/**
 * The whole allocation cycle a master runs, timed in-process on a real `MasterState`: the cycle's
 * own work (expiring offers and filters, taking the snapshot), `allocate()`, then applying the plan
 * (booking every offer, building the OFFERS messages, split into frames) and encoding those
 * messages as the shell would before sending. `allocate()` alone is reported beside it.
 *
 * For the allocator benchmark: build a master from the allocator snapshot it already makes, then
 * time rounds, declining every offer with a filter between them (Mesos's DeclineOffers):
 *
 *   const m = WholeCycle.fromSnapshot(snapshot);
 *   for (let round = 0; round < 4; round++) {
 *     const t = m.run(allocate, rng);         // { whole_cycle_ms, allocate_ms, offers, ... }
 *     m.declineAll(refuseSeconds);
 *   }
 */

import type { AllocateFn, AllocationPlan, AllocatorSnapshot } from '../../../master/allocator/types.js';
import type { AgentRecord, FrameworkRecord } from '../../../master/registrar.js';
import { type Effect, MasterState } from '../../../master/state/index.js';
import { encode } from '../../../sdk/codec/index.js';
import type { TaskRecord } from '../../../sdk/protocol/types.js';
import { TaskState } from '../../../sdk/protocol/types.js';
import { Resources as R, type Resources } from '../../../sdk/resources/resources.js';
import type { Rng } from '../../../sdk/util/random.js';

export interface CycleTiming {
  /** Snapshot to encoded messages, allocate() included. */
  whole_cycle_ms: number;
  allocate_ms: number;
  /** The cycle's work before allocate(): expiry, filters, the snapshot. */
  snapshot_ms: number;
  /** Booking the plan, building and encoding the messages. */
  apply_ms: number;
  /** CPU time of the process over the whole cycle (GC helper threads included): steadier than wall time on a loaded machine. */
  whole_cycle_cpu_ms: number;
  /** CPU time of the apply part alone (booking and encoding). */
  apply_cpu_ms: number;
  /** CPU time of encoding the OFFERS messages (the shell's part of apply). */
  encode_cpu_ms: number;
  offers: number;
  bytes: number;
  /**
   * Minor page faults of the process over the whole cycle, and over allocate() and apply alone: on
   * a paravirtual guest (the PVM host of docs/allocator.md) each costs ~10-20 µs, so a cycle that
   * touches fresh memory (a growing heap, new buffers) pays for it here.
   */
  faults: number;
  allocate_faults: number;
  apply_faults: number;
}

const INFO = {
  id: 'whole-cycle',
  pid: 'master@127.0.0.1:5050',
  hostname: 'bench',
  port: 5050,
  address: { hostname: 'bench', ip: '127.0.0.1', port: 5050 },
  version: 'bench',
};

export interface FromSnapshotOptions {
  /** Which framework (index into snapshot.frameworks) holds what is allocated on agent i; default i mod F. */
  owner?: (agentIndex: number) => number;
  /** The clock the master reads (ms); default the snapshot's `now`, fixed. */
  now?: () => number;
}

export class WholeCycle {
  /** OFFERS sent by the last run, by framework connection (for declineAll). */
  private lastOffers = new Map<string, string[]>();
  readonly frameworkConn = new Map<string, string>();
  /** The framework of each connection (declineAll), so that finding one allocates nothing. */
  private readonly connFramework = new Map<string, string>();
  /**
   * Adding the agents (their connections and REREGISTER messages, each handled by the master):
   * wall and CPU ms. Mesos's benchmark prints the same phase ("Added 10000 agents in 1.61secs");
   * work a master does when an agent joins, rather than in its first cycle, shows here.
   */
  addAgentsMs = 0;
  addAgentsCpuMs = 0;

  private constructor(readonly state: MasterState) {}

  /**
   * A master holding the snapshot's agents (each with its total, and what is allocated on it held
   * by one task of its owner framework) and frameworks (subscribed, with their roles), and its roles.
   */
  static fromSnapshot(snap: AllocatorSnapshot, opts: FromSnapshotOptions = {}): WholeCycle {
    const now = opts.now ?? (() => snap.now);
    const state = new MasterState({
      info: INFO,
      now,
      allocationIntervalMs: 1000,
      agentPingTimeoutMs: 15_000,
      maxAgentPingTimeouts: 5,
      minAllocatable: [...snap.minAllocatable],
      schedulerHeartbeatSeconds: 15,
      agentReregisterTimeoutMs: 600_000,
      frameworkResubscribeTimeoutMs: 600_000,
      maxFrameBytes: 4 * 1024 * 1024,
      leaderInfo: () => INFO,
    });
    const w = new WholeCycle(state);
    const agents: AgentRecord[] = snap.agents.map((a) => ({
      info: { id: a.id, hostname: a.hostname, port: 5051, resources: a.total.toList(), attributes: a.attributes },
      total: a.total.toList(),
      state: 'admitted',
    }));
    const frameworks: FrameworkRecord[] = snap.frameworks.map((f) => ({
      info: { id: f.id, name: f.id, roles: f.roles, failover_timeout: 3600 },
      completed: false,
    }));
    const roles = {
      weights: snap.roles.map((r) => ({ role: r.name, weight: r.weight })),
      quotas: snap.roles
        .filter((r) => r.quota)
        .map((r) => ({ role: r.name, guarantee: r.quota?.guarantee?.toList(), limit: r.quota?.limit?.toList() })),
    };
    state.apply({ type: 'leadershipGained', recovered: { agents, frameworks, roles } });
    snap.frameworks.forEach((f, i) => {
      const conn = `s${i}`;
      w.frameworkConn.set(f.id, conn);
      w.connFramework.set(conn, f.id);
      state.apply({ type: 'schedulerConnected', conn });
      state.apply({
        type: 'schedulerCall',
        conn,
        call: {
          type: 'SUBSCRIBE',
          subscribe: { framework_info: { id: f.id, name: f.id, roles: f.roles, failover_timeout: 3600 } },
        },
      });
    });
    const F = snap.frameworks.length;
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    snap.agents.forEach((a, i) => {
      const conn = `a${i}`;
      const tasks: TaskRecord[] = [];
      if (F > 0 && !a.allocated.isEmpty()) {
        const fw = snap.frameworks[(opts.owner ?? ((x: number) => x % F))(i)];
        tasks.push({
          framework_id: fw.id,
          state: TaskState.RUNNING,
          task: { name: `held-${i}`, task_id: `held-${i}`, agent_id: a.id, resources: a.allocated.toList() },
        });
      }
      state.apply({ type: 'agentConnected', conn });
      state.apply({
        type: 'agentMessage',
        conn,
        message: {
          type: 'REREGISTER',
          agent: { id: a.id, hostname: a.hostname, port: 5051, resources: a.total.toList(), attributes: a.attributes },
          version: 'bench',
          tasks,
          frameworks: [],
        },
      });
    });
    w.addAgentsMs = performance.now() - t0;
    const c1 = process.cpuUsage(c0);
    w.addAgentsCpuMs = (c1.user + c1.system) / 1000;
    return w;
  }

  /** One whole cycle, timed. */
  run(allocate: AllocateFn, rng: Rng): CycleTiming {
    const f0 = process.resourceUsage().minorPageFault;
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    const before = this.state.apply({ type: 'allocateNow' });
    const asked = before.find((e): e is Extract<Effect, { kind: 'allocate' }> => e.kind === 'allocate');
    const t1 = performance.now();
    const f1 = process.resourceUsage().minorPageFault;
    let plan: AllocationPlan = { offers: [], skipped: {} } as unknown as AllocationPlan;
    if (asked) plan = allocate(asked.snapshot, rng);
    const t2 = performance.now();
    const f2 = process.resourceUsage().minorPageFault;
    const c2 = process.cpuUsage();
    const after = this.state.apply({ type: 'allocationResult', plan, durationMs: t2 - t1 });
    const c3 = process.cpuUsage();
    let bytes = 0;
    let offers = 0;
    for (const e of after) {
      if (e.kind !== 'toScheduler' || e.message.type !== 'OFFERS') continue;
      bytes += encode(e.message).byteLength;
      offers += e.message.offers.offers.length;
    }
    const t3 = performance.now();
    const cAll = process.cpuUsage(c0);
    const cApply = process.cpuUsage(c2);
    const cEncode = process.cpuUsage(c3);
    const f3 = process.resourceUsage().minorPageFault;
    // The benchmark's own record of the ids (for declineAll), outside the timed window: it is not
    // the master's work (it was counted in the encode figure before).
    this.lastOffers.clear();
    for (const e of after) {
      if (e.kind !== 'toScheduler' || e.message.type !== 'OFFERS') continue;
      const ids = e.message.offers.offers.map((o) => o.id);
      const held = this.lastOffers.get(e.conn);
      if (held) for (const id of ids) held.push(id);
      else this.lastOffers.set(e.conn, ids);
    }
    return {
      encode_cpu_ms: (cEncode.user + cEncode.system) / 1000,
      whole_cycle_cpu_ms: (cAll.user + cAll.system) / 1000,
      apply_cpu_ms: (cApply.user + cApply.system) / 1000,
      whole_cycle_ms: t3 - t0,
      allocate_ms: t2 - t1,
      snapshot_ms: t1 - t0,
      apply_ms: t3 - t2,
      offers,
      bytes,
      faults: f3 - f0,
      allocate_faults: f2 - f1,
      apply_faults: f3 - f2,
    };
  }

  /**
   * Declines every offer of the last run, each framework in one DECLINE, with this filter. Finds
   * each framework by a map: it copied the whole connection table per framework (a million pairs
   * at 1,000 frameworks, 140 MB of garbage that the next timed cycle's collector paid for).
   */
  declineAll(refuseSeconds?: number): void {
    for (const [conn, ids] of this.lastOffers) {
      const fid = this.connFramework.get(conn) as string;
      this.state.apply({
        type: 'schedulerCall',
        conn,
        call: {
          type: 'DECLINE',
          framework_id: fid,
          decline: {
            offer_ids: ids,
            filters: refuseSeconds === undefined ? undefined : { refuse_seconds: refuseSeconds },
          },
        },
      });
    }
    this.lastOffers.clear();
  }
}

/** Resources of a simple shape, for callers without a snapshot of their own. */
export function res(text: string): Resources {
  return R.parse(text);
}
