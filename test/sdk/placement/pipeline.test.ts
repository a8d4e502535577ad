/**
 * The placement pipeline: each offer is refused for the first failing reason, in Marathon's order;
 * a tally counts offers per reason and per constraint; a fit says which resources and ports to take.
 */
import { expect } from 'chai';
import fc from 'fast-check';
import {
  type OfferView,
  type PlacementSpec,
  packOffer,
  pickPorts,
  place,
  RejectionReason,
  RejectionTally,
} from '../../../sdk/placement/index.js';
import type { Resource } from '../../../sdk/resources/index.js';

const scalar = (name: string, value: number, role?: string): Resource => ({
  name,
  type: 'SCALAR',
  scalar: { value },
  ...(role ? { role } : {}),
});
const ports = (begin: number, end: number, role?: string): Resource => ({
  name: 'ports',
  type: 'RANGES',
  ranges: { range: [{ begin, end }] },
  ...(role ? { role } : {}),
});

const offer = (resources: Resource[], hostname = 'h1', attributes: Record<string, string> = {}): OfferView => ({
  agentId: `a-${hostname}`,
  hostname,
  attributes,
  resources,
});
const big = (hostname = 'h1', attributes: Record<string, string> = {}) =>
  offer(
    [scalar('cpus', 4), scalar('mem', 4096), scalar('disk', 10_000), scalar('gpus', 1), ports(31000, 31010)],
    hostname,
    attributes,
  );

const spec = (over: Partial<PlacementSpec> = {}): PlacementSpec => ({
  cpus: 1,
  mem: 128,
  disk: 0,
  gpus: 0,
  ports: [0],
  constraints: [],
  instances: 1,
  ...over,
});

