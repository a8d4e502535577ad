/**
 * The Chronos engine: due times → runs → tasks, exactly once.
 *
 * - Every decision about a job is one new record of the job (records.ts), made durable through the
 *   group-committed journal (journal.ts: one Store write for every change of a pass): a due time
 *   becomes a run with a deterministic id (`<job>.<schedule>.<due>`) in the same write that moves
 *   the job's schedule cursor past it, and a run is marked LAUNCHED with its task id durably BEFORE
 *   the task is sent to the master. A new leader therefore never creates a second run for a due
 *   time, and never launches a run it cannot see.
 * - After every (re)subscription the engine reconciles its LAUNCHED runs (explicitly, re-asking
 *   until every task is answered) before it launches anything.
 * - Status updates are acknowledged only after their outcome is durable, so an update the master
 *   (agent) re-sends after a failover is never lost.
 * - Due times that cannot start within the schedule's deadline (epsilon / startingDeadlineSeconds)
 *   are recorded as SKIPPED with their reason; after downtime the job's missedRunPolicy decides.
 *
 * Time comes from the injected Clock; the engine talks to the master only through {@link EngineDriver}.
 */

import {
  type Clock,
  type Filters,
  isConflict,
  KeyedMutex,
  type Offer,
  OfferSlice,
  type Resource,
  Resources,
  type Store,
  type TaskInfo,
  type TaskNeed,
  type TaskStatus,
  type Timer,
  take,
} from 'agora/sdk';
import type pino from 'pino';
import { pino as makePino } from 'pino';
import { JobConflict, JobInvalidError, JobNotFound } from '../errors.js';
import {
  childrenAfterDelete,
  completionDeadline,
  dependentRunIdFor,
  type Job,
  manualRunIdFor,
  manualStartBy,
  nextDue,
  planDueTimes,
  retryDecision,
  withRunArguments,
} from '../model/index.js';
import { Journal } from './journal.js';
import { checkConstraints, taskInfoFor } from './launch.js';
import { emptyState, FINAL_RUN_STATES, isActive, type JobRecord, KEYS, type Run, taskIdOf } from './records.js';

export interface EngineDriver {
  launch(offer: Offer, tasks: TaskInfo[], filters?: Filters): boolean;
  decline(offerIds: string[], filters?: Filters): boolean;
  kill(taskId: string, agentId?: string): boolean;
  acknowledge(status: TaskStatus): boolean;
  reconcile(tasks: { task_id: string; agent_id?: string }[]): boolean;
  suppress(): boolean;
  revive(): boolean;
}

export interface EngineOptions {
  store: Store;
  clock: Clock;
  logger?: pino.Logger;
  /** History records kept per job (default 100). */
  historyLimit?: number;
  /** How often the runner looks for due times (default 100 ms). */
  tickMs?: number;
  /** Offers are held while a due time is this close, so a run starts at once (default 5 s). */
  holdMs?: number;
  /** Re-ask the master about unanswered tasks this often while reconciling (default 3 s). */
  reconcileRetryMs?: number;
  /** Default user of tasks. */
  user?: string;
}

/** Held offers lent to one batch of due jobs: what is left of each and the tasks placed on it. */
interface PoolSlot {
  offer: Offer;
  left: Resources;
  /** At most half of the offer is taken (see slice.ts). */
  slice: OfferSlice;
  tasks: TaskInfo[];
}
type OfferPool = PoolSlot[];

/** A queued run placed on an offer, with the resources it takes there. */
interface Placed {
  run: Run;
  job: Job;
  resources: Resource[];
}

interface Entry {
  rec: JobRecord;
  /** The next due time (ms), null when none (no schedule, or it has ended). */
  next: number | null;
}

const LOST_STATES = new Set([
  'TASK_LOST',
  'TASK_DROPPED',
  'TASK_GONE',
  'TASK_UNKNOWN',
  'TASK_UNREACHABLE',
  'TASK_GONE_BY_OPERATOR',
]);
const TERMINAL = new Set([...LOST_STATES, 'TASK_FINISHED', 'TASK_FAILED', 'TASK_KILLED', 'TASK_ERROR']);

export class Engine {
  readonly jobs = new Map<string, Entry>();
  private readonly byTask = new Map<string, { job: string; runId: string }>();
  private readonly started = new Map<string, number>();
  private readonly held = new Map<string, Offer>();
  /** Offers rescinded while lent to a batch (not to be put back). */
  private readonly rescinded = new Set<string>();
  private readonly mutex = new KeyedMutex();
  private readonly inflight = new Set<string>();
  /** parent → children; undefined when a job's parents may have changed. */
  private children?: Map<string, string[]>;
  private readonly flushTimers = new Map<string, Timer>();
  private readonly log: pino.Logger;
  private driver?: EngineDriver;
  private reconciling = new Map<string, string | undefined>();
  private reconcileTimer?: Timer;
  private tickTimer?: Timer;
  /** Runs (`<job>/<run id>`) being placed: picked for an offer, their launch being recorded. */
  private readonly placing = new Set<string>();
  private suppressed = false;
  /** Offers were declined with a filter since the last REVIVE. */
  private declined = false;
  readonly metrics = {
    runsCreated: 0,
    launched: 0,
    succeeded: 0,
    failed: 0,
    skipped: 0,
    retried: 0,
    lostRelaunched: 0,
    lostReclaimed: 0,
  };

  constructor(private readonly opts: EngineOptions) {
    this.log = opts.logger ?? makePino({ level: 'silent' });
    this.journal = new Journal(opts.store, this.log, {
      onAdopt: (records) => this.adopt(records),
      current: () => new Map([...this.jobs].map(([name, e]) => [name, e.rec])),
    });
  }

