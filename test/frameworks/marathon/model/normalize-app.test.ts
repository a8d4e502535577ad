/**
 * normalizeApp: Marathon 1.10's defaults, the translation of deprecated fields, the 422 answers
 * (reads in Play's words, then rules in Marathon's), id resolution inside groups, and hostile input.
 */
import { expect } from 'chai';
import {
  type App,
  applyAppUpdate,
  type ErrorBody,
  type NormalizeOptions,
  normalizeApp,
  readAppUpdate,
} from '../../../../frameworks/marathon/model/index.js';

function ok(raw: unknown, opts?: NormalizeOptions): App {
  const r = normalizeApp(raw, opts);
  if (!r.ok) throw new Error(JSON.stringify(r.body));
  return r.value;
}
function refused(raw: unknown, opts?: NormalizeOptions): ErrorBody {
  const r = normalizeApp(raw, opts);
  if (r.ok) throw new Error('accepted');
  expect(r.status).to.equal(422);
  return r.body;
}
const detail = (path: string, error: string) => ({ path, errors: [error] });

describe('marathon/model normalizeApp: defaults', () => {
  it('accepts a one-character cmd (only the empty string is refused)', () => {
    expect(ok({ id: '/a', cmd: 'x' }).cmd).to.equal('x');
  });

  it("fills in Marathon 1.10's defaults", () => {
    const a = ok({ id: 'sleep', cmd: 'sleep 100' });
    expect(a).to.deep.include({
      id: '/sleep',
      instances: 1,
      cpus: 1,
      mem: 128,
      disk: 0,
      gpus: 0,
      executor: '',
      role: '*',
      requirePorts: false,
      backoffSeconds: 1,
      backoffFactor: 1.15,
      maxLaunchDelaySeconds: 300,
      killSelection: 'YOUNGEST_FIRST',
    });
    expect(a.upgradeStrategy).to.deep.equal({ minimumHealthCapacity: 1, maximumOverCapacity: 1 });
    expect(a.unreachableStrategy).to.deep.equal({ inactiveAfterSeconds: 0, expungeAfterSeconds: 0 });
    expect(a.networks).to.deep.equal([{ mode: 'host' }]);
    expect(a.portDefinitions).to.deep.equal([{ port: 0, protocol: 'tcp' }]);
    expect(a).to.deep.include({
      env: {},
      labels: {},
      secrets: {},
      fetch: [],
      constraints: [],
      healthChecks: [],
      dependencies: [],
    });
  });

  it('health check defaults per protocol, portIndex 0 when the app declares ports', () => {
    // Without declared ports Marathon leaves portIndex out (the one default port is implied).
    expect(ok({ id: '/hc', cmd: 'x y', healthChecks: [{}] }).healthChecks[0].portIndex).to.equal(undefined);
    const a = ok({
      id: '/hc',
      cmd: 'x y',
      portDefinitions: [{ port: 0 }],
      healthChecks: [{ protocol: 'HTTP' }, { protocol: 'TCP' }, { protocol: 'COMMAND', command: { value: 'true' } }],
    });
    expect(a.healthChecks[0]).to.deep.equal({
      protocol: 'HTTP',
      gracePeriodSeconds: 300,
      intervalSeconds: 60,
      timeoutSeconds: 20,
      maxConsecutiveFailures: 3,
      delaySeconds: 15,
      ignoreHttp1xx: false,
      portIndex: 0,
    });
    expect(a.healthChecks[1].portIndex).to.equal(0);
    expect(a.healthChecks[2].portIndex).to.equal(undefined);
  });

  it('readiness check defaults (httpStatusCodesForReady [200])', () => {
    const a = ok({
      id: '/r',
      cmd: 'x y',
      portDefinitions: [{ port: 0, name: 'http-api' }],
      readinessChecks: [{}],
    });
    expect(a.readinessChecks[0]).to.deep.equal({
      name: 'readinessCheck',
      protocol: 'HTTP',
      path: '/',
      portName: 'http-api',
      intervalSeconds: 30,
      timeoutSeconds: 10,
      httpStatusCodesForReady: [200],
      preserveLastResponse: false,
    });
  });

  it('resident apps (persistent volumes) default to unreachable disabled and 0.5/0', () => {
    const a = ok({
      id: '/db',
      cmd: 'x y',
      container: { type: 'MESOS', volumes: [{ containerPath: 'data', mode: 'RW', persistent: { size: 10 } }] },
    });
    expect(a.unreachableStrategy).to.equal('disabled');
    expect(a.upgradeStrategy).to.deep.equal({ minimumHealthCapacity: 0.5, maximumOverCapacity: 0 });
  });
});

