/**
 * The Mesos v1 JSON ⇄ Agora translator on Mesos's own examples (docs/scheduler-http-api.md),
 * field by field, and round trips of arbitrary Agora calls and events through Mesos's JSON.
 */
import { expect } from 'chai';
import fc from 'fast-check';
import { callFromMesos, callToMesos, eventFromMesos, eventToMesos } from '../../../sdk/mesos/index.js';
import type { SchedulerCall, SchedulerEvent } from '../../../sdk/protocol/messages.js';
import type { TaskInfo } from '../../../sdk/protocol/types.js';
import { validateMessage } from '../../../sdk/protocol/validate.js';

type Json = Record<string, unknown>;

function call(json: unknown): SchedulerCall {
  const t = callFromMesos(json);
  if (t.kind !== 'call') throw new Error(`not a call: ${t.type}`);
  return t.call;
}

// ---------------------------------------------------------------- Mesos's documented examples

const FW = { value: '12220-3440-12532-2345' };

describe('sdk/mesos translator: Mesos docs examples', () => {
  it('SUBSCRIBE (with suppressed_roles and offer_constraints, which Agora tolerates)', () => {
    const t = callFromMesos({
      type: 'SUBSCRIBE',
      subscribe: {
        framework_info: {
          user: 'foo',
          name: 'Example HTTP Framework',
          roles: ['test1', 'test2'],
          capabilities: [{ type: 'MULTI_ROLE' }],
        },
        suppressed_roles: ['test2'],
        offer_constraints: {
          role_constraints: {
            test1: {
              groups: [{ attribute_constraints: [{ selector: { attribute_name: 'foo' }, predicate: { exists: {} } }] }],
            },
          },
        },
      },
    });
    expect(t).to.deep.equal({
      kind: 'call',
      call: {
        type: 'SUBSCRIBE',
        subscribe: {
          framework_info: {
            user: 'foo',
            name: 'Example HTTP Framework',
            roles: ['test1', 'test2'],
            capabilities: [{ type: 'MULTI_ROLE' }],
          },
        },
      },
      refused: [],
      suppressedRoles: ['test2'],
    });
  });

  it('SUBSCRIBE of an old framework with a single `role`, an id, and fields Agora ignores', () => {
    const c = call({
      type: 'SUBSCRIBE',
      framework_id: FW,
      subscribe: {
        framework_info: {
          id: FW,
          name: 'old',
          role: 'web',
          failover_timeout: 604800,
          checkpoint: true,
          hostname: 'h',
          principal: 'p',
          labels: { labels: [{ key: 'a', value: 'b' }] },
        },
      },
    });
    expect(c).to.deep.equal({
      type: 'SUBSCRIBE',
      subscribe: {
        framework_info: {
          id: FW.value,
          name: 'old',
          roles: ['web'],
          failover_timeout: 604800,
          checkpoint: true,
          hostname: 'h',
          principal: 'p',
        },
      },
    });
    expect(() =>
      callFromMesos({
        type: 'SUBSCRIBE',
        framework_id: { value: 'x' },
        subscribe: { framework_info: { id: FW, name: 'n' } },
      }),
    ).to.throw(/differs/);
  });

  it('ACCEPT as documented: the task with a custom executor is refused (TASK_ERROR), the rest kept', () => {
    const doc = {
      framework_id: FW,
      type: 'ACCEPT',
      accept: {
        offer_ids: [{ value: '12220-3440-12532-O12' }],
        operations: [
          {
            type: 'LAUNCH',
            launch: {
              task_infos: [
                {
                  name: 'My Task',
                  task_id: { value: '12220-3440-12532-my-task' },
                  agent_id: { value: '12220-3440-12532-S1233' },
                  executor: {
                    command: { shell: true, value: 'sleep 1000' },
                    executor_id: { value: '12214-23523-my-executor' },
                  },
                  resources: [
                    {
                      allocation_info: { role: 'engineering' },
                      name: 'cpus',
                      role: '*',
                      type: 'SCALAR',
                      scalar: { value: 1.0 },
                    },
                    {
                      allocation_info: { role: 'engineering' },
                      name: 'mem',
                      role: '*',
                      type: 'SCALAR',
                      scalar: { value: 128.0 },
                    },
                  ],
                  limits: { cpus: 'Infinity', mem: 512.0 },
                },
              ],
            },
          },
        ],
        filters: { refuse_seconds: 5.0 },
      },
    };
    const t = callFromMesos(doc);
    if (t.kind !== 'call') throw new Error('not a call');
    expect(t.call).to.deep.equal({
      type: 'ACCEPT',
      framework_id: FW.value,
      accept: { offer_ids: ['12220-3440-12532-O12'], operations: [], filters: { refuse_seconds: 5 } },
    });
    expect(t.refused).to.have.length(1);
    expect(t.refused[0]).to.include({ operation: 0, task: 0, task_id: '12220-3440-12532-my-task', type: 'LAUNCH' });
    expect(t.refused[0].message).to.match(/custom executors are not supported/);
  });

  it('ACCEPT of a command task: every field Mesos names, at its place', () => {
    const c = call({
      framework_id: FW,
      type: 'ACCEPT',
      accept: {
        offer_ids: [{ value: 'O1' }],
        operations: [
          {
            type: 'LAUNCH',
            launch: {
              task_infos: [
                {
                  name: 'web',
                  task_id: { value: 'web-1' },
                  agent_id: { value: 'S1' },
                  resources: [
                    { name: 'cpus', type: 'SCALAR', scalar: { value: 0.5 }, role: '*', allocation_info: { role: '*' } },
                    {
                      name: 'mem',
                      type: 'SCALAR',
                      scalar: { value: 64 },
                      reservations: [
                        { type: 'STATIC', role: 'web' },
                        { type: 'DYNAMIC', role: 'web/a', principal: 'p' },
                      ],
                    },
                    { name: 'ports', type: 'RANGES', ranges: { range: [{ begin: 31000, end: 31001 }] }, role: 'web' },
                  ],
                  command: {
                    value: '/bin/server',
                    shell: false,
                    arguments: ['server', '--port', '8080'],
                    environment: {
                      variables: [
                        { name: 'MODE', value: 'prod' },
                        { name: 'PW', type: 'SECRET', secret: { type: 'REFERENCE', reference: { name: '/db/pw' } } },
                      ],
                    },
                    uris: [{ value: 'http://x/y.tgz', extract: true }],
                    user: 'nobody',
                  },
                  container: {
                    type: 'DOCKER',
                    docker: {
                      image: 'agora/busybox:latest',
                      network: 'BRIDGE',
                      port_mappings: [{ host_port: 31000, container_port: 80, protocol: 'tcp' }],
                      privileged: false,
                      parameters: [{ key: 'label', value: 'x=y' }],
                      force_pull_image: false,
                    },
                    volumes: [{ container_path: '/data', host_path: '/tmp', mode: 'RO' }],
                    network_infos: [{ name: 'ignored' }],
                  },
                  health_check: {
                    type: 'HTTP',
                    http: { port: 80, path: '/health', scheme: 'http', statuses: [200] },
                    delay_seconds: 15,
                    interval_seconds: 10,
                    timeout_seconds: 20,
                    consecutive_failures: 3,
                    grace_period_seconds: 10,
                  },
                  kill_policy: { grace_period: { nanoseconds: 3000000000 } },
                  labels: { labels: [{ key: 'tier', value: 'front' }] },
                  discovery: { visibility: 'FRAMEWORK' },
                },
              ],
            },
          },
        ],
      },
    });
    if (c.type !== 'ACCEPT') throw new Error('not an ACCEPT');
    const op = c.accept.operations[0];
    if (op.type !== 'LAUNCH') throw new Error('not a LAUNCH');
    expect(op.launch.task_infos[0]).to.deep.equal({
      name: 'web',
      task_id: 'web-1',
      agent_id: 'S1',
      resources: [
        { name: 'cpus', type: 'SCALAR', scalar: { value: 0.5 } },
        { name: 'mem', type: 'SCALAR', scalar: { value: 64 }, role: 'web/a' },
        { name: 'ports', type: 'RANGES', ranges: { range: [{ begin: 31000, end: 31001 }] }, role: 'web' },
      ],
      command: {
        value: '/bin/server',
        shell: false,
        arguments: ['server', '--port', '8080'],
        environment: {
          variables: [
            { name: 'MODE', value: 'prod' },
            { name: 'PW', type: 'SECRET', secret: { type: 'REFERENCE', reference: { name: '/db/pw' } } },
          ],
        },
        uris: [{ value: 'http://x/y.tgz', extract: true }],
        user: 'nobody',
      },
      container: {
        type: 'DOCKER',
        docker: {
          image: 'agora/busybox:latest',
          network: 'BRIDGE',
          port_mappings: [{ host_port: 31000, container_port: 80, protocol: 'tcp' }],
          privileged: false,
          parameters: [{ key: 'label', value: 'x=y' }],
          force_pull_image: false,
        },
        volumes: [{ container_path: '/data', host_path: '/tmp', mode: 'RO' }],
      },
      health_check: {
        type: 'HTTP',
        http: { port: 80, path: '/health', scheme: 'http', statuses: [200] },
        delay_seconds: 15,
        interval_seconds: 10,
        timeout_seconds: 20,
        consecutive_failures: 3,
        grace_period_seconds: 10,
      },
      kill_policy: { grace_period_seconds: 3 },
      labels: { labels: [{ key: 'tier', value: 'front' }] },
    } satisfies TaskInfo);
  });

  it('DECLINE with filters, REVIVE with `role` (as documented) or `roles`, SUPPRESS, KILL, RECONCILE', () => {
    expect(
      call({
        framework_id: FW,
        type: 'DECLINE',
        decline: {
          offer_ids: [{ value: '12220-3440-12532-O12' }, { value: '12220-3440-12532-O13' }],
          filters: { refuse_seconds: 5.0 },
        },
      }),
    ).to.deep.equal({
      type: 'DECLINE',
      framework_id: FW.value,
      decline: { offer_ids: ['12220-3440-12532-O12', '12220-3440-12532-O13'], filters: { refuse_seconds: 5 } },
    });
    expect(call({ framework_id: FW, type: 'REVIVE', revive: { role: 'test1' } })).to.deep.equal({
      type: 'REVIVE',
      framework_id: FW.value,
      revive: { roles: ['test1'] },
    });
    expect(call({ framework_id: FW, type: 'REVIVE' })).to.deep.equal({ type: 'REVIVE', framework_id: FW.value });
    expect(call({ framework_id: FW, type: 'SUPPRESS', suppress: { roles: ['a', 'b'] } })).to.deep.equal({
      type: 'SUPPRESS',
      framework_id: FW.value,
      suppress: { roles: ['a', 'b'] },
    });
    expect(
      call({
        framework_id: FW,
        type: 'KILL',
        kill: { task_id: { value: '12220-3440-12532-my-task' }, agent_id: { value: '12220-3440-12532-S1233' } },
      }),
    ).to.deep.equal({
      type: 'KILL',
      framework_id: FW.value,
      kill: { task_id: '12220-3440-12532-my-task', agent_id: '12220-3440-12532-S1233' },
    });
    expect(
      call({
        framework_id: FW,
        type: 'RECONCILE',
        reconcile: { tasks: [{ task_id: { value: '312325' }, agent_id: { value: '123535' } }] },
      }),
    ).to.deep.equal({
      type: 'RECONCILE',
      framework_id: FW.value,
      reconcile: { tasks: [{ task_id: '312325', agent_id: '123535' }] },
    });
    expect(call({ framework_id: FW, type: 'RECONCILE', reconcile: {} })).to.deep.equal({
      type: 'RECONCILE',
      framework_id: FW.value,
      reconcile: { tasks: [] },
    });
  });

  it("ACKNOWLEDGE: the documented base64 uuid (16 bytes) is the agent's canonical UUID", () => {
    const c = call({
      framework_id: FW,
      type: 'ACKNOWLEDGE',
      acknowledge: { agent_id: { value: 'S1233' }, task_id: { value: 'my-task' }, uuid: 'jhadf73jhakdlfha723adf' },
    });
    if (c.type !== 'ACKNOWLEDGE') throw new Error('not an ACKNOWLEDGE');
    expect(c.acknowledge.uuid).to.match(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    // Sent back, the same 16 bytes (written with padding).
    const again = (callToMesos(c).acknowledge as Json).uuid as string;
    expect(Buffer.from(again, 'base64')).to.deep.equal(Buffer.from('jhadf73jhakdlfha723adf', 'base64'));
    expect(() =>
      callFromMesos({
        framework_id: FW,
        type: 'ACKNOWLEDGE',
        acknowledge: { agent_id: FW, task_id: FW, uuid: 'not base64!' },
      }),
    ).to.throw(/base64/);
  });

  it("REQUEST in either of Mesos's shapes (the master ignores it); MESSAGE, SHUTDOWN and UPDATE_FRAMEWORK as documented", () => {
    expect(
      call({
        framework_id: FW,
        type: 'REQUEST',
        requests: [{ agent_id: { value: '12220-3440-12532-S1233' }, resources: {} }],
      }),
    ).to.deep.equal({
      type: 'REQUEST',
      framework_id: FW.value,
      request: { requests: [{ agent_id: '12220-3440-12532-S1233' }] },
    });
    expect(call({ framework_id: FW, type: 'REQUEST', request: { requests: [{}] } })).to.deep.equal({
      type: 'REQUEST',
      framework_id: FW.value,
      request: { requests: [{}] },
    });
    expect(
      call({
        framework_id: FW,
        type: 'MESSAGE',
        message: {
          agent_id: { value: '12220-3440-12532-S1233' },
          executor_id: { value: 'my-framework-executor' },
          data: 'adaf838jahd748jnaldf',
        },
      }),
    ).to.deep.equal({
      type: 'MESSAGE',
      framework_id: FW.value,
      message: {
        agent_id: '12220-3440-12532-S1233',
        executor_id: 'my-framework-executor',
        data: 'adaf838jahd748jnaldf',
      },
    });
    expect(
      call({
        framework_id: FW,
        type: 'SHUTDOWN',
        shutdown: {
          executor_id: { value: '123450-2340-1232-my-executor' },
          agent_id: { value: '12220-3440-12532-S1233' },
        },
      }),
    ).to.deep.equal({
      type: 'SHUTDOWN',
      framework_id: FW.value,
      shutdown: { executor_id: '123450-2340-1232-my-executor', agent_id: '12220-3440-12532-S1233' },
    });
    expect(
      call({
        framework_id: FW,
        type: 'UPDATE_FRAMEWORK',
        update_framework: {
          framework_info: {
            user: 'foo',
            name: 'Example framework',
            roles: ['test1'],
            capabilities: [{ type: 'MULTI_ROLE' }],
            id: FW,
          },
          suppressed_roles: ['test1'],
          offer_constraints: { role_constraints: {} },
        },
      }),
    ).to.deep.equal({
      type: 'UPDATE_FRAMEWORK',
      framework_id: FW.value,
      update_framework: {
        framework_info: {
          id: FW.value,
          user: 'foo',
          name: 'Example framework',
          roles: ['test1'],
          capabilities: [{ type: 'MULTI_ROLE' }],
        },
        suppressed_roles: ['test1'],
      },
    });
    expect(() =>
      call({ framework_id: FW, type: 'MESSAGE', message: { agent_id: FW, executor_id: FW, data: 'not base64!' } }),
    ).to.throw(/message\.data/);
  });

  it("MESSAGE data up to Agora's bound (256 KiB) passes; beyond, 400", () => {
    const msg = (bytes: number) => ({
      framework_id: FW,
      type: 'MESSAGE',
      message: { agent_id: FW, executor_id: FW, data: Buffer.alloc(bytes, 7).toString('base64') },
    });
    expect(call(msg(256 * 1024)).type).to.equal('MESSAGE');
    expect(() => callFromMesos(msg(256 * 1024 + 3)))
      .to.throw()
      .with.property('statusCode', 400);
  });

  it('takes null fields as unset, as Mesos does (client libraries send many)', () => {
    expect(
      callFromMesos({
        type: 'SUBSCRIBE',
        framework_id: null,
        subscribe: {
          framework_info: {
            user: 'root',
            name: 'n',
            id: null,
            failover_timeout: 604800,
            checkpoint: null,
            role: null,
            capabilities: null,
            labels: null,
          },
        },
      }),
    ).to.deep.equal({
      kind: 'call',
      call: { type: 'SUBSCRIBE', subscribe: { framework_info: { user: 'root', name: 'n', failover_timeout: 604800 } } },
      refused: [],
    });
  });

  it('refuses what is not a Call, naming the field: missing body, wrong type, too many fields, no framework id', () => {
    const bad: [unknown, RegExp][] = [
      [[], /JSON object/],
      [{ type: 'ACCEPT', framework_id: FW }, /call\.accept: is required/],
      [{ type: 'KILL', kill: { task_id: { value: 't' } } }, /framework_id: is required/],
      [{ type: 'DECLINE', framework_id: FW, decline: { offer_ids: [{ value: 7 }] } }, /offer_ids\[0\]\.value/],
      [
        {
          type: 'SUBSCRIBE',
          subscribe: {
            framework_info: { name: 'x', ...Object.fromEntries(Array.from({ length: 70 }, (_, i) => [`f${i}`, 1])) },
          },
        },
        /framework_info/,
      ],
      [{ type: 'DECLINE', framework_id: { value: '../x' }, decline: { offer_ids: [] } }, /framework_id/],
    ];
    for (const [v, re] of bad)
      expect(() => callFromMesos(v), JSON.stringify(v).slice(0, 80))
        .to.throw(re)
        .with.property('statusCode', 400);
    expect(() => callFromMesos({ type: 'ACCEPT_INVERSE_OFFERS', framework_id: FW }))
      .to.throw(/not supported/)
      .with.property('code', 'AGORA_MESOS_UNSUPPORTED_CALL');
  });

  it('LAUNCH_GROUP with the DEFAULT executor; a custom executor type is refused for each task of the group', () => {
    const group = (executor: Json) => ({
      framework_id: FW,
      type: 'ACCEPT',
      accept: {
        offer_ids: [{ value: 'O1' }],
        operations: [
          {
            type: 'LAUNCH_GROUP',
            launch_group: {
              executor,
              task_group: {
                tasks: ['a', 'b'].map((n) => ({
                  name: n,
                  task_id: { value: n },
                  agent_id: { value: 'S1' },
                  resources: [{ name: 'cpus', type: 'SCALAR', scalar: { value: 0.1 } }],
                  command: { value: 'sleep 10' },
                })),
              },
            },
          },
        ],
      },
    });
    const ok = callFromMesos(
      group({
        type: 'DEFAULT',
        executor_id: { value: 'E1' },
        framework_id: FW,
        resources: [{ name: 'cpus', type: 'SCALAR', scalar: { value: 0.1 } }],
      }),
    );
    if (ok.kind !== 'call' || ok.call.type !== 'ACCEPT') throw new Error('not an ACCEPT');
    expect(ok.refused).to.deep.equal([]);
    const op = ok.call.accept.operations[0];
    if (op.type !== 'LAUNCH_GROUP') throw new Error('not a LAUNCH_GROUP');
    expect(op.launch_group.executor).to.deep.equal({
      executor_id: 'E1',
      type: 'DEFAULT',
      framework_id: FW.value,
      resources: [{ name: 'cpus', type: 'SCALAR', scalar: { value: 0.1 } }],
    });
    expect(op.launch_group.task_group.tasks.map((t) => t.task_id)).to.deep.equal(['a', 'b']);
    const custom = callFromMesos(group({ type: 'CUSTOM', executor_id: { value: 'E1' }, command: { value: 'x' } }));
    if (custom.kind !== 'call') throw new Error('not a call');
    expect(custom.refused.map((r) => r.task_id)).to.deep.equal(['a', 'b']);
  });
});

describe('sdk/mesos translator: events as Mesos sends them', () => {
  it('UPDATE: ids as {value}, timestamp in seconds, uuid as the 16 bytes in base64, exit_status left out', () => {
    const e = eventToMesos({
      type: 'UPDATE',
      update: {
        status: {
          task_id: 't',
          state: 'TASK_FINISHED',
          agent_id: 'S1',
          source: 'SOURCE_EXECUTOR',
          reason: 'REASON_COMMAND_EXECUTOR_FAILED',
          message: 'm',
          timestamp: 1700000000.25,
          uuid: '8e16a75d-ef78-e9c8-e1a7-6a97ef6b69d7',
          healthy: true,
          exit_status: 0,
        },
      },
    });
    expect(e).to.deep.equal({
      type: 'UPDATE',
      update: {
        status: {
          task_id: { value: 't' },
          state: 'TASK_FINISHED',
          message: 'm',
          source: 'SOURCE_EXECUTOR',
          reason: 'REASON_COMMAND_EXECUTOR_FAILED',
          agent_id: { value: 'S1' },
          timestamp: 1700000000.25,
          uuid: Buffer.from('8e16a75def78e9c8e1a76a97ef6b69d7', 'hex').toString('base64'),
          healthy: true,
        },
      },
    });
  });

  it("SUBSCRIBED with master_info (ip as Mesos's uint32), ERROR with the code leading its message, LEADER has no Mesos form", () => {
    const e = eventToMesos({
      type: 'SUBSCRIBED',
      subscribed: {
        framework_id: 'F1',
        heartbeat_interval_seconds: 15,
        master_info: {
          id: 'M',
          pid: 'master@127.0.0.1:5050',
          hostname: 'h',
          port: 5050,
          address: { hostname: 'h', ip: '127.0.0.1', port: 5050 },
          version: '0.1.0',
        },
      },
    });
    expect(((e as Json).subscribed as Json).master_info).to.include({ ip: 16777343, port: 5050, id: 'M' });
    expect(eventToMesos({ type: 'ERROR', error: { message: 'no', code: 'AGORA_X' } })).to.deep.equal({
      type: 'ERROR',
      error: { message: 'AGORA_X: no' },
    });
    expect(eventToMesos({ type: 'LEADER', leader: {} })).to.equal(undefined);
  });
});

// ---------------------------------------------------------------- round trips

const id = fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._-]{0,20}$/);
const base64 = fc.uint8Array({ maxLength: 40 }).map((b) => Buffer.from(b).toString('base64'));
const role = fc.constantFrom('web', 'batch', 'a/b');
const scalar = fc.record({
  name: fc.constantFrom('cpus', 'mem', 'disk', 'gpus'),
  type: fc.constant('SCALAR' as const),
  scalar: fc.record({ value: fc.integer({ min: 0, max: 100_000 }).map((n) => n / 1000) }),
  role: fc.option(role, { nil: undefined }),
});
const ranges = fc.record({
  name: fc.constant('ports'),
  type: fc.constant('RANGES' as const),
  ranges: fc.record({
    range: fc.array(
      fc.integer({ min: 1, max: 60000 }).map((b) => ({ begin: b, end: b + 5 })),
      { maxLength: 3 },
    ),
  }),
  role: fc.option(role, { nil: undefined }),
});
const resource = fc.oneof(scalar, ranges).map((r) => JSON.parse(JSON.stringify(r)));
const command = fc.record(
  {
    value: fc.string({ maxLength: 30 }),
    shell: fc.boolean(),
    arguments: fc.array(fc.string({ maxLength: 10 }), { maxLength: 3 }),
    environment: fc.record({
      variables: fc.array(fc.record({ name: fc.stringMatching(/^[A-Z]{1,8}$/), value: fc.string({ maxLength: 10 }) }), {
        maxLength: 3,
      }),
    }),
    user: fc.constantFrom('nobody', 'root'),
  },
  { requiredKeys: [] },
);
const container = fc.record(
  {
    type: fc.constant('DOCKER' as const),
    docker: fc.record(
      {
        image: fc.constantFrom('agora/busybox:latest', 'nginx'),
        network: fc.constantFrom('HOST' as const, 'BRIDGE' as const),
        port_mappings: fc.array(
          fc.record({
            host_port: fc.integer({ min: 1, max: 65535 }),
            container_port: fc.integer({ min: 1, max: 65535 }),
          }),
          { maxLength: 2 },
        ),
      },
      { requiredKeys: ['image'] },
    ),
  },
  { requiredKeys: ['type', 'docker'] },
);
const health = fc.record(
  {
    type: fc.constant('TCP' as const),
    tcp: fc.record({ port: fc.integer({ min: 1, max: 65535 }) }),
    interval_seconds: fc.integer({ min: 1, max: 60 }),
    consecutive_failures: fc.integer({ min: 1, max: 5 }),
  },
  { requiredKeys: ['type', 'tcp'] },
);
const task = fc.record(
  {
    name: fc.string({ maxLength: 20 }),
    task_id: id,
    agent_id: id,
    resources: fc.array(resource, { maxLength: 4 }),
    command,
    container,
    health_check: health,
    kill_policy: fc.record({ grace_period_seconds: fc.integer({ min: 0, max: 600 }) }),
    labels: fc.record({
      labels: fc.array(fc.record({ key: fc.string({ maxLength: 8 }), value: fc.string({ maxLength: 8 }) }), {
        maxLength: 2,
      }),
    }),
  },
  { requiredKeys: ['name', 'task_id', 'agent_id', 'resources'] },
);
const filters = fc.option(fc.record({ refuse_seconds: fc.integer({ min: 0, max: 1000 }) }), { nil: undefined });
const arbitraryCall: fc.Arbitrary<SchedulerCall> = fc
  .oneof(
    fc.record({
      type: fc.constant('SUBSCRIBE' as const),
      subscribe: fc.record({
        framework_info: fc.record(
          {
            id,
            name: fc.string({ maxLength: 20 }),
            user: fc.constantFrom('root', 'nobody'),
            roles: fc.array(role, { maxLength: 2 }),
            failover_timeout: fc.integer({ min: 0, max: 1e6 }),
            checkpoint: fc.boolean(),
            capabilities: fc.array(fc.record({ type: fc.constantFrom('MULTI_ROLE', 'PARTITION_AWARE') }), {
              maxLength: 2,
            }),
            principal: fc.constantFrom('p1', 'p2'),
          },
          { requiredKeys: ['name'] },
        ),
      }),
    }),
    fc.record({ type: fc.constant('TEARDOWN' as const), framework_id: id }),
    fc.record({
      type: fc.constant('ACCEPT' as const),
      framework_id: id,
      accept: fc.record(
        {
          offer_ids: fc.array(id, { maxLength: 3 }),
          operations: fc.array(
            fc.oneof(
              fc.record({
                type: fc.constant('LAUNCH' as const),
                launch: fc.record({ task_infos: fc.array(task, { maxLength: 2 }) }),
              }),
              fc.record({
                type: fc.constant('RESERVE' as const),
                reserve: fc.record({ resources: fc.array(resource, { maxLength: 2 }) }),
              }),
              fc.record({
                type: fc.constant('UNRESERVE' as const),
                unreserve: fc.record({ resources: fc.array(resource, { maxLength: 2 }) }),
              }),
            ),
            { maxLength: 2 },
          ),
          filters,
        },
        { requiredKeys: ['offer_ids', 'operations'] },
      ),
    }),
    fc.record({
      type: fc.constant('DECLINE' as const),
      framework_id: id,
      decline: fc.record({ offer_ids: fc.array(id, { maxLength: 3 }), filters }, { requiredKeys: ['offer_ids'] }),
    }),
    fc.record(
      {
        type: fc.constant('REVIVE' as const),
        framework_id: id,
        revive: fc.record({ roles: fc.array(role, { maxLength: 2 }) }),
      },
      { requiredKeys: ['type', 'framework_id'] },
    ),
    fc.record(
      {
        type: fc.constant('SUPPRESS' as const),
        framework_id: id,
        suppress: fc.record({ roles: fc.array(role, { maxLength: 2 }) }),
      },
      { requiredKeys: ['type', 'framework_id'] },
    ),
    fc.record({
      type: fc.constant('KILL' as const),
      framework_id: id,
      kill: fc.record({ task_id: id, agent_id: id }, { requiredKeys: ['task_id'] }),
    }),
    fc.record({
      type: fc.constant('ACKNOWLEDGE' as const),
      framework_id: id,
      acknowledge: fc.record({ agent_id: id, task_id: id, uuid: fc.uuid() }),
    }),
    fc.record({
      type: fc.constant('MESSAGE' as const),
      framework_id: id,
      message: fc.record({ agent_id: id, executor_id: id, data: base64 }),
    }),
    fc.record({
      type: fc.constant('SHUTDOWN' as const),
      framework_id: id,
      shutdown: fc.record({ agent_id: id, executor_id: id }),
    }),
    fc.record({
      type: fc.constant('REQUEST' as const),
      framework_id: id,
      request: fc.record({ requests: fc.array(fc.record({ agent_id: id }, { requiredKeys: [] }), { maxLength: 2 }) }),
    }),
    id.chain((fid) =>
      fc.record({
        type: fc.constant('UPDATE_FRAMEWORK' as const),
        framework_id: fc.constant(fid),
        update_framework: fc.record(
          {
            framework_info: fc.record({
              id: fc.constant(fid),
              name: fc.string({ maxLength: 10 }),
              roles: fc.array(role, { maxLength: 2 }),
            }),
            suppressed_roles: fc.array(role, { maxLength: 1 }),
          },
          { requiredKeys: ['framework_info'] },
        ),
      }),
    ),
    fc.record({
      type: fc.constant('RECONCILE' as const),
      framework_id: id,
      reconcile: fc.record({
        tasks: fc.array(fc.record({ task_id: id, agent_id: id }, { requiredKeys: ['task_id'] }), { maxLength: 3 }),
      }),
    }),
  )
  .map((c) => JSON.parse(JSON.stringify(c)) as SchedulerCall);

