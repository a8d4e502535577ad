/**
 * Shrinking findings against the live cluster. fast-check replays the lane's run at the finding's
 * index (`path`) with a property that fails while the finding reproduces, so it walks the
 * arbitrary's smaller candidates and keeps the smallest input that still shows the finding.
 */
import fc from 'fast-check';
import { KIND_ORDER } from './checks.js';
import { refusalChanges } from './observe.js';
import { crashSignature, describe, type Finding, type FuzzOptions, type Input, type Runner } from './runner.js';

/** Does `input` still show the finding `f`, replayed alone against the live cluster? */
async function reproduces(r: Runner, f: Finding, input: Input): Promise<string | undefined> {
  const fresh = f.kind === 'crash' || f.kind === 'invariant';
  if (fresh) {
    r.restarts++;
    await r.startCluster();
  }
  const before = f.kind === 'state-change' ? await r.snap() : undefined;
  const o = await r.send(input);
  const hit = o.problems.find((p) => p.signature === f.signature);
  if (hit) return hit.observed;
  if (f.kind === 'crash') {
    await new Promise((res) => setTimeout(res, 1500));
    const why = await r.healthy();
    return why && crashSignature(why) === f.signature ? why : undefined;
  }
  if (f.kind === 'invariant') {
    await new Promise((res) => setTimeout(res, 100));
    const s = await r.snap();
    const v = s && r.violations(s).find((p) => p.signature === f.signature);
    return v ? v.observed : undefined;
  }
  if (f.kind === 'state-change' && before && !o.accepted) {
    await new Promise((res) => setTimeout(res, 50));
    const after = await r.snap();
    const changes = after ? refusalChanges(before.view, after.view) : [];
    return changes.length > 0 ? changes.join('; ') : undefined;
  }
  return undefined;
}

/**
 * Shrinks each finding's first input with fast-check itself: the run is replayed at the finding's
 * index (`path`) with a property that fails while the finding reproduces, so fast-check walks the
 * arbitrary's smaller candidates and reports the smallest that still fails.
 */
export async function minimiseAll(r: Runner, opts: FuzzOptions, arb: fc.Arbitrary<Input>): Promise<void> {
  // The gravest first: the time budget may not cover them all.
  const all = [...r.shared.findings.values()].sort((a, b) => KIND_ORDER.indexOf(a.kind) - KIND_ORDER.indexOf(b.kind));
  const deadline = Date.now() + opts.shrinkTimeMs;
  for (const f of all) {
    if (Date.now() > deadline) break;
    if (f.kind === 'no-answer' && f.count > 50) continue;
    const budget = f.kind === 'crash' || f.kind === 'invariant' ? Math.min(8, opts.shrinkReplays) : opts.shrinkReplays;
    let replays = 0;
    let last: { input: Input; observed: string } | undefined;
    if (!r.cluster.alive()) await r.startCluster();
    const prop = fc.asyncProperty(arb, async (input) => {
      if (replays >= budget || Date.now() > deadline) return true;
      replays++;
      const seen = await reproduces(r, f, input);
      if (seen) last = { input, observed: seen };
      return !seen;
    });
    await fc.check(prop, {
      seed: f.seed,
      path: String(f.firstIndex),
      numRuns: f.firstIndex + 1,
      endOnFailure: false,
    });
    f.shrinkReplays = replays;
    if (last) {
      f.minimised = last.input;
      f.minimisedObserved = last.observed;
      opts.log(`minimised [${f.kind}] ${f.signature} in ${replays} replays:\n    ${describe(last.input)}`);
    }
    if (f.kind === 'crash' || f.kind === 'invariant') await r.startCluster();
  }
}
