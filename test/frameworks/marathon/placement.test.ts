import type { Offer } from 'agora/sdk';
import { expect } from 'chai';
import { OfferPool, place, requestedPorts } from '../../../frameworks/marathon/core/placement.js';
import { normaliseApp } from '../../../frameworks/marathon/core/spec.js';

function offer(extra: Partial<Offer> = {}, role = '*'): Offer {
  return {
    id: 'o1',
    framework_id: 'f',
    agent_id: 'a1',
    hostname: 'h1',
    attributes: { rack: 'r1' },
    allocation_role: role,
    resources: [
      { name: 'cpus', type: 'SCALAR', scalar: { value: 1 } },
      { name: 'cpus', type: 'SCALAR', scalar: { value: 1 }, role: 'web' },
      { name: 'mem', type: 'SCALAR', scalar: { value: 256 } },
      { name: 'ports', type: 'RANGES', ranges: { range: [{ begin: 31000, end: 31002 }] } },
    ],
    ...extra,
  };
}

describe('marathon placement on one offer', () => {
  it('packs instances until a resource runs out, naming it; counts "*" once', () => {
    const app = normaliseApp({ id: '/a', cmd: 'sleep 1', cpus: 0.4, mem: 16, portDefinitions: [] });
    const pool = new OfferPool(offer());
    expect(place(app, pool, []).ok).to.equal(true);
    expect(place(app, pool, []).ok).to.equal(true);
    const third = place(app, pool, []);
    expect(third).to.deep.equal({ ok: false, reason: 'InsufficientCpus' });
  });

  it('uses resources reserved for its role beside unreserved ones (an app in role "*" only unreserved)', () => {
    const app = { ...normaliseApp({ id: '/a', cmd: 'sleep 1', cpus: 1.5, mem: 16, portDefinitions: [] }), role: 'web' };
    const fit = place(app, new OfferPool(offer({}, 'web')), []);
    expect(fit.ok).to.equal(true);
    if (fit.ok)
      expect(fit.resources.filter((r) => r.name === 'cpus').map((r) => r.role ?? '*')).to.deep.equal(['*', 'web']);
    expect(place({ ...app, role: '*' }, new OfferPool(offer({}, 'web')), []).ok).to.equal(false);
  });

  it('takes any free ports, the exact ones with requirePorts, and says InsufficientPorts when they are gone', () => {
    const any = normaliseApp({
      id: '/a',
      cmd: 'sleep 1',
      cpus: 0.1,
      mem: 16,
      portDefinitions: [{ port: 0 }, { port: 0 }],
    });
    const pool = new OfferPool(offer());
    const fit = place(any, pool, []);
    expect(fit.ok && fit.ports).to.deep.equal([31000, 31001]);
    expect(place(any, pool, [])).to.deep.equal({ ok: false, reason: 'InsufficientPorts' });
    const fixed = normaliseApp({
      id: '/b',
      cmd: 'sleep 1',
      cpus: 0.1,
      mem: 16,
      requirePorts: true,
      portDefinitions: [{ port: 31002 }],
    });
    expect(requestedPorts(fixed)).to.deep.equal([31002]);
    const p2 = new OfferPool(offer());
    const f2 = place(fixed, p2, []);
    expect(f2.ok && f2.ports).to.deep.equal([31002]);
    expect(place(fixed, p2, []).ok).to.equal(false);
  });

  it('rejects on a constraint, naming it, before looking at resources', () => {
    const app = normaliseApp({
      id: '/a',
      cmd: 'sleep 1',
      cpus: 100,
      mem: 16,
      constraints: [['rack', 'LIKE', 'r[2-3]']],
    });
    expect(place(app, new OfferPool(offer()), [])).to.deep.equal({
      ok: false,
      reason: 'UnfulfilledConstraint',
      constraint: 'rack:LIKE:r[2-3]',
    });
    const unique = normaliseApp({
      id: '/u',
      cmd: 'sleep 1',
      cpus: 0.1,
      mem: 16,
      constraints: [['hostname', 'UNIQUE']],
    });
    expect(place(unique, new OfferPool(offer()), [{ hostname: 'h1', agentId: 'a1', attributes: {} }]).ok).to.equal(
      false,
    );
  });
});