  /** Records another (stale) leader wrote in the journal: they are the truth about those jobs now. */
  private adopt(records: [string, JobRecord | null][]): void {
    for (const [name, rec] of records) {
      const before = this.jobs.get(name);
      if (!rec) {
        this.jobs.delete(name);
        this.children = undefined;
        continue;
      }
      const e: Entry = { rec, next: null };
      this.jobs.set(name, e);
      this.index(e, before?.rec);
    }
  }

  /** The durable path: group-committed journal entries, checkpointed to the job keys (journal.ts). */
  readonly journal: Journal;

  private get now(): number {
    return this.opts.clock.now();
  }

  // ---- lifecycle ------------------------------------------------------------------------------

  /** Reads every job from the Store (a new leader does this before anything else). */
  async load(): Promise<void> {
    this.jobs.clear();
    this.byTask.clear();
    for (const [name, rec] of await this.journal.load()) {
      const e: Entry = { rec, next: null };
      this.jobs.set(name, e);
      this.index(e);
    }
    for (const [name, e] of this.jobs) {
      if (e.rec.state.runs.some((r) => FINAL_RUN_STATES.has(r.state))) void this.finalize(name);
    }
  }

  /** Starts acting through `driver`: reconcile first (onSubscribed), then the runner ticks. */
  attach(driver: EngineDriver): void {
    this.driver = driver;
    this.tickTimer?.cancel();
    this.tickTimer = this.opts.clock.setInterval(() => this.tick(), this.opts.tickMs ?? 100);
  }

  get attached(): boolean {
    return this.driver !== undefined;
  }

  detach(): void {
    this.tickTimer?.cancel();
    this.reconcileTimer?.cancel();
    for (const t of this.flushTimers.values()) t.cancel();
    this.flushTimers.clear();
    this.driver = undefined;
    this.held.clear();
    this.journal.stop();
  }

  /** One line on what the runner is doing (for logs and benchmarks). */
  describe(): string {
    let queued = 0;
    for (const e of this.jobs.values()) for (const r of e.rec.state.runs) if (r.state === 'QUEUED') queued++;
    const j = this.journal.stats;
    return `held offers ${this.held.size}, queued ${queued}, placing ${this.placing.size}, reconciled ${this.reconciled}, suppressed ${this.suppressed}; journal ${j.entries} entries / ${j.records} records, ${j.checkpoints} checkpointed, backlog ${this.journal.backlog}`;
  }

  get reconciled(): boolean {
    return (
      this.driver !== undefined && this.reconciling.size === 0 && this.reconcileTimer === undefined && !this.unready
    );
  }

  /** The framework id of the current subscription is not durable yet: nothing is launched. */
  private unready = false;
  private subscriptions = 0;

  /**
   * After SUBSCRIBED: held offers are void; ask the master about every launched task before launching.
   * `ready`: launches wait for it too (the framework id being made durable: a task launched under an
   * id the next leader cannot read back belongs to a framework nobody will reconcile or kill).
   */
  onSubscribed(ready?: Promise<unknown>): void {
    const sub = ++this.subscriptions;
    this.unready = ready !== undefined;
    ready?.then(() => {
      if (sub !== this.subscriptions) return;
      this.unready = false;
      this.wake();
    });
    this.held.clear();
    // The master keeps a framework's SUPPRESS across re-subscriptions (and a failed-over leader may
    // have sent one): assume suppressed, so the first need of offers revives.
    this.suppressed = true;
    this.reconciling.clear();
    for (const e of this.jobs.values()) {
      for (const r of e.rec.state.runs) {
        if (r.state === 'LAUNCHED' && r.taskId) this.reconciling.set(r.taskId, r.agentId);
        // An earlier attempt reported lost may be alive after all: asked about too before anything launches.
        if (isActive(r) && r.lostTaskId) this.reconciling.set(r.lostTaskId, r.lostAgentId);
      }
    }
    this.reconcileTimer?.cancel();
    this.reconcileTimer = undefined;
    // Implicit reconciliation too: tasks of this framework that no record names (see onUpdate).
    this.driver?.reconcile([]);
    if (this.reconciling.size === 0) return;
    const ask = () => {
      if (this.reconciling.size === 0) {
        this.reconcileTimer?.cancel();
        this.reconcileTimer = undefined;
        return;
      }
      this.log.info({ tasks: this.reconciling.size }, 'reconciling launched runs');
      this.driver?.reconcile([...this.reconciling].map(([task_id, agent_id]) => ({ task_id, agent_id })));
    };
    this.reconcileTimer = this.opts.clock.setInterval(ask, this.opts.reconcileRetryMs ?? 3000);
    ask();
  }

  onDisconnected(): void {
    this.held.clear();
  }

  onRescind(offerId: string): void {
    this.held.delete(offerId);
    this.rescinded.add(offerId);
    if (this.rescinded.size > 10_000) this.rescinded.clear();
  }

  onOffers(offers: Offer[]): void {
    for (const o of offers) this.held.set(o.id, o);
    void this.launchPass();
  }

  // ---- durable mutation ------------------------------------------------------------------------

  private index(e: Entry, before?: JobRecord): void {
    if (!before || before.job.parents.join('\0') !== e.rec.job.parents.join('\0')) this.children = undefined;
    for (const r of e.rec.state.runs) {
      if (r.taskId && r.state === 'LAUNCHED') this.byTask.set(r.taskId, { job: e.rec.job.name, runId: r.id });
      if (r.lostTaskId && isActive(r)) this.byTask.set(r.lostTaskId, { job: e.rec.job.name, runId: r.id });
    }
    this.recompute(e);
  }

