/**
 * normalizeGroup and normalizePod: nested ids, violation paths inside trees, duplicate ids, depth and
 * count bounds, pod defaults and rules.
 */
import { expect } from 'chai';
import { MAX_GROUP_DEPTH, normalizeGroup, normalizePod } from '../../../../frameworks/marathon/model/index.js';

describe('marathon/model normalizeGroup', () => {
  it('resolves nested relative ids and group dependencies', () => {
    const r = normalizeGroup({
      id: '/prod',
      groups: [
        { id: 'db', apps: [{ id: 'pg', cmd: 'x y' }] },
        { id: 'web', dependencies: ['../db'], apps: [{ id: 'w', cmd: 'x y' }] },
      ],
    });
    expect(r.ok).to.equal(true);
    if (!r.ok) return;
    expect(r.value.groups.map((g) => g.id)).to.deep.equal(['/prod/db', '/prod/web']);
    expect(r.value.groups[0].apps[0].id).to.equal('/prod/db/pg');
    expect(r.value.groups[1].dependencies).to.deep.equal(['/prod/db']);
  });

  it('reports a nested app violation at its path in the tree', () => {
    const r = normalizeGroup({ id: '/g', groups: [{ id: 'h', apps: [{ id: 'a', cmd: 'x y', cpus: -1 }] }] });
    expect(r).to.deep.equal({
      ok: false,
      status: 422,
      body: { message: 'Invalid JSON', details: [{ path: '/groups(0)/apps(0)/cpus', errors: ['error.min'] }] },
    });
  });

  it('reports rule violations with "Object is not valid"', () => {
    const r = normalizeGroup({ id: '/g', apps: [{ id: 'a', cmd: 'x y', args: ['z'] }] });
    expect(r.ok).to.equal(false);
    if (!r.ok) {
      expect(r.body.message).to.equal('Object is not valid');
      expect(r.body.details?.[0].path).to.equal('/apps(0)');
    }
  });

  it('an app that is not a child of its group is refused', () => {
    const r = normalizeGroup({ id: '/g', apps: [{ id: '/elsewhere/a', cmd: 'x y' }] });
    expect(!r.ok && r.body.details).to.deep.equal([
      { path: '/apps(0)/id', errors: ["Identifier is not child of '/g'"] },
    ]);
  });

  it('the same id twice is refused', () => {
    const r = normalizeGroup({ id: '/g', apps: [{ id: 'a', cmd: 'x y' }], groups: [{ id: 'a' }] });
    expect(!r.ok && r.body.details).to.deep.equal([
      { path: '/', errors: ['Groups and Applications may not have the same identifier: /g/a'] },
    ]);
  });

  it('nesting deeper than the bound is refused, not a stack overflow', () => {
    let g: Record<string, unknown> = { id: 'leaf' };
    for (let i = 0; i < MAX_GROUP_DEPTH + 5; i++) g = { id: `g${i}`, groups: [g] };
    const r = normalizeGroup({ ...g, id: '/top' });
    expect(r.ok).to.equal(false);
    if (!r.ok) expect(JSON.stringify(r.body)).to.contain(`nested at most ${MAX_GROUP_DEPTH} deep`);
  });

  it('the posted group may sit deep below where it is posted; its sub-groups must be direct children', () => {
    const r = normalizeGroup({ id: '/a/b/c', apps: [{ id: 'x', cmd: 'x y' }] }, { parentGroupId: '/' });
    expect(r.ok && r.value.apps[0].id).to.equal('/a/b/c/x');
    const rel = normalizeGroup({ id: 'b/c', apps: [] }, { parentGroupId: '/a' });
    expect(rel.ok && rel.value.id).to.equal('/a/b/c');
    const deep = normalizeGroup({ id: '/a', groups: [{ id: '/a/b/c' }] }, { parentGroupId: '/' });
    expect(!deep.ok && deep.body.details).to.deep.equal([
      { path: '/groups(0)/id', errors: ["Identifier is not child of '/a'"] },
    ]);
  });

  it('a group without id is the group it is posted to', () => {
    const r = normalizeGroup({ apps: [{ id: 'a', cmd: 'x y' }] }, { parentGroupId: '/p' });
    expect(r.ok && [r.value.id, r.value.apps[0].id]).to.deep.equal(['/p', '/p/a']);
  });
});

describe('marathon/model normalizePod', () => {
  const pod = {
    id: '/p',
    containers: [{ name: 'web', resources: { cpus: 0.5, mem: 64 }, endpoints: [{ name: 'http', hostPort: 0 }] }],
  };
  it('fills in defaults', () => {
    const r = normalizePod(pod);
    expect(r.ok).to.equal(true);
    if (!r.ok) return;
    expect(r.value.scaling).to.deep.equal({ kind: 'fixed', instances: 1 });
    expect(r.value.scheduling.backoff).to.deep.equal({ backoff: 1, backoffFactor: 1.15, maxLaunchDelay: 300 });
    expect(r.value.scheduling.upgrade).to.deep.equal({ minimumHealthCapacity: 1, maximumOverCapacity: 1 });
    expect(r.value.containers[0].resources).to.deep.equal({ cpus: 0.5, mem: 64, disk: 0, gpus: 0 });
    expect(r.value.executorResources).to.deep.equal({ cpus: 0.1, mem: 32, disk: 10 });
    expect(r.value.networks).to.deep.equal([{ mode: 'host' }]);
  });
  it('refuses unknown volume mounts, duplicate container names and bad constraints', () => {
    const r = normalizePod({
      id: '/p',
      containers: [
        { name: 'a', resources: {}, volumeMounts: [{ name: 'nope', mountPath: '/x' }] },
        { name: 'a', resources: {} },
      ],
      scheduling: { placement: { constraints: [{ fieldName: 'hostname', operator: 'MAX_PER' }] } },
    });
    expect(!r.ok && r.body.details).to.deep.equal([
      { path: '/containers', errors: ['container names are unique'] },
      { path: '/containers(0)/volumeMounts(0)/name', errors: ['is not one of the defined volumes'] },
      { path: '/scheduling/placement/constraints(0)', errors: ['MAX_PER requires an integer value'] },
    ]);
  });
  it('container names follow the DNS label rule', () => {
    const r = normalizePod({ id: '/p', containers: [{ name: 'Web_1', resources: {} }] });
    expect(!r.ok && r.body).to.deep.equal({
      message: 'Invalid JSON',
      details: [{ path: '/containers(0)/name', errors: ['error.pattern'] }],
    });
  });
});
