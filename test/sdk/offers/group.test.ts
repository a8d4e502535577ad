import { expect } from 'chai';
import { buildLaunchGroup, buildTaskInfo, InvalidTaskSpec, takeAll } from '../../../sdk/offers/index.js';
import { Resources } from '../../../sdk/resources/resources.js';

describe('sdk/offers buildLaunchGroup', () => {
  const offer = { resources: Resources.parse('cpus:2;mem:512;ports:[31000-31010]'), allocation_role: '*' };

  it('builds a LAUNCH_GROUP from an executor need and task needs taken together', () => {
    const r = takeAll(offer, [
      { cpus: 0.1, mem: 32 },
      { cpus: 0.5, mem: 128, anyPorts: 1 },
      { cpus: 0.5, mem: 64 },
    ]);
    if (!r.ok) throw new Error(r.reasons.join('; '));
    const [exec, web, side] = r.each;
    const op = buildLaunchGroup({
      executorId: 'pod-1',
      executorResources: exec.taken,
      networkIsolation: true,
      tasks: [
        buildTaskInfo({
          id: 'web',
          agentId: 'a1',
          resources: web.taken,
          containerizer: 'linux',
          command: 'serve $PORT0',
        }),
        buildTaskInfo({
          id: 'side',
          agentId: 'a1',
          resources: side.taken,
          containerizer: 'linux',
          command: 'tail -F shared/log',
        }),
      ],
      killGroupOnTaskFailure: false,
    });
    expect(op.launch_group.executor).to.deep.equal({
      executor_id: 'pod-1',
      type: 'DEFAULT',
      resources: Resources.parse('cpus:0.1;mem:32').toList(),
      container: { type: 'MESOS', network_isolation: true },
    });
    expect(op.launch_group.task_group.tasks.map((t) => t.task_id)).to.deep.equal(['web', 'side']);
    expect(op.launch_group.task_group.kill_group_on_task_failure).to.equal(false);
    expect(r.left.toString()).to.equal('cpus:0.9;mem:288;ports:[31001-31010]');
  });

  const task = buildTaskInfo({ id: 't', agentId: 'a', resources: Resources.parse('cpus:0.1'), command: 'x' });
  const dock = buildTaskInfo({ id: 'd', agentId: 'a', resources: Resources.parse('cpus:0.1'), docker: { image: 'i' } });
  const bad: [string, Parameters<typeof buildLaunchGroup>[0], RegExp][] = [
    ['no tasks', { executorId: 'e', executorResources: [], tasks: [] }, /needs tasks/],
    ['mixed docker and command', { executorId: 'e', executorResources: [], tasks: [task, dock] }, /all docker or none/],
    [
      'isolation on docker',
      { executorId: 'e', executorResources: [], tasks: [dock], networkIsolation: true },
      /linux groups/,
    ],
    ['a bad executor id', { executorId: '..', executorResources: [], tasks: [task] }, /executor_id/],
  ];
  for (const [name, spec, why] of bad) {
    it(`refuses ${name}`, () => {
      expect(() => buildLaunchGroup(spec)).to.throw(InvalidTaskSpec, why);
    });
  }
});