describe('marathon/model normalizeApp: deprecated fields', () => {
  it('uris → fetch, with extract by extension', () => {
    const a = ok({ id: '/u', cmd: 'x y', uris: ['http://h/a.tgz', 'http://h/b.jar'] });
    expect(a.fetch).to.deep.equal([
      { uri: 'http://h/a.tgz', extract: true, executable: false, cache: false },
      { uri: 'http://h/b.jar', extract: false, executable: false, cache: false },
    ]);
  });
  it('ports → portDefinitions', () => {
    const a = ok({ id: '/p', cmd: 'x y', ports: [0, 8080] });
    expect(a.portDefinitions).to.deep.equal([
      { port: 0, protocol: 'tcp' },
      { port: 8080, protocol: 'tcp' },
    ]);
  });
  it('docker.network BRIDGE + docker.portMappings → networks + container.portMappings with hostPort 0', () => {
    const a = ok({
      id: '/b',
      container: {
        type: 'DOCKER',
        docker: { image: 'nginx', network: 'BRIDGE', portMappings: [{ containerPort: 80 }] },
      },
    });
    expect(a.networks).to.deep.equal([{ mode: 'container/bridge' }]);
    expect(a.container?.portMappings).to.deep.equal([
      { containerPort: 80, hostPort: 0, servicePort: 0, protocol: 'tcp' },
    ]);
    expect(a.portDefinitions).to.equal(undefined);
    expect(a.container?.docker).to.not.have.property('network');
  });
  it('docker.network HOST drops port mappings and keeps port definitions', () => {
    const a = ok({ id: '/h', container: { docker: { image: 'nginx', network: 'HOST' } }, ports: [0] });
    expect(a.networks).to.deep.equal([{ mode: 'host' }]);
    expect(a.container?.type).to.equal('DOCKER');
    expect(a.portDefinitions).to.deep.equal([{ port: 0, protocol: 'tcp' }]);
  });
  it('ipAddress → a container network (and a MESOS container when none is given)', () => {
    const a = ok({
      id: '/i',
      cmd: 'x y',
      ipAddress: { networkName: 'dcos', discovery: { ports: [{ name: 'p', number: 7 }] } },
    });
    expect(a.networks).to.deep.equal([{ mode: 'container', name: 'dcos' }]);
    expect(a.container?.type).to.equal('MESOS');
    expect(a.container?.portMappings).to.deep.equal([{ containerPort: 7, name: 'p', protocol: 'tcp', servicePort: 0 }]);
  });
  it('numbers sent as text become numbers; other text does not', () => {
    const a = ok({
      id: '/n',
      cmd: 'x y',
      cpus: '0.5',
      mem: '64',
      instances: '3',
      upgradeStrategy: { minimumHealthCapacity: '0.5' },
    });
    expect([a.cpus, a.mem, a.instances, a.upgradeStrategy.minimumHealthCapacity]).to.deep.equal([0.5, 64, 3, 0.5]);
    expect(refused({ id: '/n', cmd: 'x y', cpus: 'lots' })).to.deep.equal({
      message: 'Invalid JSON',
      details: [detail('/cpus', 'error.expected.jsnumber')],
    });
    expect(ok({ id: '/n', cmd: 'x y', env: { N: '5' } }).env.N).to.equal('5');
  });
  it('acceptedResourceRoles outside * and the role are sanitised to * by default, refused when asked', () => {
    expect(ok({ id: '/r', cmd: 'x y', acceptedResourceRoles: ['slave_public'] }).acceptedResourceRoles).to.deep.equal([
      '*',
    ]);
    expect(
      refused(
        { id: '/r', cmd: 'x y', acceptedResourceRoles: ['slave_public'] },
        { sanitizeAcceptedResourceRoles: false },
      ),
    ).to.deep.equal({
      message: 'Object is not valid',
      details: [detail('/acceptedResourceRoles', 'acceptedResourceRoles can only contain * and *')],
    });
  });
});