  private recompute(e: Entry): void {
    const { job, state } = e.rec;
    e.next = job.schedule ? nextDue(job.schedule, state.lastDue, this.now) : null;
  }

  /** Applies `fn` to a copy of the job's record and writes it (CAS); undefined from fn = no change. */
  async mutate(name: string, fn: (rec: JobRecord) => JobRecord | undefined): Promise<JobRecord | undefined> {
    return this.mutex.run(name, async () => {
      const e = this.jobs.get(name);
      if (!e) return undefined;
      const next = fn(structuredClone(e.rec));
      if (!next) return e.rec;
      try {
        // Most changes leave the job itself as it was: the journal then holds the state alone.
        const jobChanged = JSON.stringify(next.job) !== JSON.stringify(e.rec.job);
        await this.journal.commit(name, next, jobChanged);
      } catch (err) {
        if (isConflict(err))
          this.log.error({ job: name }, 'job record changed under us: another leader? not acting on it');
        throw err;
      }
      const before = e.rec;
      e.rec = next;
      this.index(e, before);
      return next;
    });
  }

  // ---- jobs (the APIs call these) ---------------------------------------------------------------

  get(name: string): JobRecord | undefined {
    return this.jobs.get(name)?.rec;
  }

  list(): JobRecord[] {
    return [...this.jobs.values()].map((e) => e.rec);
  }

  /** Creates or replaces a job (its state, counters and history are kept on replace). */
  async upsert(job: Job, opts: { create?: boolean; update?: boolean } = {}): Promise<JobRecord> {
    return this.mutex.run(job.name, async () => {
      const e = this.jobs.get(job.name);
      if (e && opts.create) throw new JobConflict(`job '${job.name}' already exists`);
      if (!e && opts.update) throw new JobNotFound(`job '${job.name}' does not exist`);
      // A new schedule counts from now (a start in the past does not replay old due times; an empty start runs now).
      const sameSchedule = e && JSON.stringify(e.rec.job.schedule) === JSON.stringify(job.schedule);
      const state = e ? structuredClone(e.rec.state) : emptyState(null);
      // Never behind the due times already handled: a run id is its due time, and the runs of the
      // old schedule have left the record for history (a start just past that already ran would run again).
      if (!sameSchedule)
        state.lastDue = job.schedule
          ? Math.max(this.firstWatermark(job), state.lastDue ?? Number.NEGATIVE_INFINITY)
          : null;
      if (e) job.counters = e.rec.job.counters;
      const rec: JobRecord = { job, state };
      await this.journal.commit(job.name, rec);
      const entry: Entry = { rec, next: null };
      this.jobs.set(job.name, entry);
      this.index(entry);
      return rec;
    });
  }

  /**
   * Where a new schedule starts counting: from now, except that a start only just past (within the
   * job's starting deadline, e.g. a job posted a moment after its start) still runs.
   */
  private firstWatermark(job: Job): number {
    const now = this.now;
    const s = job.schedule;
    if (s?.kind === 'iso' && s.start < now && now - s.start <= job.startingDeadlineSeconds * 1000) return s.start - 1;
    return now - 1;
  }

  /** Deletes a job; its children lose it as a parent and gain its parents (or its schedule), as Chronos does. */
  async remove(name: string): Promise<void> {
    const e = this.jobs.get(name);
    if (!e) throw new JobNotFound(`job '${name}' does not exist`);
    await this.kill(name, 'job deleted');
    const changes = childrenAfterDelete(
      [...this.jobs.values()].map((x) => x.rec.job),
      name,
    );
    for (const change of changes) {
      await this.mutate(change.name, (rec) => {
        const parents: string[] = [...change.parents];
        rec.job.parents = parents;
        if ('inheritSchedule' in change) {
          rec.job.schedule = change.inheritSchedule;
          rec.state.lastDue = this.now - 1;
        }
        rec.state.parentsDone = rec.state.parentsDone.filter((p) => parents.includes(p));
        return rec;
      });
    }
    await this.mutex.run(name, async () => {
      await this.journal.commit(name, null);
      await this.opts.store.delete(KEYS.history(name));
      this.jobs.delete(name);
      this.children = undefined;
    });
  }

  /** The jobs that name `name` as a parent (from an index rebuilt only when some job's parents changed). */
  childrenOf(name: string): string[] {
    if (!this.children) {
      this.children = new Map();
      for (const e of this.jobs.values())
        for (const p of e.rec.job.parents) this.children.set(p, [...(this.children.get(p) ?? []), e.rec.job.name]);
    }
    return this.children.get(name) ?? [];
  }

  /**
   * Starts a run now (Chronos PUT job/{name}, Metronome POST runs). With `argText` (Chronos's
   * `?arguments=`), as Chronos 3 does: appended to a shell command line as written; for a job
   * without a shell, split on whitespace into extra argv (the model's withRunArguments).
   */
  async runNow(name: string, argText?: string): Promise<Run> {
    const e = this.jobs.get(name);
    if (!e) throw new JobNotFound(`job '${name}' does not exist`);
    let line: { command?: string; arguments?: string[] } = {};
    if (argText !== undefined && argText.trim() !== '') {
      const w = withRunArguments(e.rec.job, argText);
      if ('error' in w) throw new JobInvalidError(w.error);
      line = e.rec.job.shell ? { command: w.command } : { arguments: w.arguments };
    }
    let run: Run | undefined;
    await this.mutate(name, (rec) => {
      rec.state.seq++;
      run = this.newRun(rec, {
        id: manualRunIdFor(this.now, rec.state.seq),
        trigger: 'manual',
        due: this.now,
        ...line,
        deadline: manualStartBy(rec.job, this.now),
      });
      rec.state.runs.push(run);
      return rec;
    });
    this.metrics.runsCreated++;
    this.wake();
    return run as Run;
  }

