/**
 * LAUNCH_GROUP through the master (harness: real master logic, fake agents and schedulers):
 * the executor's and all tasks' resources must fit together, a group is all or none, each task is
 * tracked with its own status, task and executor ids are unique, and the executor's resources are
 * booked once and returned when the last task ends.
 */
import { expect } from 'chai';
import { planAccept } from '../../master/accept.js';
import { type FakeScheduler, MasterHarness } from '../../master/testing/index.js';
import { parseAcls, SecurityAuthorizer } from '../../sdk/auth/index.js';
import type { ExecutorInfo, Offer, Operation, TaskInfo } from '../../sdk/protocol/types.js';
import { TaskState } from '../../sdk/protocol/types.js';
import { Resources } from '../../sdk/resources/resources.js';
import { VirtualClock } from '../../sdk/util/clock.js';

function task(id: string, agentId: string, resources: string, extra: Partial<TaskInfo> = {}): TaskInfo {
  return {
    name: id,
    task_id: id,
    agent_id: agentId,
    resources: Resources.parse(resources).toList(),
    command: { value: 'sleep 100' },
    ...extra,
  };
}

function executor(id: string, resources = 'cpus:0.1;mem:32', extra: Partial<ExecutorInfo> = {}): ExecutorInfo {
  return { executor_id: id, type: 'DEFAULT', resources: Resources.parse(resources).toList(), ...extra };
}

function group(exec: ExecutorInfo, tasks: TaskInfo[], kill?: boolean): Operation {
  return {
    type: 'LAUNCH_GROUP',
    launch_group: {
      executor: exec,
      task_group: { tasks, ...(kill === undefined ? {} : { kill_group_on_task_failure: kill }) },
    },
  };
}

async function setup(resources = 'cpus:2;mem:512') {
  const h = await MasterHarness.start();
  const a = await h.addAgent({ resources });
  const f = await h.subscribe({ name: 'fw' });
  const offer = f.offers()[0];
  return { h, a, f, offer };
}

function launchGroup(f: FakeScheduler, offer: Offer, op: Operation): void {
  f.accept([offer.id], [op], 0);
}