describe('marathon/model normalizeApp: definitions saved from GET /v2/apps', () => {
  it('null fields are absent and status fields are ignored (a saved 1.4-style GET output re-posts)', () => {
    const saved = {
      id: '/web',
      cmd: null,
      args: null,
      user: null,
      env: {},
      instances: 2,
      cpus: 0.1,
      mem: 64,
      disk: 0,
      gpus: 0,
      executor: '',
      constraints: [],
      uris: [],
      fetch: [],
      storeUrls: [],
      backoffSeconds: 1,
      backoffFactor: 1.15,
      maxLaunchDelaySeconds: 3600,
      container: {
        type: 'DOCKER',
        volumes: [],
        docker: {
          image: 'nginx',
          network: 'BRIDGE',
          portMappings: [{ containerPort: 80, hostPort: 0, servicePort: 10000, protocol: 'tcp', labels: {} }],
          privileged: false,
          parameters: [],
          forcePullImage: false,
        },
      },
      healthChecks: [],
      readinessChecks: [],
      dependencies: [],
      upgradeStrategy: { minimumHealthCapacity: 1, maximumOverCapacity: 1 },
      labels: {},
      ipAddress: null,
      version: '2017-01-01T00:00:00.000Z',
      residency: null,
      secrets: {},
      taskKillGracePeriodSeconds: null,
      versionInfo: { lastScalingAt: '2017-01-01T00:00:00.000Z', lastConfigChangeAt: '2017-01-01T00:00:00.000Z' },
      tasksStaged: 0,
      tasksRunning: 2,
      tasksHealthy: 0,
      tasksUnhealthy: 0,
      deployments: [],
    };
    const a = ok(saved);
    expect(a.cmd).to.equal(undefined);
    expect(a.networks).to.deep.equal([{ mode: 'container/bridge' }]);
    expect(a.container?.portMappings?.[0]).to.deep.include({ containerPort: 80, servicePort: 10000 });
    expect(a).to.not.have.property('tasksRunning');
    expect(a.maxLaunchDelaySeconds).to.equal(3600);
  });
});

