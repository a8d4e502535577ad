/**
 * What the agent and its launcher process say to each other over the Node IPC channel (JSON).
 * Both sides batch: every message carries the requests or events of one event-loop turn.
 *
 * The launcher is trusted (the agent's own child), so the messages are typed, not validated; the
 * launcher still answers a request it cannot carry out with a `failed` event, never by crashing.
 */
import type { ChownStep } from './chown.js';

/** File-system work the launcher does, in this order, right before the spawn. */
export interface PrepareSteps {
  /** Directories to create (parents too; an existing one is fine). */
  mkdir?: string[];
  /** Files to remove when present (e.g. a stale exit status). */
  unlink?: string[];
  /** Values to write, in order; an `optional` write that fails is skipped, any other fails the launch. */
  write?: { file: string; value: string; optional?: boolean }[];
  /**
   * After stdout and stderr are open: give this directory and everything in it to the task's
   * user (links are not followed).
   */
  chown?: ChownStep;
}

export interface LaunchRequest {
  id: number;
  file: string;
  args: string[];
  cwd: string;
  env: Record<string, string>;
  /** Opened in append mode as the child's stdout and stderr. */
  stdout: string;
  stderr: string;
  /**
   * Cgroups the child starts in. Right before the spawn the launcher's spawning thread moves itself
   * into them (writes `0` into each `join` file: v1 `tasks`, v2 `cgroup.procs`), so the child is
   * born inside; right after, it moves back through the `leave` files (on v1 `<agora root>/+launcher`,
   * cheaper to move through than the agent's root cgroups).
   *
   * `home`: the same files of the launcher's own cgroups (where it was started). When `leave` is
   * not `home`, the spawner stays away from home after this launch, and a later request without
   * `cgroups` (a posix task) must not start where it sits: with the spawn helper that child moves
   * itself home before its exec; without it, the launcher's spawning thread goes home before the
   * spawn. See docs/containerizers.md, "Where a posix task starts".
   */
  cgroups?: { join: string[]; leave: string[]; home?: string[] };
  /**
   * Where to record how the child ended (its exit code, or 128 + the signal number, as a shell
   * does) before reporting the exit, so that an agent that was down meanwhile still learns it.
   */
  statusFile?: string;
  prepare?: PrepareSteps;
  /**
   * Values written right after the spawn (and the way back out of `cgroups`), in order: the cpu
   * weight of the task's cgroup. Written before the spawn, a low weight would slow the forked
   * child until its exec, and the spawning thread waits for that exec. An `optional` write that
   * fails is skipped; any other kills the child and fails the launch.
   */
  afterSpawn?: { file: string; value: string; optional?: boolean }[];
  /**
   * Run the child as this user and primary group (Node's spawn `uid`/`gid`: the child's
   * supplementary groups are cleared). Absent: as the launcher's user. `groups`: the supplementary
   * groups (spawn helper only; without the helper they are cleared).
   */
  user?: { uid: number; gid: number; groups?: number[] };
  /**
   * Start the child straight in new namespaces (spawn helper only, see spawn-helper.c): it is pid
   * 1 of its pid namespace, with `/proc` mounted for it (a new mount namespace is made private
   * first), `hostname` set in its uts namespace, `lo` up in a new network namespace when `loUp`,
   * or the network namespace at `joinNet` entered.
   */
  isolate?: {
    namespaces: ('pid' | 'mount' | 'uts' | 'ipc' | 'net')[];
    hostname?: string;
    loUp?: boolean;
    joinNet?: string;
  };
}

export type LaunchEvent =
  /** The child runs. */
  | { id: number; ev: 'started'; pid: number; startTime?: number }
  /** Nothing runs for this request; `stage` says what failed. */
  | { id: number; ev: 'failed'; stage: 'prepare' | 'spawn'; message: string }
  /** The child ended (always after its `started`). */
  | { id: number; ev: 'exit'; code: number | null; signal: string | null };

export type ToLauncher = { op: 'launch'; batch: LaunchRequest[] };
export type FromLauncher = { op: 'events'; batch: LaunchEvent[] };
