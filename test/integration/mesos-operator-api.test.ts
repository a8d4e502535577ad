/**
 * Mesos's v1 operator API and classic endpoints on real processes: a master, real agents and a
 * framework on the real driver; calls and the SUBSCRIBE stream read by a plain HTTP client
 * (node:http, RecordIO parsed by hand as Mesos's docs describe); JSONP as Mesos's web UI loads it;
 * the fields the web UI reads.
 */
import { expect } from 'chai';
import {
  dumpProcessLogs,
  getJson,
  type MasterProc,
  startAgentProc,
  startMasterProc,
  stopAll,
  tempDir,
} from '../support/cluster.js';
import { commandTask, TestFramework } from '../support/framework.js';
import { call, jsonp, leading, Subscription } from '../support/operator-client.js';

describe('Mesos v1 operator API and classic endpoints on real processes @integration', function () {
  this.timeout(120_000);
  let master: MasterProc;
  let agentUrl: string;
  let agentId: string;
  let fw: TestFramework;
  let sub: Subscription;

  before(async () => {
    master = await startMasterProc(['--operator_heartbeat_interval', '1secs']);
    await leading(master);
    const agent = await startAgentProc(master.address, [
      '--resources',
      'cpus:2;mem:1024;disk:1024;ports:[31000-31100]',
    ]);
    agentUrl = agent.url;
    agentId = (await getJson(`${agentUrl}/state`)).id;
    sub = await Subscription.open(master.url);
    fw = await new TestFramework(master.address, 'operator-api-fw').start();
  });

  afterEach(function () {
    if (this.currentTest?.state === 'failed') dumpProcessLogs();
  });

  after(async () => {
    sub?.close();
    await fw?.stop();
    await stopAll();
  });

  it('SUBSCRIBE: SUBSCRIBED with the state, then HEARTBEATs, FRAMEWORK_ADDED, TASK_ADDED and TASK_UPDATED for a real task', async () => {
    const first = sub.events[0];
    expect(first.type).to.equal('SUBSCRIBED');
    expect(first.subscribed.heartbeat_interval_seconds).to.equal(1);
    const agents = first.subscribed.get_state.get_agents.agents;
    expect(agents.map((a: { agent_info: { id: { value: string } } }) => a.agent_info.id.value)).to.include(agentId);
    await sub.waitFor('FRAMEWORK_ADDED', (e) => e.framework_added.framework.framework_info.name === 'operator-api-fw');
    const [offer] = await fw.takeOffers();
    fw.driver.launch(offer, [commandTask(offer, 'op-task', 'sleep 2')]);
    const added = await sub.waitFor('TASK_ADDED', (e) => e.task_added.task.task_id.value === 'op-task');
    expect(added.task_added.task.agent_id.value).to.equal(agentId);
    expect(added.task_added.task.framework_id.value).to.equal(fw.driver.frameworkId);
    const cpus = added.task_added.task.resources.find((r: { name: string }) => r.name === 'cpus');
    expect(cpus).to.deep.include({ type: 'SCALAR', scalar: { value: 0.1 } });
    await sub.waitFor(
      'TASK_UPDATED',
      (e) => e.task_updated.state === 'TASK_RUNNING' && e.task_updated.status.task_id.value === 'op-task',
    );
    const done = await sub.waitFor('TASK_UPDATED', (e) => e.task_updated.state === 'TASK_FINISHED');
    expect(done.task_updated.framework_id.value).to.equal(fw.driver.frameworkId);
    await sub.waitFor('HEARTBEAT');
  });

  it('SUBSCRIBE: AGENT_ADDED for a new agent, AGENT_REMOVED when it is marked gone', async () => {
    const second = await startAgentProc(master.address, ['--resources', 'cpus:1;mem:256'], tempDir('op-agent2'));
    const id = (await getJson(`${second.url}/state`)).id;
    const added = await sub.waitFor('AGENT_ADDED', (e) => e.agent_added.agent.agent_info.id.value === id);
    expect(added.agent_added.agent.active).to.equal(true);
    const r = await call(master.url, { type: 'MARK_AGENT_GONE', mark_agent_gone: { agent_id: { value: id } } });
    expect(r.status).to.equal(200);
    await sub.waitFor('AGENT_REMOVED', (e) => e.agent_removed.agent_id.value === id);
  });

  it('answers the read calls in Mesos shapes', async () => {
    const get = async (type: string) => {
      const r = await call(master.url, { type });
      expect(r.status, type).to.equal(200);
      expect(r.json.type).to.equal(type);
      return r.json;
    };
    expect((await get('GET_HEALTH')).get_health).to.deep.equal({ healthy: true });
    expect((await get('GET_VERSION')).get_version.version_info.version).to.be.a('string');
    const flags = (await get('GET_FLAGS')).get_flags.flags as { name: string; value: string }[];
    expect(flags.find((f) => f.name === 'port')?.value).to.equal(String(master.port));
    const metrics = (await get('GET_METRICS')).get_metrics.metrics as { name: string; value: number }[];
    expect(metrics.find((m) => m.name === 'master/operator_api/subscribers')?.value).to.be.at.least(1);
    const state = (await get('GET_STATE')).get_state;
    expect(state.get_tasks.completed_tasks.map((t: { task_id: { value: string } }) => t.task_id.value)).to.include(
      'op-task',
    );
    expect(state.get_frameworks.frameworks[0].framework_info.id.value).to.equal(fw.driver.frameworkId);
    const agents = (await get('GET_AGENTS')).get_agents.agents;
    const mine = agents.find((a: { agent_info: { id: { value: string } } }) => a.agent_info.id.value === agentId);
    expect(mine.total_resources.find((r: { name: string }) => r.name === 'ports').ranges.range).to.deep.equal([
      { begin: 31000, end: 31100 },
    ]);
    expect((await get('GET_FRAMEWORKS')).get_frameworks.frameworks[0].framework_info.name).to.equal('operator-api-fw');
    expect((await get('GET_TASKS')).get_tasks.completed_tasks[0].state).to.equal('TASK_FINISHED');
    expect((await get('GET_ROLES')).get_roles.roles.map((r: { name: string }) => r.name)).to.include('*');
    const m = (await get('GET_MASTER')).get_master;
    expect(m.master_info.port).to.equal(master.port);
    expect(m.master_info.address.ip).to.equal('127.0.0.1');
  });

  it('UPDATE_WEIGHTS and UPDATE_QUOTA change what /weights and /quota show', async () => {
    const w = await call(master.url, {
      type: 'UPDATE_WEIGHTS',
      update_weights: { weight_infos: [{ role: 'web', weight: 2.5 }] },
    });
    expect(w.status).to.equal(200);
    expect(await getJson(`${master.url}/weights`)).to.deep.include({ role: 'web', weight: 2.5 });
    const weights = await call(master.url, { type: 'GET_WEIGHTS' });
    expect(weights.json.get_weights.weight_infos).to.deep.include({ role: 'web', weight: 2.5 });
    const q = await call(master.url, {
      type: 'UPDATE_QUOTA',
      update_quota: {
        quota_configs: [{ role: 'web', guarantees: { cpus: { value: 1 } }, limits: { cpus: { value: 2 } } }],
      },
    });
    expect(q.status).to.equal(200);
    const gq = await call(master.url, { type: 'GET_QUOTA' });
    expect(gq.json.get_quota.status.configs).to.deep.include({
      role: 'web',
      guarantees: { cpus: { value: 1 } },
      limits: { cpus: { value: 2 } },
    });
    const infos = (await getJson(`${master.url}/quota`)).infos;
    expect(infos.find((i: { role: string }) => i.role === 'web').limits).to.deep.equal({ cpus: 2 });
    const bad = await call(master.url, { type: 'TEARDOWN', teardown: {} });
    expect(bad.status).to.equal(400);
  });

  it("RESERVE_RESOURCES and UNRESERVE_RESOURCES move an agent's resources to a role and back (202), refuse what is not there (409)", async () => {
    const dev = (r: Record<string, unknown>) => ({ ...r, reservations: [{ type: 'DYNAMIC', role: 'dev' }] });
    const resources = [
      dev({ name: 'cpus', type: 'SCALAR', scalar: { value: 1 } }),
      dev({ name: 'mem', type: 'SCALAR', scalar: { value: 128 } }),
    ];
    const slave = async () =>
      (await getJson(`${master.url}/master/state`)).slaves.find((s: { id: string }) => s.id === agentId);
    const r = await call(master.url, {
      type: 'RESERVE_RESOURCES',
      reserve_resources: { agent_id: { value: agentId }, resources },
    });
    expect(r.status, r.text).to.equal(202);
    expect((await slave()).reserved_resources.dev).to.include({ cpus: 1, mem: 128 });
    const agents = (await call(master.url, { type: 'GET_AGENTS' })).json.get_agents.agents;
    const total = agents.find((a: { agent_info: { id: { value: string } } }) => a.agent_info.id.value === agentId)
      .total_resources as { name: string; reservations?: { role: string }[] }[];
    expect(total.find((x) => x.name === 'cpus' && x.reservations?.[0]?.role === 'dev')).to.not.equal(undefined);
    const tooMuch = await call(master.url, {
      type: 'RESERVE_RESOURCES',
      reserve_resources: {
        agent_id: { value: agentId },
        resources: [dev({ name: 'cpus', type: 'SCALAR', scalar: { value: 64 } })],
      },
    });
    expect(tooMuch.status).to.equal(409);
    expect(tooMuch.json.code).to.equal('AGORA_MASTER_RESERVATION_REFUSED');
    const u = await call(master.url, {
      type: 'UNRESERVE_RESOURCES',
      unreserve_resources: { agent_id: { value: agentId }, resources },
    });
    expect(u.status, u.text).to.equal(202);
    expect((await slave()).reserved_resources).to.deep.equal({});
  });

  it('JSONP on the master and agent endpoints the web UI loads; a bad callback name is refused with a code', async () => {
    for (const path of [
      '/master/state',
      '/metrics/snapshot',
      '/master/roles',
      '/master/maintenance/schedule',
      '/state.json',
    ]) {
      const r = await jsonp(`${master.url}${path}`, 'angular.callbacks._1');
      expect(r.type, path).to.match(/^application\/javascript/);
      expect(r.value, path).to.be.an('object');
    }
    const ms = (await jsonp(`${master.url}/master/state`, 'cb')).value;
    expect(ms.slaves.map((s: { id: string }) => s.id)).to.include(agentId);
    for (const path of ['/slave(1)/state', '/state', '/slave(1)/monitor/statistics', '/metrics/snapshot', '/flags']) {
      const r = await jsonp(`${agentUrl}${path}`, 'JSON_CALLBACK');
      expect(r.type, path).to.match(/^application\/javascript/);
      expect(r.value, path).to.not.equal(undefined);
    }
    for (const base of [master.url, agentUrl]) {
      const r = await fetch(`${base}/metrics/snapshot?jsonp=${encodeURIComponent('x);alert(1')}`);
      expect(r.status).to.equal(400);
      expect((await r.json()).code).to.equal('AGORA_HTTP_BAD_JSONP_CALLBACK');
    }
  });

  it('serves every field Mesos 1.11 web UI reads from /master/state and the agent /state', async () => {
    // Written out from reading apache/mesos src/webui/app/controllers.js and the templates it renders.
    const masterFields = [
      'id',
      'version',
      'build_time',
      'build_user',
      'start_time',
      'elected_time',
      'hostname',
      'leader_info.hostname',
      'leader_info.port',
      'flags',
      'activated_slaves',
      'deactivated_slaves',
      'unreachable_slaves',
      'slaves[].id',
      'slaves[].pid',
      'slaves[].hostname',
      'slaves[].resources.cpus',
      'slaves[].resources.gpus',
      'slaves[].resources.mem',
      'slaves[].resources.disk',
      'frameworks[].id',
      'frameworks[].name',
      'frameworks[].user',
      'frameworks[].principal',
      'frameworks[].role',
      'frameworks[].roles',
      'frameworks[].registered_time',
      'frameworks[].offers',
      'frameworks[].resources.cpus',
      'frameworks[].resources.mem',
      'frameworks[].used_resources.cpus',
      'frameworks[].used_resources.gpus',
      'frameworks[].used_resources.mem',
      'frameworks[].used_resources.disk',
      'frameworks[].offered_resources.cpus',
      'frameworks[].tasks',
      'frameworks[].unreachable_tasks',
      'frameworks[].completed_tasks',
      'frameworks[].completed_tasks[].id',
      'frameworks[].completed_tasks[].name',
      'frameworks[].completed_tasks[].executor_id',
      'frameworks[].completed_tasks[].framework_id',
      'frameworks[].completed_tasks[].slave_id',
      'frameworks[].completed_tasks[].state',
      'frameworks[].completed_tasks[].role',
      'frameworks[].completed_tasks[].statuses[].state',
      'frameworks[].completed_tasks[].statuses[].timestamp',
      'completed_frameworks',
    ];
    const [offer] = await fw.takeOffers();
    fw.driver.launch(offer, [commandTask(offer, 'ui-task', 'sleep 60')]);
    await fw.waitState('ui-task', 'TASK_RUNNING');
    const ms = await getJson(`${master.url}/master/state`);
    expect(missing(ms, masterFields)).to.deep.equal([]);
    const task = ms.frameworks[0].tasks.find((t: { id: string }) => t.id === 'ui-task');
    const agentFields = [
      'id',
      'pid',
      'hostname',
      'master_hostname',
      'version',
      'build_time',
      'build_user',
      'start_time',
      'flags',
      'resources.cpus',
      'resources.gpus',
      'resources.mem',
      'resources.disk',
      'unreserved_resources',
      'reserved_resources',
      'reserved_resources_allocated',
      'frameworks[].id',
      'frameworks[].name',
      'frameworks[].user',
      'frameworks[].role',
      'frameworks[].executors[].id',
      'frameworks[].executors[].name',
      'frameworks[].executors[].source',
      'frameworks[].executors[].role',
      'frameworks[].executors[].directory',
      'frameworks[].executors[].type',
      'frameworks[].executors[].resources.cpus',
      'frameworks[].executors[].resources.gpus',
      'frameworks[].executors[].resources.mem',
      'frameworks[].executors[].resources.disk',
      'frameworks[].executors[].tasks[].id',
      'frameworks[].executors[].tasks[].name',
      'frameworks[].executors[].tasks[].role',
      'frameworks[].executors[].tasks[].state',
      'frameworks[].executors[].tasks[].resources.cpus',
      'frameworks[].executors[].queued_tasks',
      'frameworks[].executors[].completed_tasks',
      'frameworks[].completed_executors',
      'completed_frameworks',
    ];
    const as = await getJson(`${agentUrl}/slave(1)/state`);
    expect(missing(as, agentFields)).to.deep.equal([]);
    // The executor id the master names is the one the agent lists, and its directory can be browsed.
    const executor = as.frameworks
      .flatMap((f: { executors: { id: string; directory: string }[] }) => f.executors)
      .find((e: { id: string }) => e.id === task.executor_id);
    expect(executor, `executor ${task.executor_id} on the agent`).to.not.equal(undefined);
    const listing = await getJson(`${agentUrl}/files/browse?path=${encodeURIComponent(executor.directory)}`);
    const stdout = listing.find((e: { path: string }) => e.path.endsWith('/stdout'));
    expect(stdout.mode).to.match(/^-[r-][w-][x-]/);
    expect(stdout).to.have.keys('path', 'size', 'mtime', 'mode', 'nlink', 'uid', 'gid');
    const size = await getJson(`${agentUrl}/files/read?path=${encodeURIComponent(stdout.path)}&offset=-1`);
    expect(size).to.deep.equal({ data: '', offset: stdout.size });
    const dl = await fetch(`${agentUrl}/files/download?path=${encodeURIComponent(stdout.path)}`);
    expect(dl.status).to.equal(200);
    expect(dl.headers.get('content-disposition')).to.match(/^attachment/);
    expect((await dl.arrayBuffer()).byteLength).to.equal(stdout.size);
    // The master's host name, not its pid.
    expect(as.master_hostname).to.not.include('@');
    fw.driver.kill('ui-task');
    await fw.waitState('ui-task', 'TASK_KILLED');
  });
});

/** The dotted paths (with `[]` for every element of a list) absent from `v`. */
function missing(v: unknown, paths: string[]): string[] {
  const has = (x: unknown, parts: string[]): boolean => {
    if (parts.length === 0) return x !== undefined && x !== null;
    const [head, ...rest] = parts;
    if (head.endsWith('[]')) {
      const list = (x as Record<string, unknown>)?.[head.slice(0, -2)];
      if (!Array.isArray(list) || list.length === 0) return false;
      return list.every((e) => has(e, rest));
    }
    return has((x as Record<string, unknown>)?.[head], rest);
  };
  return paths.filter((p) => !has(v, p.split('.')));
}