  /** Kills the job's active runs (queued ones end at once; launched ones when the master says so). */
  async kill(name: string, reason = 'killed by request', runId?: string): Promise<number> {
    if (!this.jobs.has(name)) throw new JobNotFound(`job '${name}' does not exist`);
    const toKill: Run[] = [];
    await this.mutate(name, (rec) => {
      let changed = false;
      for (const r of rec.state.runs) {
        if (!isActive(r) || (runId && r.id !== runId)) continue;
        changed = true;
        if (r.state === 'QUEUED') {
          Object.assign(r, { state: 'KILLED', ended: this.now, reason });
        } else {
          r.killRequested = reason;
          toKill.push(r);
        }
      }
      return changed ? rec : undefined;
    });
    for (const r of toKill) if (r.taskId) this.driver?.kill(r.taskId, r.agentId);
    void this.finalize(name);
    return toKill.length;
  }

  /** Chronos PUT job/success/{name}: counts a success by hand and triggers the children. */
  async markSuccess(name: string): Promise<void> {
    if (!this.jobs.has(name)) throw new JobNotFound(`job '${name}' does not exist`);
    await this.mutate(name, (rec) => {
      rec.state.seq++;
      const run = this.newRun(rec, {
        id: `${manualRunIdFor(this.now, rec.state.seq)}-success`,
        trigger: 'manual',
        due: this.now,
      });
      Object.assign(run, { state: 'SUCCESS', ended: this.now, reason: 'marked successful by request' });
      rec.state.runs.push(run);
      this.count(rec, true);
      return rec;
    });
    void this.finalize(name);
  }

  async history(name: string): Promise<Run[]> {
    const h = await this.opts.store.get<Run[]>(KEYS.history(name));
    const pending = this.jobs.get(name)?.rec.state.runs.filter((r) => FINAL_RUN_STATES.has(r.state)) ?? [];
    const seen = new Set((h?.value ?? []).map((r) => r.id));
    return [...(h?.value ?? []), ...pending.filter((r) => !seen.has(r.id))];
  }

  activeRuns(name?: string): Run[] {
    const out: Run[] = [];
    const entries = name === undefined ? this.jobs.values() : [this.jobs.get(name)].filter((e) => e !== undefined);
    for (const e of entries) {
      for (const r of e.rec.state.runs)
        if (isActive(r)) out.push({ ...r, started: r.started ?? (r.taskId ? this.started.get(r.taskId) : undefined) });
    }
    return out;
  }

  // ---- the runner ----------------------------------------------------------------------------

  private newRun(rec: JobRecord, p: Pick<Run, 'id' | 'trigger' | 'due'> & Partial<Run>): Run {
    return { job: rec.job.name, attempt: 1, state: 'QUEUED', createdAt: this.now, ...p };
  }

  private count(rec: JobRecord, success: boolean): void {
    const c = rec.job.counters;
    const at = new Date(this.now).toISOString();
    if (success) {
      c.successCount++;
      c.lastSuccess = at;
      c.errorsSinceLastSuccess = 0;
    } else {
      c.errorCount++;
      c.lastError = at;
      c.errorsSinceLastSuccess++;
    }
  }

  /** One pass: due times into runs, deadlines and maxCompletionTime, launches, offer management. */
  tick(): void {
    if (!this.driver) return;
    const now = this.now;
    let soonest = Number.POSITIVE_INFINITY;
    const due: string[] = [];
    for (const [name, e] of this.jobs) {
      if (e.next !== null) {
        if (e.next <= now && !this.inflight.has(name)) {
          this.inflight.add(name);
          due.push(name);
        }
        if (!e.rec.job.disabled) soonest = Math.min(soonest, e.next);
      }
      for (const r of e.rec.state.runs) {
        if (r.state === 'QUEUED' && r.deadline !== undefined && now > r.deadline && !this.inflight.has(name)) {
          this.inflight.add(name);
          void this.skipLate(name).finally(() => this.inflight.delete(name));
        }
        const started = r.taskId ? (this.started.get(r.taskId) ?? r.launched) : undefined;
        const limit = started === undefined ? null : completionDeadline(e.rec.job, started);
        if (limit !== null && r.state === 'LAUNCHED' && now > limit && !r.killRequested) {
          void this.kill(name, `maxCompletionTime ${e.rec.job.maxCompletionTimeSeconds} s exceeded`, r.id);
        }
        if (r.state === 'QUEUED') soonest = Math.min(soonest, r.notBefore ?? now);
      }
    }
    if (due.length > 0) void this.dueBatch(due);
    this.manageOffers(soonest - now);
    if (this.held.size > 0) void this.launchPass();
  }

