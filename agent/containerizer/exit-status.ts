/**
 * The exit status a task's launcher records in its sandbox (the code, or 128 + the signal number,
 * as a shell reports it), read back by the posix and linux containerizers for a task that ended
 * while the agent was down.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Clock, systemClock } from '../../sdk/util/clock.js';

/**
 * Where the launcher records the task's exit status (the code, or 128 + the signal number),
 * relative to the sandbox: a restarted agent reads it for a task that ended while it was down.
 */
export const EXIT_STATUS_FILE = '.agora-exit-status';

/** The recorded status, or undefined when none (or no number) was recorded. */
export function readExitStatus(sandbox: string): number | undefined {
  try {
    const n = Number.parseInt(readFileSync(join(sandbox, EXIT_STATUS_FILE), 'utf8').trim(), 10);
    return Number.isInteger(n) ? n : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The recorded exit status of a task whose process is gone. The launcher that was its parent
 * writes it just after the process ended, so a missing file is awaited for up to `waitMs`.
 */
export async function awaitExitStatus(
  sandbox: string,
  waitMs = 250,
  clock: Clock = systemClock,
): Promise<number | undefined> {
  for (let waited = 0; ; waited += 50) {
    const code = readExitStatus(sandbox);
    if (code !== undefined || waited >= waitMs) return code;
    await new Promise((r) => clock.setTimeout(() => r(undefined), 50));
  }
}
