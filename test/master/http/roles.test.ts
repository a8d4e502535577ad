/** The pure role-change functions behind /weights and /quota: they return the next roles and never touch their input. */
import { expect } from 'chai';
import type { AllocatorRole } from '../../../master/allocator/types.js';
import { InvalidRoleRequest, UnknownQuota } from '../../../master/errors.js';
import { roleNameProblem, withoutQuota, withQuota, withWeights } from '../../../master/roles.js';
import { Resources } from '../../../sdk/resources/resources.js';

function roles(): ReadonlyMap<string, AllocatorRole> {
  return new Map([['web', { name: 'web', weight: 2, quota: { limit: Resources.parse('cpus:4') } }]]);
}

describe('role changes (pure)', () => {
  it('sets weights on a copy, keeping quota', () => {
    const before = roles();
    const next = withWeights(before, [
      { role: 'web', weight: 3 },
      { role: 'batch', weight: 0.5 },
    ]);
    expect(next.get('web')?.weight).to.equal(3);
    expect(next.get('web')?.quota?.limit?.scalar('cpus')).to.equal(4);
    expect(next.get('batch')).to.deep.equal({ name: 'batch', weight: 0.5 });
    expect(before.get('web')?.weight).to.equal(2);
    expect(before.has('batch')).to.equal(false);
  });

  it('refuses the whole list when one role name is bad, naming it', () => {
    const before = roles();
    expect(() =>
      withWeights(before, [
        { role: 'ok', weight: 1 },
        { role: 'a\u0000b', weight: 1 },
      ]),
    ).to.throw(InvalidRoleRequest, /control character/);
    expect([...before.keys()]).to.deep.equal(['web']);
  });

  it('sets and removes quota on copies', () => {
    const before = roles();
    const set = withQuota(before, { role: 'batch', guarantees: { cpus: 1 }, limits: 'cpus:2;mem:128' });
    expect(set.role).to.equal('batch');
    expect(set.roles.get('batch')?.quota?.limit?.scalarTotals()).to.deep.equal({ cpus: 2, mem: 128 });
    expect(before.has('batch')).to.equal(false);
    const removed = withoutQuota(set.roles, 'batch');
    expect(removed.get('batch')).to.deep.equal({ name: 'batch', weight: 1 });
    expect(set.roles.get('batch')?.quota).to.not.equal(undefined);
    expect(() => withoutQuota(removed, 'batch')).to.throw(UnknownQuota);
  });

  it('refuses quota totals out of range even when each entry is in range', () => {
    const entry = { name: 'cpus', type: 'SCALAR' as const, scalar: { value: 9e14 } };
    expect(() => withQuota(roles(), { role: 'x', guarantee: [entry, entry] })).to.throw(
      InvalidRoleRequest,
      /between 0 and/,
    );
  });

  it('refuses a quota that gives a side in both forms, instead of ignoring one (found by the fuzzer)', () => {
    expect(() => withQuota(roles(), { role: 'x', guarantee: [], guarantees: { cpus: -9007199254740992 } })).to.throw(
      InvalidRoleRequest,
      /not both/,
    );
    expect(() => withQuota(roles(), { role: 'x', limit: [], limits: { cpus: 1 } })).to.throw(
      InvalidRoleRequest,
      /not both/,
    );
  });

  it("applies Mesos's role-name rules", () => {
    for (const ok of ['*', 'web', 'eng/backend', 'a.b', 'a-b', 'a%b'])
      expect(roleNameProblem(ok), ok).to.equal(undefined);
    for (const bad of [
      '',
      '/a',
      'a/',
      'a//b',
      '.',
      '..',
      'a/../b',
      '-a',
      'a b',
      'a\nb',
      'a*',
      'a\\b',
      'r'.repeat(257),
    ]) {
      expect(roleNameProblem(bad), JSON.stringify(bad)).to.be.a('string');
    }
  });
});
