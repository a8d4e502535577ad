import { expect } from 'chai';
import { sharedTaskList, shareRecovered, taskResources } from '../../../master/state/task-resources.js';
import { type TaskRecord, TaskState } from '../../../sdk/protocol/types.js';
import { type Resource, ResourceError } from '../../../sdk/resources/resources.js';

const scalar = (name: string, value: number, role?: string): Resource => ({
  name,
  type: 'SCALAR',
  scalar: { value },
  ...(role ? { role } : {}),
});

describe('master/state/task-resources: one Resources per distinct task resource list', () => {
  it('shares the value between tasks of the same scalar list, and only those', () => {
    const a = taskResources([scalar('cpus', 0.1), scalar('mem', 32)]);
    expect(taskResources([scalar('cpus', 0.1), scalar('mem', 32)])).to.equal(a);
    expect(a.toString()).to.equal('cpus:0.1;mem:32');
    expect(taskResources([scalar('cpus', 0.2), scalar('mem', 32)])).to.not.equal(a);
    expect(taskResources([scalar('cpus', 0.1, 'web'), scalar('mem', 32)])).to.not.equal(a);
    expect(taskResources([scalar('cpus', 0.1, 'web'), scalar('mem', 32)]).toString()).to.equal('cpus(web):0.1;mem:32');
  });

  it('still refuses an invalid list, even one whose text would look like a shared one', () => {
    taskResources([scalar('cpus', 0.1), scalar('mem', 32)]);
    expect(() => taskResources([scalar('cpus', -1)])).to.throw(ResourceError);
    // A name holding what separates entries in a naive key: not a valid name, never the shared value.
    expect(() => taskResources([scalar('cpus:0.1;mem', 32)])).to.throw(ResourceError);
    expect(() => taskResources([scalar('cpus\u0000*\u00000.1\u0001mem', 32)])).to.throw(ResourceError);
  });

  it('shares lists with ranges by every range, and builds lists with sets as before (not shared)', () => {
    const ports = (...r: [number, number][]): Resource => ({
      name: 'ports',
      type: 'RANGES',
      ranges: { range: r.map(([begin, end]) => ({ begin, end })) },
    });
    const a = taskResources([scalar('cpus', 1), ports([31000, 31000], [31002, 31010])]);
    expect(taskResources([scalar('cpus', 1), ports([31000, 31000], [31002, 31010])])).to.equal(a);
    expect(a.toString()).to.equal('cpus:1;ports:[31000-31000,31002-31010]');
    expect(taskResources([scalar('cpus', 1), ports([31000, 31000], [31002, 31011])])).to.not.equal(a);
    expect(taskResources([scalar('cpus', 1), ports([31000, 31000])])).to.not.equal(a);
    expect(taskResources([scalar('cpus', 1), { ...ports([31000, 31000], [31002, 31010]), role: 'web' }])).to.not.equal(
      a,
    );
    const many = ports(...Array.from({ length: 65 }, (_, i): [number, number] => [31000 + 2 * i, 31000 + 2 * i]));
    expect(taskResources([many])).to.not.equal(taskResources([many]));
    const zones: Resource = { name: 'zones', type: 'SET', set: { item: ['a'] } };
    expect(taskResources([scalar('cpus', 1), zones])).to.not.equal(taskResources([scalar('cpus', 1), zones]));
  });
});

describe('master/state/task-resources: resource lists and strings a recovered task shares', () => {
  it('gives tasks of one plain scalar list one frozen list, equal to each as data', () => {
    const a = [scalar('cpus', 0.1), scalar('mem', 32)];
    const b = [scalar('cpus', 0.1), scalar('mem', 32)];
    const shared = sharedTaskList(a);
    expect(shared).to.deep.equal(a);
    expect(JSON.stringify(shared)).to.equal(JSON.stringify(a));
    expect(sharedTaskList(b)).to.equal(shared);
    expect(Object.isFrozen(shared) && Object.isFrozen(shared[0]) && Object.isFrozen(shared[0].scalar)).to.equal(true);
    expect(() => {
      (shared as Resource[]).push(scalar('disk', 1));
    }).to.throw(TypeError);
  });

  it('never shares between lists that differ as data, nor lists with anything but plain scalars', () => {
    const plain = sharedTaskList([scalar('cpus', 0.1)]);
    // An absent role and the default role '*' mean the same resources, but are not the same data.
    const star = [scalar('cpus', 0.1, '*')];
    expect(sharedTaskList(star)).to.deep.equal(star).and.to.not.equal(plain);
    expect(sharedTaskList([scalar('cpus', 0.2)])).to.not.equal(plain);
    expect(sharedTaskList([scalar('cpus', -0)])).to.not.equal(sharedTaskList([scalar('cpus', 0)]));
    const ports: Resource = { name: 'ports', type: 'RANGES', ranges: { range: [{ begin: 31000, end: 31000 }] } };
    const withRanges = [scalar('cpus', 0.1), ports];
    expect(sharedTaskList(withRanges)).to.equal(withRanges);
    const extra = [{ ...scalar('cpus', 0.1), reservation: {} } as unknown as Resource];
    expect(sharedTaskList(extra)).to.equal(extra);
    const undefinedRole = [{ ...scalar('cpus', 0.1), role: undefined } as unknown as Resource];
    expect(sharedTaskList(undefinedRole)).to.equal(undefinedRole);
    const scalarExtra = [{ name: 'cpus', type: 'SCALAR', scalar: { value: 0.1, x: 1 } } as unknown as Resource];
    expect(sharedTaskList(scalarExtra)).to.equal(scalarExtra);
  });

  it('shareRecovered keeps the task record equal as data', () => {
    const rec = (): TaskRecord => ({
      task: {
        name: 't1',
        task_id: 't1',
        agent_id: 'agent-1',
        resources: [scalar('cpus', 0.1), scalar('mem', 32)],
        command: { value: 'true' },
      },
      framework_id: 'fw',
      state: TaskState.RUNNING,
      status: {
        task_id: 't1',
        agent_id: 'agent-1',
        state: TaskState.RUNNING,
        source: 'SOURCE_EXECUTOR',
        uuid: 'u',
        timestamp: 1,
      },
    });
    const r = rec();
    shareRecovered('agent-1', r);
    expect(r).to.deep.equal(rec());
    const other = rec();
    other.task.agent_id = 'agent-2';
    shareRecovered('agent-1', other);
    expect(other.task.agent_id).to.equal('agent-2');
  });
});
