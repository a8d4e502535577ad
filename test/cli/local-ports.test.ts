import { expect } from 'chai';
import fc from 'fast-check';
import { DEFAULT_PORTS, localAgentResources } from '../../cli/local-ports.js';
import { Resources } from '../../sdk/resources/resources.js';

function portsOf(text: string): [number, number][] {
  const r = Resources.parse(text)
    .toList()
    .find((x) => x.name === 'ports');
  return (r?.ranges?.range ?? []).map((x) => [x.begin, x.end]);
}

describe('agora local: each agent its own ports (one host)', () => {
  it('splits the default range so that no two agents offer the same port', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 64 }),
        fc.option(fc.constantFrom('cpus:2;mem:2048', 'cpus:1')),
        (n, flag) => {
          const seen = new Set<number>();
          for (let i = 0; i < n; i++) {
            const text = localAgentResources(flag ?? undefined, i, n);
            if (flag) expect(text.startsWith(flag)).to.equal(true);
            const ranges = portsOf(text);
            expect(ranges).to.have.length(1);
            const [b, e] = ranges[0];
            expect(b).to.be.at.least(DEFAULT_PORTS.begin);
            expect(e).to.be.at.most(DEFAULT_PORTS.end);
            expect(e).to.be.at.least(b);
            for (let p = b; p <= e; p++) {
              expect(seen.has(p), `port ${p} offered twice`).to.equal(false);
              seen.add(p);
            }
          }
        },
      ),
    );
  });

  it('keeps ports the flag names (the operator chose them)', () => {
    expect(localAgentResources('cpus:1;ports:[40000-40010]', 1, 2)).to.equal('cpus:1;ports:[40000-40010]');
  });
});