describe('marathon/model normalizeApp: 422 answers', () => {
  const table: [string, unknown, ErrorBody][] = [
    [
      'cmd and args',
      { id: '/a', cmd: 'sleep 1', args: ['sleep', '1'] },
      {
        message: 'Object is not valid',
        details: [detail('/', "AppDefinition must either contain one of 'cmd' or 'args', and/or a 'container'.")],
      },
    ],
    [
      'neither cmd, args nor container',
      { id: '/a' },
      {
        message: 'Object is not valid',
        details: [detail('/', "AppDefinition must either contain one of 'cmd' or 'args', and/or a 'container'.")],
      },
    ],
    ['id missing', { cmd: 'x y' }, { message: 'Invalid JSON', details: [detail('/id', 'error.path.missing')] }],
    ['cpus 0', { id: '/a', cmd: 'x y', cpus: 0 }, { message: 'Invalid JSON', details: [detail('/cpus', 'error.min')] }],
    [
      'mem negative',
      { id: '/a', cmd: 'x y', mem: -1 },
      { message: 'Invalid JSON', details: [detail('/mem', 'error.min')] },
    ],
    [
      'instances fraction',
      { id: '/a', cmd: 'x y', instances: 1.5 },
      { message: 'Invalid JSON', details: [detail('/instances', 'error.expected.jsnumber')] },
    ],
    [
      'upgradeStrategy above 1',
      { id: '/a', cmd: 'x y', upgradeStrategy: { minimumHealthCapacity: 1.2 } },
      { message: 'Invalid JSON', details: [detail('/upgradeStrategy/minimumHealthCapacity', 'error.max')] },
    ],
    [
      'killSelection unknown',
      { id: '/a', cmd: 'x y', killSelection: 'RANDOM' },
      { message: 'Invalid JSON', details: [detail('/killSelection', 'error.unknown.enum.literal')] },
    ],
    ['cmd empty', { id: '/a', cmd: '' }, { message: 'Invalid JSON', details: [detail('/cmd', 'error.minLength')] }],
    [
      'upper-case id',
      { id: '/MyApp', cmd: 'x y' },
      {
        message: 'Object is not valid',
        details: [
          detail(
            '/id',
            "must fully match regular expression '^(([a-z0-9]|[a-z0-9][a-z0-9\\-]*[a-z0-9])\\.)*([a-z0-9]|[a-z0-9][a-z0-9\\-]*[a-z0-9])|(\\.|\\.\\.)$'",
          ),
        ],
      },
    ],
    [
      'reserved id',
      { id: '/a/restart', cmd: 'x y' },
      {
        message: 'Object is not valid',
        details: [
          detail('/id', 'must not end with any of the following reserved keywords: restart, tasks, versions, ., ..'),
        ],
      },
    ],
    [
      'root id',
      { id: '/', cmd: 'x y' },
      { message: 'Object is not valid', details: [detail('/id', 'Path must contain at least one path element')] },
    ],
    [
      'bad constraint',
      { id: '/a', cmd: 'x y', constraints: [['hostname', 'UNIQUE', 'x']] },
      { message: 'Object is not valid', details: [detail('/constraints(0)', 'UNIQUE does not accept a value')] },
    ],
    [
      'health check portIndex out of range',
      { id: '/a', cmd: 'x y', healthChecks: [{ protocol: 'HTTP', portIndex: 3 }] },
      {
        message: 'Object is not valid',
        details: [
          detail(
            '/healthChecks(0)',
            'Health check port indices must address an element of the ports array or container port mappings.',
          ),
        ],
      },
    ],
    [
      'env secret not declared',
      { id: '/a', cmd: 'x y', env: { P: { secret: 'nope' } } },
      { message: 'Object is not valid', details: [detail('/env/P/secret', 'references an undefined secret')] },
    ],
    [
      'env secret named like a prototype member',
      { id: '/a', cmd: 'x y', env: { P: { secret: 'toString' } } },
      { message: 'Object is not valid', details: [detail('/env/P/secret', 'references an undefined secret')] },
    ],
    [
      'docker.network and networks',
      { id: '/a', container: { docker: { image: 'x', network: 'BRIDGE' } }, networks: [{ mode: 'container/bridge' }] },
      {
        message: 'Object is not valid',
        details: [detail('/', 'must not specify both container.docker.network and networks')],
      },
    ],
    [
      'ports and portDefinitions differ',
      { id: '/a', cmd: 'x y', ports: [1], portDefinitions: [{ port: 2 }] },
      { message: 'Object is not valid', details: [detail('/', 'cannot specify both ports and port definitions')] },
    ],
    [
      'duplicate fixed port definitions',
      { id: '/a', cmd: 'x y', portDefinitions: [{ port: 80 }, { port: 80 }] },
      { message: 'Object is not valid', details: [detail('/portDefinitions', 'Ports must be unique.')] },
    ],
    [
      'readiness check naming no port',
      { id: '/a', cmd: 'x y', readinessChecks: [{ portName: 'web' }] },
      {
        message: 'Object is not valid',
        details: [detail('/readinessChecks(0)/portName', 'No port definition reference for portName web')],
      },
    ],
    [
      'container network without name',
      { id: '/a', cmd: 'x y', networks: [{ mode: 'container' }] },
      {
        message: 'Object is not valid',
        details: [detail('/networks(0)', 'Network name must be specified when container network is selected.')],
      },
    ],
    [
      'GPUs with the Docker containerizer',
      { id: '/a', gpus: 1, container: { type: 'DOCKER', docker: { image: 'x' } } },
      {
        message: 'Object is not valid',
        details: [detail('/', 'GPU resources only work with the Mesos containerizer')],
      },
    ],
    ['not an object', [1, 2], { message: 'Invalid JSON', details: [detail('/', 'error.expected.jsobject')] }],
    ['null', null, { message: 'Invalid JSON', details: [detail('/', 'error.expected.jsobject')] }],
  ];
  for (const [name, raw, body] of table) {
    it(name, () => {
      expect(refused(raw)).to.deep.equal(body);
    });
  }

  it('bounds: huge lists and strings are refused at their path', () => {
    expect(
      refused({ id: '/a', cmd: 'x y', args: undefined, constraints: new Array(2000).fill(['hostname', 'UNIQUE']) })
        .details,
    ).to.deep.equal([detail('/constraints', 'error.maxLength')]);
    expect(refused({ id: '/a', cmd: 'x'.repeat(70_000) }).details).to.deep.equal([detail('/cmd', 'error.maxLength')]);
    expect(refused({ id: `/${'a/'.repeat(40)}b`, cmd: 'x y' }).details?.[0].path).to.equal('/id');
    expect(refused({ id: '/a', cmd: 'x y', instances: 1e9 }).details).to.deep.equal([
      detail('/instances', 'error.max'),
    ]);
  });

  it('a `__proto__` key is data, not a prototype', () => {
    const raw = JSON.parse('{"id":"/a","cmd":"x y","labels":{"__proto__":{"polluted":"yes"},"k":"w"}}');
    // Read as a key like any other: its value is not text, so the app is refused there.
    expect(refused(raw)).to.deep.equal({
      message: 'Invalid JSON',
      details: [detail('/labels/__proto__', 'error.expected.jsstring')],
    });
    const a = ok(JSON.parse('{"id":"/a","cmd":"x y","labels":{"__proto__":"v","k":"w"}}'));
    expect(Object.getPrototypeOf(a.labels)).to.equal(Object.prototype);
    expect(a.labels.k).to.equal('w');
  });
});

