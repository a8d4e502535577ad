import { expect } from 'chai';
import { buildTaskInfo, httpHealthCheck, InvalidTaskSpec, take } from '../../../sdk/offers/index.js';
import { Resources } from '../../../sdk/resources/resources.js';

const base = { id: 't1', agentId: 'a1', resources: Resources.parse('cpus:0.5;mem:64') };

describe('sdk/offers TaskInfo builders', () => {
  it('posix: a shell command, env and secret references, no container', () => {
    const t = buildTaskInfo({
      ...base,
      command: 'echo hi',
      env: { A: '1' },
      secretEnv: { DB_PASSWORD: '/prod/db/password' },
      uris: ['http://example/x.tgz'],
      killGraceSeconds: 5,
      labels: { team: 'x' },
    });
    expect(t).to.deep.equal({
      name: 't1',
      task_id: 't1',
      agent_id: 'a1',
      resources: Resources.parse('cpus:0.5;mem:64').toList(),
      command: {
        value: 'echo hi',
        environment: {
          variables: [
            { name: 'A', value: '1' },
            {
              name: 'DB_PASSWORD',
              type: 'SECRET',
              secret: { type: 'REFERENCE', reference: { name: '/prod/db/password' } },
            },
          ],
        },
        uris: [{ value: 'http://example/x.tgz' }],
      },
      kill_policy: { grace_period_seconds: 5 },
      labels: { labels: [{ key: 'team', value: 'x' }] },
    });
  });

  it('linux: a MESOS container for the linux containerizer, with network isolation and secret files', () => {
    const t = buildTaskInfo({
      ...base,
      containerizer: 'linux',
      command: 'sleep 1',
      networkIsolation: true,
      secretFiles: { 'secrets/key': '/k' },
    });
    expect(t.container).to.deep.equal({
      type: 'MESOS',
      containerizer: 'linux',
      network_isolation: true,
      volumes: [
        {
          container_path: 'secrets/key',
          mode: 'RO',
          source: { type: 'SECRET', secret: { type: 'REFERENCE', reference: { name: '/k' } } },
        },
      ],
    });
  });

  it('docker BRIDGE: port mappings take the host ports the offer gave, in order', () => {
    const got = take(
      { resources: Resources.parse('cpus:1;mem:128;ports:[31000-31100]') },
      { cpus: 0.5, mem: 64, anyPorts: 2 },
    );
    if (!got.ok) throw new Error('no fit');
    const t = buildTaskInfo({
      id: 'web',
      agentId: 'a1',
      resources: got.taken,
      docker: {
        image: 'agora/busybox:latest',
        network: 'BRIDGE',
        portMappings: [{ containerPort: 80 }, { containerPort: 443, protocol: 'tcp' }],
      },
      healthCheck: httpHealthCheck(80, '/health'),
    });
    expect(t.command).to.equal(undefined);
    expect(t.container).to.deep.equal({
      type: 'DOCKER',
      docker: {
        image: 'agora/busybox:latest',
        network: 'BRIDGE',
        port_mappings: [
          { host_port: 31000, container_port: 80 },
          { host_port: 31001, container_port: 443, protocol: 'tcp' },
        ],
      },
    });
    expect(t.health_check).to.deep.equal({ type: 'HTTP', http: { port: 80, path: '/health' } });
  });

  it('docker HOST by default', () => {
    const t = buildTaskInfo({ ...base, command: 'sleep 1', docker: { image: 'agora/busybox:latest' } });
    expect(t.container?.docker?.network).to.equal('HOST');
    expect(t.command?.value).to.equal('sleep 1');
  });

  const bad: [string, Parameters<typeof buildTaskInfo>[0], RegExp][] = [
    ['posix without command', { ...base }, /needs a command/],
    ['docker without image', { ...base, containerizer: 'docker' }, /needs docker.image/],
    [
      'port mappings on HOST',
      { ...base, docker: { image: 'x', portMappings: [{ containerPort: 1 }] } },
      /need network BRIDGE/,
    ],
    [
      'more mappings than ports',
      { ...base, docker: { image: 'x', network: 'BRIDGE', portMappings: [{ containerPort: 1 }] } },
      /more port mappings/,
    ],
    [
      "a host port not the task's",
      {
        ...base,
        resources: Resources.parse('ports:[5-5]'),
        docker: { image: 'x', network: 'BRIDGE', portMappings: [{ containerPort: 1, hostPort: 6 }] },
      },
      /not among the task's port/,
    ],
    ['network isolation on posix', { ...base, command: 'x', networkIsolation: true }, /needs containerizer 'linux'/],
    ['an invalid task id', { ...base, id: '../x', command: 'x' }, /task_id/],
    ['an invalid secret name', { ...base, command: 'x', secretEnv: { A: 'relative' } }, /secret/],
  ];
  for (const [name, spec, why] of bad) {
    it(`refuses ${name}`, () => {
      expect(() => buildTaskInfo(spec)).to.throw(InvalidTaskSpec, why);
    });
  }
});