  /** The jobs due now, planned together: runs that fit the held offers are placed in their creating write. */
  private async dueBatch(names: string[]): Promise<void> {
    const pool: OfferPool | undefined =
      this.driver && this.reconciled && this.held.size > 0
        ? [...this.held.values()].map((offer) => ({
            offer,
            left: Resources.from(offer.resources),
            slice: new OfferSlice(offer.resources),
            tasks: [],
          }))
        : undefined;
    if (pool) this.held.clear();
    await Promise.allSettled(
      names.map((name) =>
        this.handleDue(name, pool)
          .catch((err) => this.log.warn({ err, job: name }, 'planning due times failed; will retry'))
          .finally(() => this.inflight.delete(name)),
      ),
    );
    if (!pool) return;
    for (const slot of pool) {
      if (slot.tasks.length > 0 && this.driver) {
        this.driver.launch(slot.offer, slot.tasks, { refuse_seconds: 0 });
        this.metrics.launched += slot.tasks.length;
      } else if (!this.rescinded.has(slot.offer.id)) {
        this.held.set(slot.offer.id, slot.offer);
      }
    }
    void this.launchPass();
  }

  /** Places a new run on an offer of the pool (synchronously, inside its job's write); the task to launch, or none. */
  private placeInPool(
    pool: OfferPool,
    job: Job,
    run: Run,
    now: number,
  ): { slot: PoolSlot; task: TaskInfo } | undefined {
    const need: TaskNeed = { cpus: job.cpus, mem: job.mem, disk: job.disk, gpus: job.gpus };
    for (const slot of pool) {
      if (this.rescinded.has(slot.offer.id) || !checkConstraints(job.constraints, slot.offer)) continue;
      if (!slot.slice.admits(need)) continue;
      const r = take(
        { resources: slot.left, allocation_role: slot.offer.allocation_role, attributes: slot.offer.attributes },
        need,
      );
      if (!r.ok) continue;
      slot.left = r.left;
      slot.slice.add(need);
      Object.assign(run, {
        state: 'LAUNCHED',
        agentId: slot.offer.agent_id,
        hostname: slot.offer.hostname,
        launched: now,
      });
      run.taskId = taskIdOf(run);
      const task = taskInfoFor(job, run, slot.offer, r.taken.toList(), this.opts.user);
      slot.tasks.push(task);
      return { slot, task };
    }
    return undefined;
  }

  private manageOffers(untilNextMs: number): void {
    const d = this.driver;
    if (!d) return;
    const hold = this.opts.holdMs ?? 5000;
    if (untilNextMs <= hold) {
      // Work is near: offers again, and the refusal filters of earlier declines cleared.
      if (this.suppressed || this.declined) {
        this.suppressed = false;
        this.declined = false;
        d.revive();
      }
      return;
    }
    if (this.held.size > 0) {
      const refuse = Math.max(1, Math.min(60, Math.floor((untilNextMs - hold) / 1000)));
      d.decline([...this.held.keys()], { refuse_seconds: refuse });
      this.held.clear();
      this.declined = true;
    }
    if (!this.suppressed && untilNextMs > 60_000) {
      this.suppressed = true;
      d.suppress();
    }
  }

  private wake(): void {
    if ((this.suppressed || this.declined) && this.driver) {
      this.suppressed = false;
      this.declined = false;
      this.driver.revive();
    }
    void this.launchPass();
  }

  /**
   * Due times of one job → runs (or skips) as the model's plan says, in one durable write with the
   * new watermark. With a `pool` of offers, a new run that fits one is placed there in that same
   * write (recorded LAUNCHED with its task id: one write per run instead of two, before the ACCEPT).
   */
  private async handleDue(name: string, pool?: OfferPool): Promise<void> {
    const replaced: Run[] = [];
    let created = 0;
    const placedHere: { slot: PoolSlot; task: TaskInfo }[] = [];
    const done = this.mutate(name, (rec) => {
      const now = this.now;
      const { job, state } = rec;
      if (!job.schedule) return undefined;
      const plan = planDueTimes({
        job,
        lastDue: state.lastDue,
        now,
        activeRunIds: state.runs.filter(isActive).map((r) => r.id),
      });
      if (plan.lastDue === state.lastDue && plan.decisions.length === 0 && !plan.skippedRange) return undefined;
      state.lastDue = plan.lastDue;
      if (plan.skippedRange) {
        const r = plan.skippedRange;
        state.runs.push({
          ...this.newRun(rec, { id: `skipped-${r.after}-${r.until}`, trigger: 'schedule', due: r.until }),
          state: 'SKIPPED',
          ended: now,
          reason: `${r.reason}: ${r.message}${r.count !== null ? ` (${r.count} due times)` : ''}`,
        });
        this.metrics.skipped += r.count ?? 1;
      }
      for (const x of plan.replace) {
        const r = state.runs.find((y) => y.id === x.runId);
        if (!r || !isActive(r)) continue;
        if (r.state === 'QUEUED') Object.assign(r, { state: 'KILLED', ended: now, reason: x.message });
        else if (!r.killRequested) {
          r.killRequested = x.message;
          replaced.push(r);
        }
      }
      for (const d of plan.decisions) {
        if (state.runs.some((r) => r.id === d.runId)) continue; // recorded already: never a second run
        const run = this.newRun(rec, { id: d.runId, trigger: 'schedule', due: d.due });
        if (d.action === 'skip') {
          Object.assign(run, { state: 'SKIPPED', ended: now, reason: `${d.reason}: ${d.message}` });
          this.metrics.skipped++;
        } else {
          run.deadline = d.startBy;
          created++;
          if (pool) {
            const placed = this.placeInPool(pool, job, run, now);
            if (placed) placedHere.push(placed);
          }
        }
        state.runs.push(run);
      }
      // Rn counted down to nothing: Chronos disables the job.
      if (plan.nextDue === null && job.schedule.kind === 'iso') job.disabled = true;
      return rec;
    });
    try {
      await done;
    } catch (err) {
      // Not recorded: the tasks placed for it must not be launched.
      for (const p of placedHere) p.slot.tasks = p.slot.tasks.filter((t) => t !== p.task);
      throw err;
    }
    this.metrics.runsCreated += created;
    for (const r of replaced) if (r.taskId) this.driver?.kill(r.taskId, r.agentId);
    if (created > 0) this.wake();
    const rec = this.jobs.get(name)?.rec;
    if (rec?.state.runs.some((r) => FINAL_RUN_STATES.has(r.state))) this.scheduleFinalize(name);
  }

