/**
 * The docker containerizer's pure room: TaskInfo → the engine's create body, table-driven, no
 * engine needed. Each row names the task and what the body must hold.
 */
import { expect } from 'chai';
import type Docker from 'dockerode';
import {
  containerConfig,
  containerName,
  hostPortFor,
  parseSize,
  resolvePortMappings,
} from '../../../agent/containerizer/docker/index.js';
import { ContainerLaunchError, type LaunchSpec } from '../../../agent/containerizer/types.js';
import type { DockerInfo, TaskInfo } from '../../../sdk/protocol/types.js';
import type { Resource } from '../../../sdk/resources/resources.js';

const IMAGE = 'agora/busybox:latest';
const scalar = (name: string, value: number): Resource => ({ name, type: 'SCALAR', scalar: { value } });
const ports = (begin: number, end = begin): Resource => ({
  name: 'ports',
  type: 'RANGES',
  ranges: { range: [{ begin, end }] },
});

function task(extra: Partial<TaskInfo> = {}, docker: Partial<DockerInfo> = {}): TaskInfo {
  return {
    name: 't',
    task_id: 'web.1',
    agent_id: 'a1',
    resources: [scalar('cpus', 0.5), scalar('mem', 64)],
    command: { value: 'echo hi' },
    ...extra,
    container: { type: 'DOCKER', docker: { image: IMAGE, ...docker }, ...extra.container },
  };
}

const spec = (t: TaskInfo): LaunchSpec => ({
  frameworkId: 'fw',
  task: t,
  sandbox: '/var/sandboxes/t',
  env: { A: '1' },
  agentId: 'a1',
});

type Body = Docker.ContainerCreateOptions;

interface Row {
  what: string;
  task: TaskInfo;
  opts?: { sandboxDirectory?: string; cfsQuota?: boolean };
  expect: (b: Body) => void;
}

