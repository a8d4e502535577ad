/**
 * From a normalised app or pod to what one instance asks of an offer: host ports by networking
 * mode and requirePorts, roles, constraints, pod resources with the executor's.
 */
import { expect } from 'chai';
import { type App, normalizeApp, normalizePod, type Pod } from '../../../../frameworks/marathon/model/index.js';
import { placementSpecOfApp, placementSpecOfPod } from '../../../../frameworks/marathon/plan/index.js';

function app(raw: unknown): App {
  const r = normalizeApp(raw);
  if (!r.ok) throw new Error(JSON.stringify(r.body));
  return r.value;
}

describe('marathon/plan placementSpecOfApp', () => {
  it('host networking: one any-port per port definition, the numbers themselves with requirePorts', () => {
    expect(placementSpecOfApp(app({ id: '/a', cmd: 'x y' })).ports).to.deep.equal([0]);
    expect(placementSpecOfApp(app({ id: '/a', cmd: 'x y', portDefinitions: [] })).ports).to.deep.equal([]);
    expect(placementSpecOfApp(app({ id: '/a', cmd: 'x y', ports: [8080, 0] })).ports).to.deep.equal([0, 0]);
    expect(
      placementSpecOfApp(app({ id: '/a', cmd: 'x y', ports: [8080, 8081], requirePorts: true })).ports,
    ).to.deep.equal([8080, 8081]);
  });
  it('BRIDGE: one host port per mapping (0 when unspecified), fixed when given', () => {
    const a = app({
      id: '/b',
      container: {
        docker: {
          image: 'x',
          network: 'BRIDGE',
          portMappings: [{ containerPort: 80 }, { containerPort: 81, hostPort: 9000 }],
        },
      },
    });
    expect(placementSpecOfApp(a).ports).to.deep.equal([0, 9000]);
  });
  it('container networks: only mappings with a hostPort take host ports', () => {
    const a = app({
      id: '/c',
      cmd: 'x y',
      networks: [{ mode: 'container', name: 'dcos' }],
      container: { type: 'MESOS', portMappings: [{ containerPort: 80 }, { containerPort: 81, hostPort: 0 }] },
    });
    expect(placementSpecOfApp(a).ports).to.deep.equal([0]);
  });
  it('resources, roles, constraints and instances', () => {
    const s = placementSpecOfApp(
      app({ id: '/d', cmd: 'x y', cpus: 0.5, mem: 64, disk: 10, instances: 3, constraints: [['hostname', 'unique']] }),
    );
    expect(s).to.deep.include({ cpus: 0.5, mem: 64, disk: 10, gpus: 0, role: '*', instances: 3 });
    expect(s.constraints).to.deep.equal([{ field: 'hostname', operator: 'UNIQUE' }]);
  });
});

describe('marathon/plan placementSpecOfPod', () => {
  it("sums the containers' resources and the executor's; endpoints with hostPort take host ports", () => {
    const r = normalizePod({
      id: '/p',
      containers: [
        { name: 'a', resources: { cpus: 0.5, mem: 64 }, endpoints: [{ name: 'web', hostPort: 0 }, { name: 'x' }] },
        { name: 'b', resources: { cpus: 0.25, mem: 32, disk: 5 } },
      ],
      scheduling: { placement: { constraints: [{ fieldName: 'rack', operator: 'GROUP_BY', value: '2' }] } },
    });
    if (!r.ok) throw new Error(JSON.stringify(r.body));
    const s = placementSpecOfPod(r.value as Pod);
    expect(s).to.deep.include({ cpus: 0.85, mem: 128, disk: 15, gpus: 0, ports: [0], instances: 1 });
    expect(s.constraints).to.deep.equal([{ field: 'rack', operator: 'GROUP_BY', value: '2' }]);
  });
});
