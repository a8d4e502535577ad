/**
 * Descriptors a process was given by mistake: open, not close-on-exec, and not among those it was
 * handed on purpose (stdio, the IPC channel).
 *
 * Node and libuv open every descriptor close-on-exec, so a child of the agent inherits only what
 * it is given, except for descriptors a native addon opened without the flag. The ZooKeeper addon's
 * C client does exactly that with its connection (it is built without `SOCK_CLOEXEC`), so every
 * child the agent forked kept a copy of the agent's ZooKeeper socket: the launchers for as long as
 * they live, and through them every task. Two harms: a task could write on the agent's session; and
 * an epoll registration lives as long as any copy of its socket, so once the C client closed that
 * socket and opened the next one under the same number (as it does while reconnecting), the
 * agent's ZooKeeper thread kept being woken for the old, dead socket and spun without ever
 * reconnecting (found by reproducing `ha.test.ts`'s ZooKeeper restart under load).
 *
 * A launcher therefore closes such descriptors first thing (`closeStrayDescriptors`), and the commands
 * the agent starts itself go through the spawn helper's `--exec`, which closes them before it execs
 * (`withoutStrayDescriptors`). Linux only: elsewhere, or without /proc, this does nothing.
 */
import { closeSync, existsSync, readdirSync, readFileSync } from 'node:fs';
import { HELPER_ENV, helperBinaryPath } from './launcher/spawn-helper.js';

/** `O_CLOEXEC` as /proc/<pid>/fdinfo's octal `flags` shows it (Linux, every architecture Node runs on). */
export const O_CLOEXEC = 0o2000000;

/** Whether the fdinfo text of a descriptor says close-on-exec; undefined when it has no `flags` line. */
export function closesOnExec(fdinfo: string): boolean | undefined {
  const m = /^flags:\s*([0-7]+)\s*$/m.exec(fdinfo);
  if (!m) return undefined;
  return (Number.parseInt(m[1], 8) & O_CLOEXEC) !== 0;
}

/** The descriptors of `pid` (default: this process) above stdio that would survive an exec, less `keep`. */
export function strayDescriptors(keep: ReadonlySet<number> = new Set(), pid: number | 'self' = 'self'): number[] {
  let names: string[];
  try {
    names = readdirSync(`/proc/${pid}/fdinfo`);
  } catch {
    return [];
  }
  const out: number[] = [];
  for (const name of names) {
    const fd = Number(name);
    if (!Number.isInteger(fd) || fd < 3 || keep.has(fd)) continue;
    let info: string;
    try {
      info = readFileSync(`/proc/${pid}/fdinfo/${name}`, 'utf8');
    } catch {
      continue; // closed meanwhile (the directory listing's own descriptor, for one)
    }
    if (closesOnExec(info) === false) out.push(fd);
  }
  return out.sort((a, b) => a - b);
}

/**
 * Closes the descriptors this process inherited by mistake (see above), keeping stdio and `keep`.
 * Node's IPC channel is not among them: Node marks it close-on-exec as it takes it. Returns the ones
 * closed.
 */
export function closeStrayDescriptors(keep: Iterable<number> = []): number[] {
  const closed: number[] = [];
  for (const fd of strayDescriptors(new Set(keep))) {
    try {
      closeSync(fd);
      closed.push(fd);
    } catch {
      // already gone
    }
  }
  return closed;
}

let trampoline: string | undefined;

/**
 * The spawn helper binary, whose `--exec` mode closes every descriptor above stdio before it execs:
 * the path AGORA_SPAWN_HELPER names, else the one `npm run build` makes. Only looked up here, never
 * built (a health check must not wait for a compiler); once found, kept.
 */
function execTrampoline(): string | undefined {
  if (trampoline) return trampoline;
  const named = process.env[HELPER_ENV];
  const candidate = named && named !== 'off' && named !== '0' ? named : helperBinaryPath();
  if (existsSync(candidate)) trampoline = candidate;
  return trampoline;
}

/**
 * `command` as the agent should start it itself (a command health check, the fetcher's tools):
 * through the spawn helper's `--exec`, so that it keeps none of the agent's stray descriptors.
 * Without the helper (no C compiler at build time), as given: the command then inherits them while
 * it runs (docs/zookeeper.md).
 */
export function withoutStrayDescriptors<C extends { file: string; args: string[] }>(command: C): C {
  const via = execTrampoline();
  if (!via) return command;
  return { ...command, file: via, args: ['--exec', command.file, ...command.args] };
}