  private async skipLate(name: string): Promise<void> {
    await this.mutate(name, (rec) => {
      const now = this.now;
      let changed = false;
      for (const r of rec.state.runs) {
        if (r.state !== 'QUEUED' || r.deadline === undefined || now <= r.deadline) continue;
        Object.assign(r, {
          state: 'SKIPPED',
          ended: now,
          reason: 'no offer could take it before its deadline (epsilon / startingDeadlineSeconds)',
        });
        this.metrics.skipped++;
        changed = true;
      }
      return changed ? rec : undefined;
    });
    this.scheduleFinalize(name);
  }

  /** Queued runs onto held offers: each run marked LAUNCHED (durably) before its offer is accepted. */
  private async launchPass(): Promise<void> {
    // Passes overlap: each places only runs no other pass is placing, on offers it takes out of `held`,
    // so the durable writes of one pass do not hold up the next (they are the launch rate's limit).
    if (!this.driver || !this.reconciled || this.held.size === 0) return;
    const mine: string[] = [];
    try {
      const now = this.now;
      const queued: { run: Run; job: Job }[] = [];
      for (const e of this.jobs.values())
        for (const r of e.rec.state.runs)
          if (r.state === 'QUEUED' && (r.notBefore ?? 0) <= now && !this.placing.has(`${e.rec.job.name}/${r.id}`))
            queued.push({ run: r, job: e.rec.job });
      if (queued.length === 0) return;
      queued.sort((a, b) => Number(b.job.highPriority) - Number(a.job.highPriority) || a.run.due - b.run.due);
      const picked = new Set<string>();
      const batches: { offer: Offer; picks: Placed[] }[] = [];
      for (const offer of this.held.values()) {
        // What is left of the offer as tasks are placed on it (the SDK's fit/take: roles, reservations).
        let left: Resources = Resources.from(offer.resources);
        const slice = new OfferSlice(offer.resources);
        const picks: Placed[] = [];
        // Needs that did not fit what is left of this offer: the same need is not tried again on it
        // (thousands of queued runs × dozens of offers would otherwise hold the event loop).
        const misfits = new Set<string>();
        for (const q of queued) {
          const key = `${q.job.name}/${q.run.id}`;
          if (picked.has(key)) continue;
          const shape = `${q.job.cpus}/${q.job.mem}/${q.job.disk}/${q.job.gpus}/${JSON.stringify(q.job.constraints)}`;
          if (misfits.has(shape)) continue;
          if (!checkConstraints(q.job.constraints, offer)) {
            misfits.add(shape);
            continue;
          }
          const need: TaskNeed = { cpus: q.job.cpus, mem: q.job.mem, disk: q.job.disk, gpus: q.job.gpus };
          // At most half of the offer: the rest goes back for the allocator to decide again.
          if (!slice.admits(need)) break;
          const r = take(
            { resources: left, allocation_role: offer.allocation_role, attributes: offer.attributes },
            need,
          );
          if (!r.ok) {
            misfits.add(shape);
            continue;
          }
          left = r.left;
          slice.add(need);
          picks.push({ ...q, resources: r.taken.toList() });
          picked.add(key);
        }
        if (picks.length > 0) batches.push({ offer, picks });
      }
      for (const b of batches) this.held.delete(b.offer.id);
      // Offers none of the waiting runs fits (what is left of an agent: memory without CPUs, say)
      // go back at once: held, they would count towards this role's share and keep them from the
      // other roles' frameworks (services beside a burst of jobs).
      const used = new Set(batches.map((b) => b.offer.id));
      const misfit = [...this.held.keys()].filter((id) => !used.has(id));
      if (misfit.length > 0) {
        for (const id of misfit) this.held.delete(id);
        this.driver.decline(misfit, { refuse_seconds: 1 });
      }
      for (const key of picked) {
        this.placing.add(key);
        mine.push(key);
      }
      await Promise.all(batches.map((b) => this.launchOn(b.offer, b.picks)));
    } finally {
      for (const key of mine) this.placing.delete(key);
    }
  }

  private async launchOn(offer: Offer, picks: Placed[]): Promise<void> {
    const tasks: TaskInfo[] = [];
    await Promise.all(
      picks.map(async ({ run, job, resources }) => {
        let launched: Run | undefined;
        try {
          await this.mutate(job.name, (rec) => {
            const r = rec.state.runs.find((x) => x.id === run.id);
            if (r?.state !== 'QUEUED') return undefined;
            Object.assign(r, {
              state: 'LAUNCHED',
              agentId: offer.agent_id,
              hostname: offer.hostname,
              launched: this.now,
            });
            r.taskId = taskIdOf(r);
            launched = r;
            return rec;
          });
        } catch (err) {
          this.log.warn({ err, job: job.name }, 'could not record the launch; not launching');
          return;
        }
        if (launched) tasks.push(taskInfoFor(job, launched, offer, resources, this.opts.user));
      }),
    );
    const d = this.driver;
    if (tasks.length === 0 || !d) {
      d?.decline([offer.id], { refuse_seconds: 0 });
      return;
    }
    // Recorded first: if this send is lost, reconciliation answers LOST and the run is relaunched.
    d.launch(offer, tasks, { refuse_seconds: 0 });
    this.metrics.launched += tasks.length;
  }

