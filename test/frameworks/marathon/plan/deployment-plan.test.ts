/**
 * The deployment planner's step order: apps start after what they depend on (apps, pods and groups,
 * transitively; a group's dependencies bind every app inside it), stop in reverse, independent apps
 * share a step; a cycle makes no plan.
 */
import { expect } from 'chai';
import { type Group, normalizeGroup } from '../../../../frameworks/marathon/model/index.js';
import {
  CYCLE_MESSAGE,
  dependencyGraph,
  planDeployment,
  rootGroupProblem,
} from '../../../../frameworks/marathon/plan/index.js';

function group(raw: unknown): Group {
  const r = normalizeGroup(raw);
  if (!r.ok) throw new Error(JSON.stringify(r.body));
  return r.value;
}
const EMPTY = group({ id: '/' });
const app = (id: string, extra: Record<string, unknown> = {}) => ({ id, cmd: 'sleep 1000', ...extra });

/** The plan as `Verb id` strings per step. */
function steps(current: Group, target: Group, restart?: string[]): string[][] {
  const r = planDeployment(current, target, { restart });
  if (!r.ok) throw new Error(r.error);
  return r.plan.steps.map((s) =>
    s.actions.map((a) => `${a.action} ${'app' in a ? a.app : a.pod}${'instances' in a ? ` ${a.instances}` : ''}`),
  );
}

// Marathon's examples/Group-2.json shape: a group depending on another group.
const layered = group({
  id: '/product',
  groups: [
    { id: 'database', apps: [app('mongo'), app('mysql')] },
    { id: 'service', dependencies: ['../database'], apps: [app('rails'), app('play', { instances: 2 })] },
    { id: 'frontend', dependencies: ['/product/service'], apps: [app('nginx')] },
  ],
});

describe('marathon/plan planDeployment', () => {
  it('starts a layered group in dependency order: database, then service, then frontend', () => {
    expect(steps(EMPTY, layered)).to.deep.equal([
      [
        'StartApplication /product/database/mongo',
        'StartApplication /product/database/mysql',
        'StartApplication /product/frontend/nginx',
        'StartApplication /product/service/play',
        'StartApplication /product/service/rails',
      ],
      ['ScaleApplication /product/database/mongo 1', 'ScaleApplication /product/database/mysql 1'],
      ['ScaleApplication /product/service/play 2', 'ScaleApplication /product/service/rails 1'],
      ['ScaleApplication /product/frontend/nginx 1'],
    ]);
  });

  it('stops in reverse dependency order', () => {
    expect(steps(layered, EMPTY)).to.deep.equal([
      ['StopApplication /product/frontend/nginx'],
      ['StopApplication /product/service/play', 'StopApplication /product/service/rails'],
      ['StopApplication /product/database/mongo', 'StopApplication /product/database/mysql'],
    ]);
  });

  it('app dependencies are transitive (a → b → c: c, b, a)', () => {
    const g = group({
      id: '/',
      apps: [app('/a', { dependencies: ['/b'] }), app('/b', { dependencies: ['/c'] }), app('/c')],
    });
    expect(steps(EMPTY, g).slice(1)).to.deep.equal([
      ['ScaleApplication /c 1'],
      ['ScaleApplication /b 1'],
      ['ScaleApplication /a 1'],
    ]);
  });

  it('a scale-only change scales; a config change restarts; unchanged apps are left alone', () => {
    const before = group({ id: '/', apps: [app('/a'), app('/b'), app('/c')] });
    const after = group({ id: '/', apps: [app('/a', { instances: 3 }), app('/b', { cmd: 'sleep 2000' }), app('/c')] });
    expect(steps(before, after)).to.deep.equal([['ScaleApplication /a 3', 'RestartApplication /b']]);
    expect(steps(before, before)).to.deep.equal([]);
    expect(steps(before, before, ['/c'])).to.deep.equal([['RestartApplication /c']]);
  });

  it('restarts follow the dependency order too', () => {
    const before = group({ id: '/', apps: [app('/db'), app('/web', { dependencies: ['/db'] })] });
    const after = group({
      id: '/',
      apps: [app('/db', { cmd: 'sleep 3' }), app('/web', { dependencies: ['/db'], cmd: 'sleep 4' })],
    });
    expect(steps(before, after)).to.deep.equal([['RestartApplication /db'], ['RestartApplication /web']]);
  });

  it('pods take part with their own actions', () => {
    const g = group({
      id: '/',
      apps: [app('/web', { dependencies: ['/cache'] })],
      pods: [{ id: '/cache', containers: [{ name: 'c', resources: { cpus: 0.1, mem: 32 } }] }],
    });
    expect(steps(EMPTY, g)).to.deep.equal([
      ['StartPod /cache', 'StartApplication /web'],
      ['ScalePod /cache 1'],
      ['ScaleApplication /web 1'],
    ]);
  });

  it('refuses a dependency cycle, naming it', () => {
    const g = group({ id: '/', apps: [app('/a', { dependencies: ['/b'] }), app('/b', { dependencies: ['/a'] })] });
    const r = planDeployment(EMPTY, g);
    expect(r.ok).to.equal(false);
    if (!r.ok) {
      expect(r.error).to.equal(CYCLE_MESSAGE);
      expect(r.cycle).to.deep.equal(['/a', '/b', '/a']);
    }
  });

  it("the root group's cycle rule answers Marathon's 422", () => {
    const g = group({ id: '/', apps: [app('/a', { dependencies: ['/a2'] }), app('/a2', { dependencies: ['/a'] })] });
    expect(rootGroupProblem(g)).to.deep.equal({
      ok: false,
      status: 422,
      body: {
        message: 'Object is not valid',
        details: [{ path: '/', errors: ['Dependency graph has cyclic dependencies.'] }],
      },
    });
    expect(rootGroupProblem(layered)).to.equal(undefined);
  });

  it('a cycle through group dependencies is a cycle', () => {
    const g = group({
      id: '/',
      groups: [
        { id: '/x', dependencies: ['/y'], apps: [app('/x/a')] },
        { id: '/y', dependencies: ['/x'], apps: [app('/y/b')] },
      ],
    });
    expect(planDeployment(EMPTY, g).ok).to.equal(false);
  });

  it('group dependencies bind every app inside, nested groups included', () => {
    const g = group({
      id: '/',
      groups: [
        { id: '/db', apps: [app('/db/pg')] },
        { id: '/web', dependencies: ['/db'], groups: [{ id: '/web/inner', apps: [app('/web/inner/app')] }] },
      ],
    });
    expect([...(dependencyGraph(g).get('/web/inner/app') ?? [])]).to.deep.equal(['/db/pg']);
  });
});