describe('sdk/placement pipeline', () => {
  const table: [string, OfferView, PlacementSpec, { backoffUntilMs?: number }, string | undefined][] = [
    ['fits', big(), spec(), {}, undefined],
    ['insufficient cpus', big(), spec({ cpus: 5 }), {}, RejectionReason.InsufficientCpus],
    ['insufficient mem', big(), spec({ mem: 5000 }), {}, RejectionReason.InsufficientMemory],
    ['insufficient disk', big(), spec({ disk: 20_000 }), {}, RejectionReason.InsufficientDisk],
    ['insufficient gpus', big(), spec({ gpus: 2 }), {}, RejectionReason.InsufficientGpus],
    [
      'insufficient ports (count)',
      big(),
      spec({ ports: new Array(12).fill(0) }),
      {},
      RejectionReason.InsufficientPorts,
    ],
    [
      'insufficient ports (fixed port not offered)',
      big(),
      spec({ ports: [8080] }),
      {},
      RejectionReason.InsufficientPorts,
    ],
    ['fixed port offered', big(), spec({ ports: [31005] }), {}, undefined],
    [
      'unfulfilled role: only reserved resources of another role',
      offer([scalar('cpus', 4, 'other'), scalar('mem', 4096, 'other')]),
      spec({ ports: [] }),
      {},
      RejectionReason.UnfulfilledRole,
    ],
    [
      'acceptedResourceRoles [public] on unreserved resources',
      big(),
      spec({ acceptedResourceRoles: ['slave_public'] }),
      {},
      RejectionReason.UnfulfilledRole,
    ],
    [
      'acceptedResourceRoles [public] on public resources',
      offer([scalar('cpus', 2, 'slave_public'), scalar('mem', 512, 'slave_public'), ports(1, 10, 'slave_public')]),
      spec({ acceptedResourceRoles: ['slave_public'], role: 'slave_public' }),
      {},
      undefined,
    ],
    [
      'constraint',
      big('h1'),
      spec({ constraints: [{ field: 'hostname', operator: 'LIKE', value: 'h2' }] }),
      {},
      RejectionReason.UnfulfilledConstraint,
    ],
    [
      'backoff first, before resources',
      big(),
      spec({ cpus: 99 }),
      { backoffUntilMs: 2000 },
      RejectionReason.DeclinedByBackoff,
    ],
    ['backoff over', big(), spec(), { backoffUntilMs: 500 }, undefined],
    ['cpus before mem', big(), spec({ cpus: 99, mem: 99_999 }), {}, RejectionReason.InsufficientCpus],
    [
      'constraints before resources (Marathon reason funnel)',
      big('h1'),
      spec({ cpus: 99, constraints: [{ field: 'hostname', operator: 'LIKE', value: 'h2' }] }),
      {},
      RejectionReason.UnfulfilledConstraint,
    ],
    [
      'role before constraints',
      offer([scalar('cpus', 4, 'other')]),
      spec({ constraints: [{ field: 'rack', operator: 'IS', value: 'x' }] }),
      {},
      RejectionReason.UnfulfilledRole,
    ],
  ];
  for (const [name, o, s, b, reason] of table) {
    it(`${name} → ${reason ?? 'placed'}`, () => {
      const r = place(o, s, { placed: [], nowMs: 1000, ...b });
      if (reason === undefined) expect(r.ok, JSON.stringify(r)).to.equal(true);
      else expect(r.ok ? 'placed' : r.reason).to.equal(reason);
    });
  }

  it('names the constraint that refused the offer', () => {
    const r = place(big('h1'), spec({ constraints: [{ field: 'hostname', operator: 'UNIQUE' }] }), {
      placed: [{ hostname: 'h1' }],
    });
    expect(r).to.deep.include({ ok: false, reason: RejectionReason.UnfulfilledConstraint, detail: 'hostname:UNIQUE' });
  });

  it('takes scalars from the own role before *, and the lowest free ports', () => {
    const o = offer([scalar('cpus', 0.5, 'web'), scalar('cpus', 2), scalar('mem', 256), ports(31000, 31005)]);
    const r = place(o, spec({ cpus: 1, mem: 128, ports: [0, 31000, 0], role: 'web' }), { placed: [] });
    expect(r.ok).to.equal(true);
    if (!r.ok) return;
    expect(r.ports).to.deep.equal([31001, 31000, 31002]);
    expect(r.resources).to.deep.include({ name: 'cpus', type: 'SCALAR', scalar: { value: 0.5 }, role: 'web' });
    expect(r.resources).to.deep.include({ name: 'cpus', type: 'SCALAR', scalar: { value: 0.5 } });
  });

  it('packs instances on one offer on what the ones before left, counting them as placed', () => {
    const o = offer([scalar('cpus', 2.5), scalar('mem', 1024), ports(31000, 31003)], 'h1');
    const packed = packOffer(o, spec({ cpus: 1, mem: 128, ports: [0] }), { placed: [] }, 10);
    expect(packed.placed.map((p) => p.ports)).to.deep.equal([[31000], [31001]]);
    expect(packed.stoppedBy?.ok === false && packed.stoppedBy.reason).to.equal(RejectionReason.InsufficientCpus);
    expect(packed.placed[1].left.scalar('cpus')).to.equal(0.5);
    expect(packed.placed[1].left.scalar('mem')).to.equal(768);
    const unique = packOffer(o, spec({ constraints: [{ field: 'hostname', operator: 'UNIQUE' }] }), { placed: [] }, 10);
    expect(unique.placed).to.have.length(1);
    expect(unique.stoppedBy).to.deep.include({
      reason: RejectionReason.UnfulfilledConstraint,
      detail: 'hostname:UNIQUE',
    });
    expect(packOffer(o, spec(), { placed: [] }, 1).placed).to.have.length(1);
  });

  it('tallies offers by reason, in pipeline order, and by constraint', () => {
    const t = new RejectionTally();
    const s = spec({ constraints: [{ field: 'hostname', operator: 'UNIQUE' }] });
    t.record(place(big('h1'), s, { placed: [{ hostname: 'h1' }] }), 1);
    t.record(place(big('h1'), s, { placed: [{ hostname: 'h1' }] }), 2);
    t.record(place(big('h2'), spec({ cpus: 9 }), { placed: [] }), 3);
    t.record(place(big('h3'), s, { placed: [] }), 4);
    expect(t.processed).to.equal(4);
    expect(t.unused).to.equal(3);
    expect(t.count(RejectionReason.UnfulfilledConstraint)).to.equal(2);
    expect(t.count(RejectionReason.InsufficientCpus)).to.equal(1);
    expect(t.constraints()).to.deep.equal({ 'hostname:UNIQUE': 2 });
    expect(t.lastUsedAtMs).to.equal(4);
    expect(t.lastUnusedAtMs).to.equal(3);
    const rows = t.summary();
    expect(rows.map((r) => r.reason)[0]).to.equal(RejectionReason.DeclinedByBackoff);
    expect(rows.map((r) => r.reason)).to.deep.equal([
      'DeclinedByBackoff',
      'UnfulfilledRole',
      'UnfulfilledConstraint',
      'InsufficientCpus',
      'InsufficientMemory',
      'InsufficientDisk',
      'InsufficientGpus',
      'InsufficientPorts',
    ]);
    expect(rows.find((r) => r.reason === RejectionReason.UnfulfilledConstraint)).to.deep.equal({
      reason: RejectionReason.UnfulfilledConstraint,
      declined: 2,
      processed: 4,
    });
    expect(rows.find((r) => r.reason === RejectionReason.InsufficientCpus)).to.deep.equal({
      reason: RejectionReason.InsufficientCpus,
      declined: 1,
      processed: 2,
    });
  });

  it('property: placing offer after offer never breaks UNIQUE, MAX_PER or CLUSTER', () => {
    const hostArb = fc.record({ host: fc.integer({ min: 0, max: 5 }), rack: fc.integer({ min: 0, max: 2 }) });
    fc.assert(
      fc.property(fc.array(hostArb, { maxLength: 60 }), fc.integer({ min: 1, max: 3 }), (offers, maxPer) => {
        const s = spec({
          ports: [],
          constraints: [
            { field: 'hostname', operator: 'UNIQUE' },
            { field: 'rack', operator: 'MAX_PER', value: String(maxPer) },
            { field: 'zone', operator: 'CLUSTER' },
          ],
          instances: 100,
        });
        const placed: { hostname: string; attributes: Record<string, string> }[] = [];
        for (const o of offers) {
          const attributes = { rack: `r${o.rack}`, zone: o.host % 2 === 0 ? 'even' : 'odd' };
          const r = place(big(`h${o.host}`, attributes), s, { placed });
          if (r.ok) placed.push({ hostname: `h${o.host}`, attributes });
          const hosts = placed.map((p) => p.hostname);
          if (new Set(hosts).size !== hosts.length) return false;
          for (const rack of ['r0', 'r1', 'r2'])
            if (placed.filter((p) => p.attributes.rack === rack).length > maxPer) return false;
          if (new Set(placed.map((p) => p.attributes.zone)).size > 1) return false;
        }
        return true;
      }),
    );
  });

  it('property: picked ports are distinct, offered, and include every fixed port', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ begin: fc.integer({ min: 1, max: 200 }), len: fc.integer({ min: 0, max: 20 }) }), {
          maxLength: 5,
        }),
        fc.array(fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 230 })), { maxLength: 12 }),
        (rs, wanted) => {
          const ranges = rs.map((r) => ({ begin: r.begin, end: r.begin + r.len })).sort((a, b) => a.begin - b.begin);
          const merged: { begin: number; end: number }[] = [];
          for (const r of ranges) {
            const last = merged[merged.length - 1];
            if (last && r.begin <= last.end + 1) last.end = Math.max(last.end, r.end);
            else merged.push({ ...r });
          }
          const got = pickPorts(merged, wanted);
          const offered = (p: number) => merged.some((r) => p >= r.begin && p <= r.end);
          const free = merged.reduce((n, r) => n + r.end - r.begin + 1, 0);
          const fixed = wanted.filter((p) => p !== 0);
          const feasible = fixed.every(offered) && new Set(fixed).size === fixed.length && wanted.length <= free;
          if (!got) return !feasible;
          return (
            got.length === wanted.length &&
            new Set(got).size === got.length &&
            got.every(offered) &&
            wanted.every((p, i) => p === 0 || got[i] === p)
          );
        },
      ),
    );
  });
});
