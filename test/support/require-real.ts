/**
 * Tests that need a real component (ZooKeeper, Docker, cgroups, namespaces) call `requireReal`
 * in their `before` hook. Under CI (`CI=true`) a missing component FAILS the suite; on a
 * developer's machine it skips the suite, loudly, with the command that would provide it.
 */
export interface Availability {
  ok: boolean;
  /** Why it is missing, and what to run to get it. */
  reason?: string;
}

export function inCI(): boolean {
  return process.env.CI === 'true' || process.env.CI === '1';
}

export function requireReal(ctx: Mocha.Context, what: string, availability: Availability): void {
  if (availability.ok) return;
  const why = `${what} is not available: ${availability.reason ?? 'unknown reason'}`;
  if (inCI()) throw new Error(`${why} (CI=true: tests that need ${what} must run)`);
  const line = '!'.repeat(78);
  console.warn(`\n${line}\n!! SKIPPING: ${why}\n${line}\n`);
  ctx.skip();
}