describe('master task groups (LAUNCH_GROUP)', () => {
  it('launches a group that fits: one RUN_TASK_GROUP, each task tracked with its own status, executor booked once', async () => {
    const { h, a, f, offer } = await setup();
    const aid = offer.agent_id;
    launchGroup(
      f,
      offer,
      group(executor('e1'), [task('t1', aid, 'cpus:0.5;mem:64'), task('t2', aid, 'cpus:0.5;mem:64')]),
    );
    await h.settle();
    const sent = a.peer.all('RUN_TASK_GROUP');
    expect(sent).to.have.length(1);
    expect(sent[0].executor.executor_id).to.equal('e1');
    expect(sent[0].task_group.tasks.map((t) => t.task_id)).to.deep.equal(['t1', 't2']);
    expect(a.runTasks()).to.deep.equal([]);
    expect([...h.master.tasks.values()].map((t) => [t.task.task_id, t.state])).to.deep.equal([
      ['t1', TaskState.STAGING],
      ['t2', TaskState.STAGING],
    ]);
    const agent = h.master.agents.get(aid);
    expect(agent?.used.toString()).to.equal('cpus:1.1;mem:160');

    // Each task reports on its own.
    a.update(f.frameworkId!, { task_id: 't1', state: TaskState.RUNNING });
    a.update(f.frameworkId!, { task_id: 't2', state: TaskState.RUNNING });
    a.update(f.frameworkId!, { task_id: 't1', state: TaskState.FAILED });
    a.update(f.frameworkId!, { task_id: 't2', state: TaskState.KILLED });
    await h.settle();
    expect(f.updates().map((u) => `${u.task_id}:${u.state}`)).to.include.members([
      't1:TASK_RUNNING',
      't2:TASK_RUNNING',
      't1:TASK_FAILED',
      't2:TASK_KILLED',
    ]);
    // The executor's resources went back with the last task.
    expect(agent?.used.isEmpty()).to.equal(true);
  });

  it('keeps the executor booked while any task of the group lives', async () => {
    const { h, a, f, offer } = await setup();
    const aid = offer.agent_id;
    launchGroup(f, offer, group(executor('e1'), [task('t1', aid, 'cpus:0.5'), task('t2', aid, 'cpus:0.5')], false));
    await h.settle();
    a.update(f.frameworkId!, { task_id: 't1', state: TaskState.FINISHED });
    await h.settle();
    expect(h.master.agents.get(aid)?.used.toString()).to.equal('cpus:0.6;mem:32');
    expect(a.peer.all('RUN_TASK_GROUP')[0].task_group.kill_group_on_task_failure).to.equal(false);
  });

  it('refuses the whole group when the tasks and the executor do not fit together (all or none)', async () => {
    const { h, a, f, offer } = await setup('cpus:1;mem:512');
    const aid = offer.agent_id;
    // Each task fits alone; together with the executor they do not.
    launchGroup(
      f,
      offer,
      group(executor('e1', 'cpus:0.2'), [task('t1', aid, 'cpus:0.5'), task('t2', aid, 'cpus:0.5')]),
    );
    await h.settle();
    expect(a.peer.all('RUN_TASK_GROUP')).to.deep.equal([]);
    const ups = f.updates();
    expect(ups.map((u) => [u.task_id, u.state, u.reason])).to.deep.equal([
      ['t1', TaskState.ERROR, 'REASON_TASK_GROUP_INVALID'],
      ['t2', TaskState.ERROR, 'REASON_TASK_GROUP_INVALID'],
    ]);
    expect(ups[0].message).to.match(/task 't2'.*offer holds only/);
    expect(h.master.tasks.size).to.equal(0);
    expect(h.master.agents.get(aid)?.used.isEmpty()).to.equal(true);
  });

  it('refuses a group with a task id used twice, or already in use by the framework', async () => {
    const { h, a, f, offer } = await setup();
    const aid = offer.agent_id;
    launchGroup(f, offer, group(executor('e1'), [task('t1', aid, 'cpus:0.1'), task('t1', aid, 'cpus:0.1')]));
    await h.settle();
    expect(f.updates().every((u) => u.state === TaskState.ERROR && /already in use/.test(u.message ?? ''))).to.equal(
      true,
    );
    expect(a.peer.all('RUN_TASK_GROUP')).to.deep.equal([]);

    await h.allocate();
    const o2 = f.offers()[0];
    f.launch(o2, [{ task_id: 'solo', resources: 'cpus:0.1' }], 0);
    await h.settle();
    await h.allocate();
    const o3 = f.offers()[0];
    launchGroup(f, o3, group(executor('e2'), [task('x', aid, 'cpus:0.1'), task('solo', aid, 'cpus:0.1')]));
    await h.settle();
    expect(
      f
        .updates()
        .filter((u) => u.task_id === 'x')
        .map((u) => u.state),
    ).to.deep.equal([TaskState.ERROR]);
    expect(a.peer.all('RUN_TASK_GROUP')).to.deep.equal([]);
  });

  it('refuses an executor id the framework already runs on the agent', async () => {
    const { h, a, f, offer } = await setup();
    const aid = offer.agent_id;
    launchGroup(f, offer, group(executor('e1'), [task('t1', aid, 'cpus:0.1')]));
    await h.settle();
    await h.allocate();
    const o2 = f.offers()[0];
    launchGroup(f, o2, group(executor('e1'), [task('t2', aid, 'cpus:0.1')]));
    await h.settle();
    expect(a.peer.all('RUN_TASK_GROUP')).to.have.length(1);
    const t2 = f.updates().find((u) => u.task_id === 't2');
    expect(t2?.state).to.equal(TaskState.ERROR);
    expect(t2?.message).to.match(/executor id 'e1' is already in use/);
  });

  it('re-books the executor once when the agent re-registers with the group after a failover', async () => {
    const { h, a, f, offer } = await setup();
    const aid = offer.agent_id;
    const exec = executor('e1');
    launchGroup(f, offer, group(exec, [task('t1', aid, 'cpus:0.5'), task('t2', aid, 'cpus:0.5')]));
    await h.settle();
    const tasks = a.peer.all('RUN_TASK_GROUP')[0].task_group.tasks;
    const h2 = await h.failover();
    await h2.subscribe({ id: f.frameworkId, name: 'fw' });
    const a2 = h2.connectAgent({ resources: 'cpus:2;mem:512' });
    await a2.reregister(
      tasks.map((t) => ({
        task: t,
        framework_id: f.frameworkId!,
        state: TaskState.RUNNING,
        group: { executor: exec },
      })),
      aid,
    );
    expect(h2.master.agents.get(aid)?.used.toString()).to.equal('cpus:1.1;mem:32');
    expect([...h2.master.tasks.values()].map((t) => t.state)).to.deep.equal([TaskState.RUNNING, TaskState.RUNNING]);
    // And given back once, with the last task.
    a2.update(f.frameworkId!, { task_id: 't1', state: TaskState.FINISHED });
    await h2.settle();
    expect(h2.master.agents.get(aid)?.used.toString()).to.equal('cpus:0.6;mem:32');
    a2.update(f.frameworkId!, { task_id: 't2', state: TaskState.FINISHED });
    await h2.settle();
    expect(h2.master.agents.get(aid)?.used.isEmpty()).to.equal(true);
  });

  it('refuses the whole group when the ACLs refuse one task its user (run_tasks)', async () => {
    const a = new SecurityAuthorizer({
      acls: parseAcls(
        JSON.stringify({
          run_tasks: [
            { principals: { values: ['alice'] }, users: { values: ['alice'] } },
            { principals: { type: 'ANY' }, users: { type: 'NONE' } },
          ],
        }),
      ),
      clock: new VirtualClock(0),
    });
    const h = await MasterHarness.start({
      permits: (p: string | undefined, action: string, object: string | undefined) => a.permits(p, action, object),
    });
    const agent = await h.addAgent();
    const f = await h.subscribe({ name: 'f', user: 'alice' }, { principal: 'alice' });
    const [offer] = f.offers();
    const aid = offer.agent_id;
    launchGroup(
      f,
      offer,
      group(executor('e1'), [
        task('ok', aid, 'cpus:0.1'),
        task('root', aid, 'cpus:0.1', { command: { value: 'id', user: 'root' } }),
      ]),
    );
    await h.settle();
    expect(agent.peer.all('RUN_TASK_GROUP')).to.deep.equal([]);
    expect(f.updates().map((u) => [u.task_id, u.state, u.reason])).to.deep.equal([
      ['ok', TaskState.ERROR, 'REASON_TASK_UNAUTHORIZED'],
      ['root', TaskState.ERROR, 'REASON_TASK_UNAUTHORIZED'],
    ]);
    expect(h.master.tasks.size).to.equal(0);
  });

  describe('planAccept of LAUNCH_GROUP (pure, table)', () => {
    const offers = new Map([
      [
        'O1',
        {
          id: 'O1',
          frameworkId: 'F1',
          agentId: 'A1',
          role: 'web',
          resources: Resources.parse('cpus:2;mem:256;cpus(web):1'),
        },
      ],
    ]);
    const cases: [string, Operation, RegExp | undefined][] = [
      [
        'fits with reserved and unreserved',
        group(executor('e'), [task('a', 'A1', 'cpus(web):1'), task('b', 'A1', 'cpus:1')]),
        undefined,
      ],
      ['executor too big', group(executor('e', 'cpus:5'), [task('a', 'A1', 'cpus:0.1')]), /the executor needs/],
      [
        'executor of another framework',
        group(executor('e', 'cpus:0.1', { framework_id: 'F2' }), [task('a', 'A1', 'cpus:0.1')]),
        /names framework 'F2'/,
      ],
      ['task on another agent', group(executor('e'), [task('a', 'A2', 'cpus:0.1')]), /names agent 'A2'/],
      [
        'mixed docker and command tasks',
        group(executor('e'), [
          task('a', 'A1', 'cpus:0.1'),
          task('b', 'A1', 'cpus:0.1', { container: { type: 'DOCKER', docker: { image: 'x' } } }),
        ]),
        /mix docker/,
      ],
      [
        'executor role of another role',
        group(executor('e', 'cpus(db):0.1'), [task('a', 'A1', 'cpus:0.1')]),
        /reserved for role 'db'/,
      ],
    ];
    for (const [name, op, want] of cases) {
      it(name, () => {
        const p = planAccept({
          frameworkId: 'F1',
          offerIds: ['O1'],
          operations: [op],
          offers,
          taskIdInUse: () => false,
        });
        if (!want) {
          expect(p.rejected).to.deep.equal([]);
          expect(p.groups).to.have.length(1);
          expect(p.remaining.toString()).to.equal('cpus:0.9;mem:224');
        } else {
          expect(p.groups).to.deep.equal([]);
          expect(p.rejected.length).to.be.greaterThan(0);
          expect(p.rejected.every((r) => r.reason === 'REASON_TASK_GROUP_INVALID')).to.equal(true);
          expect(p.rejected[0].message).to.match(want);
        }
      });
    }
  });
});
