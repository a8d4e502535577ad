/**
 * The CI slice of the fuzz script: 2,000 generated inputs (fixed seed) against a real master and
 * agent started through bin/agora. Fails on a crash, a refusal without `{code, message}`, or a
 * state change after refused input. Findings are printed shrunk-free, with the input that showed
 * each, so a failure here reads like the full run's report (`npm run fuzz`).
 */
import { expect } from 'chai';
import { type FuzzResult, runFuzz } from '../../scripts/fuzz/fuzz.js';
import { findingsText, summaryTable } from '../../scripts/fuzz/report.js';

const INPUTS = Number(process.env.AGORA_FUZZ_INPUTS ?? 2000);
const SEED = Number(process.env.AGORA_FUZZ_SEED ?? 20261130);

describe('fuzz: generated hostile input against a running master and agent @integration @fuzz', function () {
  this.timeout(30 * 60_000);
  let result: FuzzResult;

  before(async () => {
    result = await runFuzz({ inputs: INPUTS, seed: SEED, lanes: 1, minimise: false, timeLimitMs: 20 * 60_000 });
    console.log(`\n${summaryTable(result)}\n`);
  });

  const of = (kinds: string[]) => findingsText(result.findings.filter((f) => kinds.includes(f.kind))) || '(none)';

  it(`sends all ${INPUTS} inputs, to routes that exist`, () => {
    expect(result.inputsSent, 'inputs sent').to.equal(INPUTS);
    expect(result.staleRoutes, 'routes of scripts/fuzz/routes.ts that answer 404: update the table').to.deep.equal([]);
    expect(result.unsendable, 'inputs the fuzzer could not send').to.equal(0);
  });

  it('no process dies or stops answering', () => {
    expect(result.crashes, `crashes:\n${of(['crash'])}`).to.equal(0);
  });

  it('every refusal, 4xx or 5xx, carries {code, message}', () => {
    expect(result.answersWithoutCode, `answers without a code:\n${of(['no-code'])}`).to.equal(0);
  });

  it('refused input changes no state', () => {
    expect(result.stateChangesAfterRefusal, `state changes:\n${of(['state-change'])}`).to.equal(0);
  });
});