  // ---- status updates --------------------------------------------------------------------------

  async onUpdate(status: TaskStatus): Promise<void> {
    const ref = this.byTask.get(status.task_id);
    this.reconciling.delete(status.task_id);
    const current = ref ? this.jobs.get(ref.job)?.rec.state.runs.find((x) => x.id === ref.runId) : undefined;
    if (!ref || !current) {
      // A task no run owns (its job was deleted, its run is over) that still runs: its KILL was lost
      // (with a leader or a master), so it would go on unseen. Killed now.
      if (!TERMINAL.has(status.state)) this.driver?.kill(status.task_id, status.agent_id);
      this.driver?.acknowledge(status);
      return;
    }
    if (current?.lostTaskId === status.task_id && current.taskId !== status.task_id) {
      await this.onLostAttemptUpdate(ref, status);
      return;
    }
    if (!TERMINAL.has(status.state)) {
      if (status.state === 'TASK_RUNNING' && !this.started.has(status.task_id))
        this.started.set(status.task_id, Math.round(status.timestamp * 1000) || this.now);
      // "Seen running" decides whether a lost task is relaunched as the same run (never started) or
      // counts as a failure: it must outlive this leader, so it is recorded before the ack.
      if (
        status.state === 'TASK_RUNNING' &&
        current?.state === 'LAUNCHED' &&
        current.taskId === status.task_id &&
        current.started === undefined
      ) {
        const at = this.started.get(status.task_id) as number;
        try {
          await this.mutate(ref.job, (rec) => {
            const r = rec.state.runs.find((x) => x.id === ref.runId);
            if (r?.state !== 'LAUNCHED' || r.taskId !== status.task_id || r.started !== undefined) return undefined;
            r.started = at;
            return rec;
          });
        } catch (err) {
          this.log.warn({ err, task: status.task_id }, 'could not record a start; it will come again');
          return;
        }
      }
      // A kill was recorded but the task still runs (the KILL was lost with a leader or a master, or
      // never left): ask again. The reconciliation after every subscription brings this answer.
      if (current?.state === 'LAUNCHED' && current.taskId === status.task_id && current.killRequested)
        this.driver?.kill(status.task_id, status.agent_id ?? current.agentId);
      this.driver?.acknowledge(status);
      return;
    }
    let outcome: Run | undefined;
    let retried = false;
    let decision: ReturnType<typeof retryDecision> | undefined;
    try {
      await this.mutate(ref.job, (rec) => {
        const r = rec.state.runs.find((x) => x.id === ref.runId);
        if (r?.state !== 'LAUNCHED' || r.taskId !== status.task_id) return undefined;
        const now = this.now;
        const started = this.started.get(status.task_id) ?? r.started;
        Object.assign(r, {
          started,
          ended: now,
          taskState: status.state,
          exitStatus: status.exit_status,
          agentId: status.agent_id ?? r.agentId,
        });
        const job = rec.job;
        if (status.state === 'TASK_FINISHED') {
          r.state = 'SUCCESS';
          this.count(rec, true);
        } else if (LOST_STATES.has(status.state) && started === undefined && !r.killRequested) {
          // Never seen running: the launch did not happen (or its agent vanished first). Again, same run id.
          Object.assign(r, {
            state: 'QUEUED',
            attempt: r.attempt + 1,
            lostTaskId: r.taskId,
            lostAgentId: r.agentId,
            taskId: undefined,
            agentId: undefined,
            ended: undefined,
            launched: undefined,
          });
          this.metrics.lostRelaunched++;
          retried = true;
        } else if (r.killRequested) {
          r.state = r.killRequested.startsWith('maxCompletionTime') ? 'FAILED' : 'KILLED';
          r.reason = r.killRequested;
          if (r.state === 'FAILED') this.count(rec, false);
        } else if (
          // biome-ignore lint/suspicious/noAssignInExpressions: the decision is read again below
          (decision = retryDecision(job, { attempt: r.attempt, createdAt: r.createdAt }, now)).action === 'retry'
        ) {
          rec.state.runs.push({
            ...r,
            id: `${r.id}#${r.attempt}`,
            state: 'FAILED',
            reason: status.message ?? status.state,
            childrenNotified: true,
          });
          Object.assign(r, {
            state: 'QUEUED',
            attempt: r.attempt + 1,
            taskId: undefined,
            agentId: undefined,
            started: undefined,
            ended: undefined,
            launched: undefined,
            exitStatus: undefined,
            notBefore: decision.at,
            deadline: undefined,
          });
          this.metrics.retried++;
          retried = true;
        } else {
          r.state = 'FAILED';
          r.reason = `${status.message ?? status.state}${decision && decision.action === 'give-up' ? `; ${decision.message}` : ''}`;
          this.count(rec, false);
        }
        outcome = r;
        return rec;
      });
    } catch (err) {
      this.log.warn({ err, task: status.task_id }, 'could not record a status update; it will come again');
      return;
    }
    // Acknowledged only now that the outcome is durable.
    this.driver?.acknowledge(status);
    if (outcome?.lostTaskId !== status.task_id) this.byTask.delete(status.task_id);
    this.started.delete(status.task_id);
    if (outcome?.state === 'SUCCESS') this.metrics.succeeded++;
    if (outcome?.state === 'FAILED') this.metrics.failed++;
    if (retried) this.wake();
    else this.scheduleFinalize(ref.job);
  }

