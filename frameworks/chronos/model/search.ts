/**
 * Small pure helpers for the Chronos routes: `GET jobs/search` filtering and the command of a manual
 * run with `?arguments=`.
 */
import type { Job } from './job.js';

export interface SearchQuery {
  name?: string;
  command?: string;
  any?: string;
  /** Chronos's default: 10. */
  limit?: number;
  offset?: number;
}

/** Most jobs one search answers with. */
export const MAX_SEARCH_LIMIT = 10_000;

/**
 * Chronos's `jobs/search`: `name` and `command` are case-insensitive substrings that must both match
 * when given; `any` matches the name or the command, and admits a job the other two rejected.
 * (Chronos ignored `any` when it was the only parameter; here it filters.) Results in name order,
 * then `offset` and `limit` (10 by default).
 */
export function searchJobs<J extends Pick<Job, 'name' | 'command'>>(jobs: readonly J[], q: SearchQuery): J[] {
  const lc = (s: string | undefined) => (s ? s.toLowerCase() : '');
  const name = lc(q.name);
  const command = lc(q.command);
  const any = lc(q.any);
  const limit = Math.max(0, Math.min(q.limit ?? 10, MAX_SEARCH_LIMIT));
  const offset = Math.max(0, q.offset ?? 0);
  const hits = jobs.filter((j) => {
    const n = j.name.toLowerCase();
    const c = j.command.toLowerCase();
    let valid = (!name || n.includes(name)) && (!command || c.includes(command));
    if (!name && !command && any) valid = false;
    if (!valid && any && (n.includes(any) || c.includes(any))) valid = true;
    return valid;
  });
  return [...hits].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)).slice(offset, offset + limit);
}

/** Longest `?arguments=` accepted. */
export const MAX_RUN_ARGUMENTS = 8192;

/**
 * The command and arguments of a manual run with `?arguments=…` (Chronos appends them to the
 * command). For a job without `shell`, the text is split on whitespace into extra arguments
 * instead, so the executable name stays intact.
 */
export function withRunArguments(
  job: Pick<Job, 'command' | 'shell' | 'arguments'>,
  args: string,
): { command: string; arguments: string[] } | { error: string } {
  if (args.length > MAX_RUN_ARGUMENTS) return { error: `arguments longer than ${MAX_RUN_ARGUMENTS} characters` };
  if (args.trim() === '') return { command: job.command, arguments: job.arguments };
  if (job.shell) return { command: `${job.command} ${args}`, arguments: job.arguments };
  return { command: job.command, arguments: [...job.arguments, ...args.trim().split(/\s+/)] };
}
