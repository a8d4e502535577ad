/**
 * A small correctness run of the placement benchmark, against the real master and the stub: no
 * agent over-committed, every task RUNNING exactly once, nothing sent twice (from the simulated
 * agents' and frameworks' own books). No timing is asserted.
 */
import { expect } from 'chai';
import { runPlacementCase } from '../../scripts/bench/placement-run.js';

describe('placement benchmark, tiny (real processes) @integration', function () {
  this.timeout(120_000);

  for (const target of ['agora', 'stub'] as const) {
    it(`${target}: fills to 80%, churns, and every task ran exactly once without over-commit`, async () => {
      const r = await runPlacementCase({
        target,
        agents: 30,
        frameworks: 3,
        tasks: 0,
        agentProcs: 1,
        agentResources: 'cpus:1;mem:1024',
        task: 'cpus:0.1;mem:32',
        slots: 10,
        churnSeconds: 2,
        stallMs: 20_000,
      });
      const phase = (p: string) => r.phases.find((x) => x.phase === p);
      expect(phase('register')?.count).to.equal(30);
      expect(phase('fill')?.complete, 'the fill finished').to.equal(true);
      expect(phase('fill')?.count).to.be.at.least(240);
      expect(phase('churn')?.count, 'tasks replaced during churn').to.be.greaterThan(0);
      expect(r.correct).to.deep.include({ overcommitted: 0, doubled: 0, runningTwice: 0, notRunningOnce: 0, ok: true });
    });
  }
});