const rows: Row[] = [
  {
    what: 'a shell command runs through /bin/sh -c',
    task: task(),
    expect: (b) => {
      expect(b.Entrypoint).to.deep.equal(['/bin/sh', '-c']);
      expect(b.Cmd).to.deep.equal(['echo hi']);
    },
  },
  {
    what: 'shell false keeps the image entrypoint and passes value + arguments',
    task: task({ command: { shell: false, value: '/bin/echo', arguments: ['a', 'b'] } }),
    expect: (b) => {
      expect(b.Entrypoint).to.equal(undefined);
      expect(b.Cmd).to.deep.equal(['/bin/echo', 'a', 'b']);
    },
  },
  {
    what: 'arguments alone go to the image entrypoint',
    task: task({ command: { shell: false, arguments: ['-c', 'echo x'] } }),
    expect: (b) => {
      expect(b.Entrypoint).to.equal(undefined);
      expect(b.Cmd).to.deep.equal(['-c', 'echo x']);
    },
  },
  {
    what: 'cpus become shares and a CFS quota, mem a limit without swap',
    task: task({ resources: [scalar('cpus', 1.5), scalar('mem', 128)] }),
    expect: (b) => {
      expect(b.HostConfig).to.include({
        CpuShares: 1536,
        CpuPeriod: 100_000,
        CpuQuota: 150_000,
        Memory: 128 * 1024 * 1024,
        MemorySwap: 128 * 1024 * 1024,
      });
    },
  },
  {
    what: 'tiny cpus keep the minimum shares and quota',
    task: task({ resources: [scalar('cpus', 0.001)] }),
    expect: (b) => {
      expect(b.HostConfig).to.include({ CpuShares: 2, CpuQuota: 1000 });
      expect(b.HostConfig?.Memory).to.equal(undefined);
    },
  },
  {
    what: 'cfsQuota false sets shares only',
    task: task({ resources: [scalar('cpus', 2)] }),
    opts: { cfsQuota: false },
    expect: (b) => {
      expect(b.HostConfig?.CpuShares).to.equal(2048);
      expect(b.HostConfig?.CpuQuota).to.equal(undefined);
      expect(b.HostConfig?.CpuPeriod).to.equal(undefined);
    },
  },
  {
    what: 'network defaults to host, without a hostname',
    task: task({ container: { type: 'DOCKER', hostname: 'h1' } }),
    expect: (b) => {
      expect(b.HostConfig?.NetworkMode).to.equal('host');
      expect(b.Hostname).to.equal(undefined);
      expect(b.ExposedPorts).to.equal(undefined);
    },
  },
  {
    what: 'NONE network keeps the hostname',
    task: task({ container: { type: 'DOCKER', hostname: 'h1' } }, { network: 'NONE' }),
    expect: (b) => {
      expect(b.HostConfig?.NetworkMode).to.equal('none');
      expect(b.Hostname).to.equal('h1');
    },
  },
  {
    what: 'BRIDGE publishes every mapping on a host port from the task ports',
    task: task(
      { resources: [ports(31000, 31002)] },
      {
        network: 'BRIDGE',
        port_mappings: [
          { host_port: 0, container_port: 80 },
          { host_port: 31000, container_port: 81 },
          { container_port: 53, protocol: 'UDP' } as never,
        ],
      },
    ),
    expect: (b) => {
      expect(b.HostConfig?.NetworkMode).to.equal('bridge');
      expect(b.ExposedPorts).to.deep.equal({ '80/tcp': {}, '81/tcp': {}, '53/udp': {} });
      expect(b.HostConfig?.PortBindings).to.deep.equal({
        '80/tcp': [{ HostPort: '31001' }],
        '81/tcp': [{ HostPort: '31000' }],
        '53/udp': [{ HostPort: '31002' }],
      });
    },
  },
  {
    what: 'volumes: sandbox-relative host paths, mount-relative targets, anonymous volumes',
    task: task({
      container: {
        type: 'DOCKER',
        volumes: [
          { host_path: 'data', container_path: '/data', mode: 'RO' },
          { host_path: '/etc/hosts', container_path: 'hosts', mode: 'RW' },
          { container_path: '/scratch', mode: 'RW' },
        ],
      },
    }),
    expect: (b) => {
      expect(b.HostConfig?.Binds).to.deep.equal([
        '/var/sandboxes/t:/mnt/mesos/sandbox:rw',
        '/var/sandboxes/t/data:/data:ro',
        '/etc/hosts:/mnt/mesos/sandbox/hosts:rw',
      ]);
      expect(b.Volumes).to.deep.equal({ '/scratch': {} });
      expect(b.WorkingDir).to.equal('/mnt/mesos/sandbox');
    },
  },
  {
    what: 'another sandbox directory moves the mount, MESOS_SANDBOX and the working dir',
    task: task(),
    opts: { sandboxDirectory: '/sbx' },
    expect: (b) => {
      expect(b.HostConfig?.Binds).to.deep.equal(['/var/sandboxes/t:/sbx:rw']);
      expect(b.Env).to.include('MESOS_SANDBOX=/sbx');
      expect(b.WorkingDir).to.equal('/sbx');
    },
  },
  {
    what: 'env: the spec, the sandbox and the container name',
    task: task(),
    expect: (b) => {
      expect(b.Env).to.have.members(['A=1', 'MESOS_SANDBOX=/mnt/mesos/sandbox', 'MESOS_CONTAINER_NAME=agora-web.1']);
      expect(b.name).to.equal('agora-web.1');
      expect(b.Image).to.equal(IMAGE);
    },
  },
  {
    what: "labels: the task's, then Agora's (which a task label cannot override)",
    task: task({
      labels: {
        labels: [
          { key: 'team', value: 'x' },
          { key: 'agora.task_id', value: 'forged' },
        ],
      },
    }),
    expect: (b) => {
      expect(b.Labels).to.deep.equal({
        team: 'x',
        'agora.task_id': 'web.1',
        'agora.framework_id': 'fw',
        'agora.agent_id': 'a1',
      });
    },
  },
  {
    what: 'parameters map onto the body',
    task: task(
      {},
      {
        privileged: true,
        parameters: [
          { key: 'user', value: 'nobody' },
          { key: 'env', value: 'B=2' },
          { key: 'label', value: 'k=v' },
          { key: 'cap-add', value: 'NET_ADMIN' },
          { key: 'shm-size', value: '64m' },
          { key: 'memory-swap', value: '-1' },
          { key: 'stop-signal', value: 'SIGINT' },
        ],
      },
    ),
    expect: (b) => {
      expect(b.User).to.equal('nobody');
      expect(b.Env).to.include('B=2');
      expect(b.Labels).to.include({ k: 'v' });
      expect(b.StopSignal).to.equal('SIGINT');
      expect(b.HostConfig).to.include({ Privileged: true, ShmSize: 64 * 1024 * 1024, MemorySwap: -1 });
      expect(b.HostConfig?.CapAdd).to.deep.equal(['NET_ADMIN']);
    },
  },
];

