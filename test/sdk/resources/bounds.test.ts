/**
 * Quantities are bounded at every way in (the wire schema, `Resources.from`, `Resources.parse`), so
 * that no sum of accepted values can reach Infinity (issue 9, defect 1).
 */
import { expect } from 'chai';
import fc from 'fast-check';
import { validateMessage } from '../../../sdk/protocol/index.js';
import {
  MAX_PORT,
  MAX_RANGES,
  MAX_SCALAR,
  type Resource,
  ResourceError,
  Resources,
} from '../../../sdk/resources/resources.js';
import { agentMessages } from '../codec/fixtures.js';

function resourceError(fn: () => unknown): ResourceError {
  try {
    fn();
  } catch (e) {
    expect(e).to.be.instanceOf(ResourceError);
    return e as ResourceError;
  }
  expect.fail('expected a ResourceError');
}

const scalar = (value: number): Resource => ({ name: 'cpus', type: 'SCALAR', scalar: { value } });
const ports = (range: { begin: number; end: number }[]): Resource => ({
  name: 'ports',
  type: 'RANGES',
  ranges: { range },
});
const register = (resources: Resource[]) => ({
  ...agentMessages.REGISTER,
  agent: { ...agentMessages.REGISTER.agent, resources },
});

const refused: [string, Resource][] = [
  ['cpus 1e306', scalar(1e306)],
  ['cpus 1e308', scalar(1e308)],
  ['cpus just over MAX_SCALAR', scalar(MAX_SCALAR * 1.000001)],
  ['cpus -1', scalar(-1)],
  ['cpus NaN', scalar(Number.NaN)],
  ['cpus Infinity', scalar(Number.POSITIVE_INFINITY)],
  ['a port above 65535', ports([{ begin: 31000, end: MAX_PORT + 1 }])],
  ['an inverted range', ports([{ begin: 2, end: 1 }])],
  ['a fractional range bound', ports([{ begin: 1.5, end: 2 }])],
  ['a negative range bound', ports([{ begin: -1, end: 2 }])],
  [`${MAX_RANGES + 1} ranges`, ports(Array.from({ length: MAX_RANGES + 1 }, (_, i) => ({ begin: 2 * i, end: 2 * i })))],
  ['a range beyond 2^32 (not ports)', { name: 'ids', type: 'RANGES', ranges: { range: [{ begin: 0, end: 2 ** 32 }] } }],
];

describe('resource bounds', () => {
  for (const [name, r] of refused) {
    it(`refuses ${name}: Resources.from with AGORA_RESOURCES_INVALID, and on the wire`, () => {
      const e = resourceError(() => Resources.from([r]));
      expect(e.code).to.equal('AGORA_RESOURCES_INVALID');
      expect(e.statusCode).to.equal(400);
      expect(() => validateMessage('agent_to_master', register([r])))
        .to.throw(/agent\.resources/)
        .with.property('code', 'AGORA_PROTOCOL_INVALID_MESSAGE');
    });
  }

  it('refuses cpus:1e306 written out in the text form', () => {
    expect(resourceError(() => Resources.parse(`cpus:1${'0'.repeat(306)};mem:1024`)).code).to.equal(
      'AGORA_RESOURCES_INVALID',
    );
    expect(resourceError(() => Resources.scalars({ cpus: 1e306 })).message).to.match(/cpus/);
    expect(resourceError(() => Resources.parse('ports:[31000-65536]')).message).to.match(/65535/);
  });

  it('accepts the bounds themselves', () => {
    expect(Resources.from([scalar(MAX_SCALAR)]).scalar('cpus')).to.equal(MAX_SCALAR);
    expect(Resources.parse(`ports:[0-${MAX_PORT}]`).ranges('ports')).to.deep.equal([{ begin: 0, end: MAX_PORT }]);
    expect(
      validateMessage('agent_to_master', register([scalar(MAX_SCALAR), ports([{ begin: 0, end: MAX_PORT }])])),
    ).to.have.property('type', 'REGISTER');
  });

  it('keeps every sum of accepted quantities finite, even times 100,000 agents', () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: 0, max: MAX_SCALAR, noNaN: true }), { minLength: 1, maxLength: 50 }),
        (values) => {
          let total = Resources.empty();
          for (const v of values) total = total.plus(Resources.scalars({ cpus: v }));
          expect(Number.isFinite(total.scalar('cpus'))).to.equal(true);
          // What the master would hold for a huge cluster: still finite.
          expect(Number.isFinite(total.scalar('cpus') * 100_000)).to.equal(true);
        },
      ),
      { numRuns: 200 },
    );
  });
});