  /**
   * News of an attempt that was reported lost before it was seen running. Alive: the run takes it
   * back if it has not launched again (the reconciliation a new leader runs before launching
   * anything asks about these), or, if a new attempt is out already, the old task is killed. Over:
   * forgotten (a finish counts as the run's success when no new attempt is out).
   */
  private async onLostAttemptUpdate(ref: { job: string; runId: string }, status: TaskStatus): Promise<void> {
    const alive = !TERMINAL.has(status.state);
    let kill = false;
    let reclaimed = false;
    try {
      await this.mutate(ref.job, (rec) => {
        const r = rec.state.runs.find((x) => x.id === ref.runId);
        if (!r || r.lostTaskId !== status.task_id) return undefined;
        const attempt = Number(status.task_id.split(':')[2]);
        if (alive && r.state === 'QUEUED') {
          Object.assign(r, {
            state: 'LAUNCHED',
            taskId: status.task_id,
            agentId: status.agent_id ?? r.lostAgentId,
            attempt: Number.isSafeInteger(attempt) && attempt > 0 ? attempt : r.attempt - 1,
            launched: r.launched ?? this.now,
            lostTaskId: undefined,
            lostAgentId: undefined,
          });
          reclaimed = true;
          return rec;
        }
        if (alive) {
          kill = true; // a newer attempt is out: the old one must not run beside it
          return undefined;
        }
        if (status.state === 'TASK_FINISHED' && r.state === 'QUEUED') {
          Object.assign(r, { state: 'SUCCESS', taskId: status.task_id, ended: this.now, taskState: status.state });
          this.count(rec, true);
        }
        Object.assign(r, { lostTaskId: undefined, lostAgentId: undefined });
        return rec;
      });
    } catch (err) {
      this.log.warn({ err, task: status.task_id }, 'could not record a status update; it will come again');
      return;
    }
    if (kill) this.driver?.kill(status.task_id, status.agent_id);
    if (alive && status.state === 'TASK_RUNNING' && !this.started.has(status.task_id))
      this.started.set(status.task_id, Math.round(status.timestamp * 1000) || this.now);
    this.driver?.acknowledge(status);
    if (reclaimed) {
      this.metrics.lostReclaimed++;
      this.log.warn({ task: status.task_id }, 'a task reported lost is running after all: its run takes it back');
    }
    if (!alive) {
      this.byTask.delete(status.task_id);
      this.scheduleFinalize(ref.job);
    }
  }

  // ---- after a run ends: children, history ------------------------------------------------------

  private scheduleFinalize(name: string): void {
    if (this.flushTimers.has(name)) return;
    this.flushTimers.set(
      name,
      this.opts.clock.setTimeout(() => {
        this.flushTimers.delete(name);
        void this.finalize(name).catch((err) =>
          this.log.warn({ err, job: name }, 'finalizing runs failed; will retry'),
        );
      }, 0),
    );
  }

  /** Tells children about final runs (durably, idempotently), then moves final runs to history. */
  async finalize(name: string): Promise<void> {
    const e = this.jobs.get(name);
    if (!e) return;
    const finals = e.rec.state.runs.filter((r) => FINAL_RUN_STATES.has(r.state));
    if (finals.length === 0) return;
    for (const r of finals) {
      if (r.childrenNotified) continue;
      const counts = r.state === 'SUCCESS' || (r.state === 'FAILED' && e.rec.job.softError);
      if (counts) for (const child of this.childrenOf(name)) await this.notifyChild(child, name, r.id);
    }
    await this.mutate(name, (rec) => {
      let changed = false;
      for (const r of rec.state.runs)
        if (FINAL_RUN_STATES.has(r.state) && !r.childrenNotified) {
          r.childrenNotified = true;
          changed = true;
        }
      return changed ? rec : undefined;
    });
    // History first (deduplicated by run id), then the runs leave the job's record.
    const ids = new Set(finals.map((r) => r.id));
    const limit = this.opts.historyLimit ?? 100;
    for (let attempt = 0; attempt < 5; attempt++) {
      const h = await this.opts.store.get<Run[]>(KEYS.history(name));
      const have = new Set((h?.value ?? []).map((r) => r.id));
      const add = finals.filter((r) => !have.has(r.id)).map((r) => ({ ...r, childrenNotified: undefined }));
      const merged = [...(h?.value ?? []), ...add].slice(-limit);
      try {
        if (add.length > 0) await this.opts.store.put(KEYS.history(name), merged, h?.version);
        break;
      } catch (err) {
        if (!isConflict(err)) throw err;
      }
    }
    await this.mutate(name, (rec) => {
      const before = rec.state.runs.length;
      rec.state.runs = rec.state.runs.filter((r) => !ids.has(r.id));
      return rec.state.runs.length === before ? undefined : rec;
    });
  }

  private async notifyChild(child: string, parent: string, parentRunId: string): Promise<void> {
    let queued = false;
    await this.mutate(child, (rec) => {
      const st = rec.state;
      const key = `${parent}/${parentRunId}`;
      if (st.seenParentRuns.includes(key)) return undefined;
      st.seenParentRuns = [...st.seenParentRuns, key].slice(-200);
      if (!st.parentsDone.includes(parent)) st.parentsDone.push(parent);
      if (!rec.job.disabled && rec.job.parents.every((p) => st.parentsDone.includes(p))) {
        st.parentsDone = [];
        st.seq++;
        st.runs.push(
          this.newRun(rec, { id: `${dependentRunIdFor(this.now)}-${st.seq}`, trigger: 'dependency', due: this.now }),
        );
        queued = true;
      }
      return rec;
    });
    if (queued) {
      this.metrics.runsCreated++;
      this.wake();
    }
  }
}