const status = fc.record(
  {
    task_id: id,
    state: fc.constantFrom('TASK_RUNNING' as const, 'TASK_FAILED' as const, 'TASK_LOST' as const),
    message: fc.string({ maxLength: 20 }),
    reason: fc.constantFrom('REASON_RECONCILIATION', 'REASON_TASK_INVALID'),
    source: fc.constantFrom('SOURCE_MASTER' as const, 'SOURCE_AGENT' as const),
    agent_id: id,
    healthy: fc.boolean(),
    timestamp: fc.integer({ min: 0, max: 2e9 }).map((n) => n / 4),
    uuid: fc.uuid(),
  },
  { requiredKeys: ['task_id', 'state', 'timestamp'] },
);
const offer = fc.record({
  id,
  framework_id: id,
  agent_id: id,
  hostname: fc.string({ maxLength: 20 }),
  resources: fc.array(resource, { maxLength: 3 }),
  attributes: fc.dictionary(
    fc.stringMatching(/^[a-z]{1,6}$/),
    fc.oneof(fc.string({ maxLength: 8 }), fc.integer().map(String)),
    { maxKeys: 3 },
  ),
  allocation_role: role,
});
const arbitraryEvent: fc.Arbitrary<SchedulerEvent> = fc
  .oneof(
    fc.record({
      type: fc.constant('SUBSCRIBED' as const),
      subscribed: fc.record({
        framework_id: id,
        heartbeat_interval_seconds: fc.integer({ min: 1, max: 60 }),
        master_info: fc.ipV4().chain((ip) =>
          fc.record({
            id,
            pid: fc.constant(`master@${ip}:5050`),
            hostname: fc.constant('h'),
            port: fc.constant(5050),
            address: fc.constant({ hostname: 'h', ip, port: 5050 }),
            version: fc.constant('0.1.0'),
          }),
        ),
      }),
    }),
    fc.record({
      type: fc.constant('OFFERS' as const),
      offers: fc.record({ offers: fc.array(offer, { maxLength: 3 }) }),
    }),
    fc.record({ type: fc.constant('RESCIND' as const), rescind: fc.record({ offer_id: id }) }),
    fc.record({ type: fc.constant('UPDATE' as const), update: fc.record({ status }) }),
    fc.record({ type: fc.constant('FAILURE' as const), failure: fc.record({ agent_id: id }) }),
    fc.record({
      type: fc.constant('ERROR' as const),
      error: fc.record({ message: fc.string({ maxLength: 30 }), code: fc.constantFrom('AGORA_MASTER_X', 'AGORA_Y') }),
    }),
    fc.constant({ type: 'HEARTBEAT' as const }),
    fc.record({
      type: fc.constant('MESSAGE' as const),
      message: fc.record({ agent_id: id, executor_id: id, data: base64 }),
    }),
  )
  .map((e) => JSON.parse(JSON.stringify(e)) as SchedulerEvent);

