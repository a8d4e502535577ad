/**
 * The exit status a task's launcher records in its sandbox (the code, or 128 + the signal number,
 * as a shell reports it), read back by the posix and linux containerizers for a task that ended
 * while the agent was down.
 */
import { closeSync, constants as fsConstants, fstatSync, openSync, readSync } from 'node:fs';
import { join } from 'node:path';
import { type Clock, systemClock } from '../../sdk/util/clock.js';

/**
 * Where the launcher records the task's exit status (the code, or 128 + the signal number),
 * relative to the sandbox: a restarted agent reads it for a task that ended while it was down.
 */
export const EXIT_STATUS_FILE = '.agora-exit-status';

/** At most this much of the file is read (a status is a few digits). */
const MAX_STATUS_BYTES = 32;

/**
 * The recorded status, or undefined when none (or no number) was recorded. The sandbox may belong
 * to the task's user, so a link, a FIFO or a device in the file's place is not read.
 */
export function readExitStatus(sandbox: string): number | undefined {
  let fd: number | undefined;
  try {
    fd = openSync(
      join(sandbox, EXIT_STATUS_FILE),
      fsConstants.O_RDONLY | fsConstants.O_NOFOLLOW | fsConstants.O_NONBLOCK,
    );
    if (!fstatSync(fd).isFile()) return undefined;
    const buf = Buffer.alloc(MAX_STATUS_BYTES);
    const len = readSync(fd, buf, 0, MAX_STATUS_BYTES, 0);
    const text = buf.subarray(0, len).toString('utf8').trim();
    if (!/^\d{1,3}$/.test(text)) return undefined;
    return Number(text);
  } catch {
    return undefined;
  } finally {
    if (fd !== undefined) closeSync(fd);
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