describe('marathon/model normalizeApp: ids in groups', () => {
  it('a relative id resolves against the group; ./ and ../ work as in Marathon', () => {
    expect(ok({ id: 'web', cmd: 'x y' }, { parentGroupId: '/prod' }).id).to.equal('/prod/web');
    expect(ok({ id: './web', cmd: 'x y' }, { parentGroupId: '/prod' }).id).to.equal('/prod/web');
    expect(
      ok({ id: '/prod/web', cmd: 'x y', dependencies: ['../db', 'cache'] }, { parentGroupId: '/prod' }).dependencies,
    ).to.deep.equal(['/db', '/prod/cache']);
  });
  it('an app in a group must be its direct child', () => {
    expect(refused({ id: '/other/web', cmd: 'x y' }, { parentGroupId: '/prod' })).to.deep.equal({
      message: 'Object is not valid',
      details: [detail('/id', "Identifier is not child of '/prod'")],
    });
  });
});

describe('marathon/model app updates', () => {
  const base = ok({ id: '/a', cmd: 'sleep 1', instances: 2, labels: { x: 'y' } });
  it('replaces the named fields and normalises again', () => {
    const u = readAppUpdate({ instances: 5, cpus: '0.25' });
    expect(u.ok).to.equal(true);
    if (!u.ok) return;
    const r = applyAppUpdate(base, u.value);
    expect(r.ok && [r.value.instances, r.value.cpus, r.value.labels.x, r.value.id]).to.deep.equal([5, 0.25, 'y', '/a']);
  });
  it('args replace cmd', () => {
    const u = readAppUpdate({ args: ['sleep', '2'] });
    const r = u.ok ? applyAppUpdate(base, u.value) : u;
    expect(r.ok && [r.value.cmd, r.value.args]).to.deep.equal([undefined, ['sleep', '2']]);
  });
  it('switching networking modes through an update drops the ports of the other mode', () => {
    const bridged = ok({
      id: '/w',
      container: { docker: { image: 'nginx', network: 'BRIDGE', portMappings: [{ containerPort: 80 }] } },
    });
    const toHost = applyAppUpdate(bridged, { networks: [{ mode: 'host' }] });
    expect(toHost.ok && [toHost.value.container?.portMappings, toHost.value.portDefinitions]).to.deep.equal([
      undefined,
      [{ port: 0, protocol: 'tcp' }],
    ]);
    const host = ok({ id: '/w', container: { docker: { image: 'nginx' } } });
    const toBridge = applyAppUpdate(host, { networks: [{ mode: 'container/bridge' }] });
    expect(toBridge.ok && [toBridge.value.portDefinitions, toBridge.value.networks]).to.deep.equal([
      undefined,
      [{ mode: 'container/bridge' }],
    ]);
  });
  it('an update refused by the rules answers the 422 of the result', () => {
    const r = applyAppUpdate(base, { args: ['a'], cmd: 'b c' });
    expect(!r.ok && r.body.details?.[0].errors[0]).to.equal(
      "AppDefinition must either contain one of 'cmd' or 'args', and/or a 'container'.",
    );
  });
  it('version only with id', () => {
    expect(readAppUpdate({ version: '2015-01-01T00:00:00Z', cpus: 1 })).to.deep.equal({
      ok: false,
      status: 422,
      body: {
        message: 'Object is not valid',
        details: [detail('/', "The 'version' field may only be combined with the 'id' field.")],
      },
    });
    expect(readAppUpdate({ id: '/a', version: '2015-01-01T00:00:00Z' }).ok).to.equal(true);
  });
});