describe('sdk/mesos translator: round trips', () => {
  it('any valid Agora call → Mesos JSON → the same Agora call', () => {
    fc.assert(
      fc.property(arbitraryCall, (c) => {
        validateMessage('scheduler_to_master', c); // the generator makes valid calls only
        const back = callFromMesos(JSON.parse(JSON.stringify(callToMesos(c))));
        expect(back.kind).to.equal('call');
        if (back.kind === 'call') {
          expect(back.refused).to.deep.equal([]);
          expect(back.call).to.deep.equal(c);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('any Agora event but LEADER → Mesos JSON → the same event', () => {
    fc.assert(
      fc.property(arbitraryEvent, (e) => {
        validateMessage('master_to_scheduler', e);
        const json = JSON.parse(JSON.stringify(eventToMesos(e)));
        expect(eventFromMesos(json)).to.deep.equal(e);
      }),
      { numRuns: 500 },
    );
  });
});

describe('sdk/mesos translator: hostile input', () => {
  const refusedCleanly = (v: unknown) => {
    try {
      callFromMesos(v);
    } catch (e) {
      const err = e as { code?: unknown; statusCode?: unknown };
      expect(err.code, String(e)).to.match(/^AGORA_MESOS_/);
      expect(err.statusCode).to.equal(400);
    }
  };

  it('a __proto__ field (an own field after JSON.parse) is dropped: nothing is read through it', () => {
    // Were it made the copy's prototype, `subscribe` would be read from it without being checked.
    const sneaky = JSON.parse('{"type":"SUBSCRIBE","__proto__":{"subscribe":{"framework_info":{"name":"x"}}}}');
    expect(() => callFromMesos(sneaky)).to.throw(/call\.subscribe: is required/);
  });

  it('any JSON value is a call or a 400 with a code, never another error', () => {
    fc.assert(fc.property(fc.jsonValue({ maxDepth: 6 }), refusedCleanly), { numRuns: 2000 });
  });

  it('valid calls with one field replaced by any JSON value: a call or a 400 with a code', () => {
    const paths = (v: unknown, at: string[] = []): string[][] =>
      typeof v === 'object' && v !== null
        ? Object.entries(v).flatMap(([k, x]) => [[...at, k], ...paths(x, [...at, k])])
        : [];
    fc.assert(
      fc.property(arbitraryCall, fc.nat(), fc.jsonValue({ maxDepth: 3 }), (c, pick, junk) => {
        const json = JSON.parse(JSON.stringify(callToMesos(c)));
        const all = paths(json);
        if (all.length === 0) return;
        const path = all[pick % all.length];
        let o = json;
        for (const k of path.slice(0, -1)) o = o[k];
        o[path[path.length - 1]] = junk;
        refusedCleanly(json);
      }),
      { numRuns: 2000 },
    );
  });
});