const refused: { what: string; task: TaskInfo; message: RegExp }[] = [
  { what: 'no image', task: task({}, { image: '' }), message: /has no docker image/ },
  {
    what: 'a host port outside the task ports',
    task: task(
      { resources: [ports(31000, 31002)] },
      { network: 'BRIDGE', port_mappings: [{ host_port: 8080, container_port: 80 }] },
    ),
    message: /8080.*31000-31002/,
  },
  {
    what: 'more mappings than ports',
    task: task(
      { resources: [ports(31000)] },
      {
        network: 'BRIDGE',
        port_mappings: [
          { host_port: 0, container_port: 80 },
          { host_port: 0, container_port: 81 },
        ],
      },
    ),
    message: /no host port left.*container port 81/,
  },
  {
    what: 'an unknown parameter',
    task: task({}, { parameters: [{ key: 'pid', value: 'host' }] }),
    message: /unsupported docker parameter 'pid'/,
  },
  {
    what: 'a bad size',
    task: task({}, { parameters: [{ key: 'shm-size', value: 'lots' }] }),
    message: /invalid size 'lots'/,
  },
];

describe('docker containerizer: the create body (pure)', () => {
  for (const row of rows) {
    it(row.what, () => row.expect(containerConfig(spec(row.task), row.opts)));
  }

  for (const row of refused) {
    it(`refuses ${row.what} with a launch error`, () => {
      expect(() => containerConfig(spec(row.task)))
        .to.throw(ContainerLaunchError)
        .with.property('message')
        .that.matches(row.message);
    });
  }

  it('names containers agora-<task id> with docker-safe characters', () => {
    expect(containerName('web.1')).to.equal('agora-web.1');
    expect(containerName('a/b:c d')).to.equal('agora-a_b_c_d');
  });

  it('reaches a BRIDGE container port through its mapped host port, a HOST one directly', () => {
    const bridge = task(
      { resources: [ports(31000, 31001)] },
      { network: 'BRIDGE', port_mappings: [{ host_port: 31001, container_port: 80 }] },
    );
    expect(hostPortFor(bridge, 80)).to.equal(31001);
    expect(hostPortFor(bridge, 81)).to.equal(undefined);
    expect(hostPortFor(task({}, { network: 'HOST' }), 80)).to.equal(undefined);
    expect(resolvePortMappings(task())).to.deep.equal([]);
  });

  it("runs as the task's user when switching; a user parameter naming another is refused, the same one kept", () => {
    const nobody = { name: 'nobody', uid: 65534, gid: 65534, groups: [] };
    expect(containerConfig({ ...spec(task()), user: nobody }).User).to.equal('nobody');
    expect(containerConfig(spec(task())).User, 'no switch: the image decides').to.equal(undefined);
    const same = task({}, { parameters: [{ key: 'user', value: 'nobody' }] });
    expect(containerConfig({ ...spec(same), user: nobody }).User).to.equal('nobody');
    const other = task({}, { parameters: [{ key: 'user', value: 'root' }] });
    expect(() => containerConfig({ ...spec(other), user: nobody }))
      .to.throw(ContainerLaunchError, /user=root conflicts with the task's user 'nobody'/)
      .with.property('reason', 'REASON_TASK_INVALID');
    expect(containerConfig(spec(other)).User, 'no switch: the parameter stands').to.equal('root');
  });

  it('parses sizes in bytes, k, m and g', () => {
    expect([parseSize('100'), parseSize('2k'), parseSize('1.5m'), parseSize('1g')]).to.deep.equal([
      100,
      2048,
      1.5 * 1024 * 1024,
      1024 ** 3,
    ]);
  });
});
