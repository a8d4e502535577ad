/**
 * A bounded smoke run of the generators for the newer surfaces against real processes: Mesos's v1
 * scheduler HTTP API (with the stream-holding fixture framework), Marathon's REST API (a real
 * `bin/agora marathon`) and Chronos/Metronome's (a real `bin/agora chronos`). Seconds, not minutes: the full runs are `npm run fuzz -- --surfaces ...`.
 */
import { expect } from 'chai';
import { runFuzz } from '../../scripts/fuzz/fuzz.js';
import { findingsText, summaryTable } from '../../scripts/fuzz/report.js';

const INPUTS = Number(process.env.AGORA_FUZZ_SMOKE_INPUTS ?? 60);

for (const surface of ['mesos', 'marathon', 'chronos']) {
  describe(`fuzz smoke: ${surface} surface @integration @fuzz`, function () {
    this.timeout(10 * 60_000);

    it(`${INPUTS} inputs: no crash, every refusal coded, no 5xx, no state change after refusal`, async () => {
      const r = await runFuzz({ inputs: INPUTS, seed: 20261130, lanes: 1, minimise: false, surfaces: [surface] });
      const text = `${summaryTable(r)}\n${findingsText(r.findings)}`;
      expect(r.inputsSent, text).to.equal(INPUTS);
      expect(r.unsendable, text).to.equal(0);
      expect(r.staleRoutes, text).to.deep.equal([]);
      expect(r.crashes, text).to.equal(0);
      expect(r.answersWithoutCode, text).to.equal(0);
      expect(r.serverErrors, text).to.equal(0);
      expect(r.stateChangesAfterRefusal, text).to.equal(0);
      expect(r.invariantViolations, text).to.equal(0);
      expect(Object.keys(r.byKind).length, text).to.be.greaterThan(0);
    });
  });
}
