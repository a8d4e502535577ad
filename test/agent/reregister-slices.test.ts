/**
 * The agent cuts a large re-registration into frames that each decode on the master (size and
 * element limits, schema), and that together carry every task and framework exactly once (issue 9).
 */
import { expect } from 'chai';
import { sliceReregister } from '../../agent/reregister-slices.js';
import { DEFAULT_MAX_FRAME_BYTES, decode, encode } from '../../sdk/codec/index.js';
import type { AgentMessage } from '../../sdk/protocol/messages.js';
import type { FrameworkInfo, TaskRecord } from '../../sdk/protocol/types.js';
import { Resources } from '../../sdk/resources/resources.js';

const agent = {
  id: 'agent-1-S1',
  hostname: 'big',
  port: 5051,
  resources: Resources.parse('cpus:64').toList(),
  attributes: {},
};
const frameworks: (FrameworkInfo & { id: string })[] = Array.from({ length: 40 }, (_, i) => ({
  id: `fw-${i}`,
  name: `framework ${i}`,
  user: 'root',
}));

function tasks(n: number, commandBytes: number): TaskRecord[] {
  const resources = Resources.parse('cpus:0.001;mem:1').toList();
  return Array.from({ length: n }, (_, i) => ({
    task: {
      name: `task ${i}`,
      task_id: `task-${i}`,
      agent_id: agent.id,
      resources,
      command: { value: `run --index ${i} ${'x'.repeat(commandBytes)}`, arguments: ['a', 'b', String(i)] },
    },
    framework_id: `fw-${i % 39}`,
    state: 'TASK_RUNNING',
  }));
}

function decodeAll(messages: AgentMessage[]): AgentMessage[] {
  return messages.map((m) => {
    const frame = encode(m);
    expect(frame.byteLength).to.be.at.most(DEFAULT_MAX_FRAME_BYTES);
    return decode('agent_to_master', frame);
  });
}

describe('agent re-registration slices', function () {
  // 30,000 large tasks: 28 s at load 25 on this 2-core machine, against mocha's 60 s default.
  this.timeout(180_000);
  it('keeps every frame of 30,000 large tasks decodable and gives back every task and framework once', () => {
    const all = tasks(30_000, 600);
    const single = encode({ type: 'REREGISTER', agent, version: 'v', tasks: all, frameworks });
    expect(single.byteLength).to.be.above(DEFAULT_MAX_FRAME_BYTES); // one frame could not carry it
    const got = decodeAll(sliceReregister({ agent, version: 'v' }, all, frameworks));
    expect(got.length).to.be.above(1);
    expect(got[0].type).to.equal('REREGISTER');
    const more = got.map((m) => (m.type === 'REREGISTER' || m.type === 'REREGISTER_TASKS' ? m.more : 'other'));
    expect(more).to.deep.equal([...Array(got.length - 1).fill(true), false]);
    const sentTasks: TaskRecord[] = [];
    const sentFw: string[] = [];
    for (const m of got) {
      if (m.type !== 'REREGISTER' && m.type !== 'REREGISTER_TASKS') throw new Error(`unexpected ${m.type}`);
      for (const f of m.frameworks) sentFw.push(f.id as string);
      // A task's framework arrives no later than the task.
      for (const t of m.tasks) expect(sentFw).to.include(t.framework_id);
      sentTasks.push(...m.tasks);
    }
    expect(sentTasks.map((t) => t.task.task_id)).to.deep.equal(all.map((t) => t.task.task_id));
    expect(sentTasks).to.deep.equal(all);
    expect([...sentFw].sort()).to.deep.equal(frameworks.map((f) => f.id).sort());
  });

  it('keeps frames of element-dense tasks within the decoder element counts', () => {
    const dense = tasks(3_000, 0).map((r) => ({
      ...r,
      task: { ...r.task, command: { arguments: Array<string>(1_000).fill('') } },
    }));
    const got = decodeAll(sliceReregister({ agent, version: 'v' }, dense, frameworks));
    expect(got.flatMap((m) => (m.type === 'REREGISTER_TASKS' || m.type === 'REREGISTER' ? m.tasks : []))).to.deep.equal(
      dense,
    );
  });

  it('sends one plain REREGISTER, without `more`, when it fits', () => {
    const few = tasks(3, 10);
    const got = decodeAll(sliceReregister({ agent, version: 'v' }, few, frameworks));
    expect(got).to.have.length(1);
    expect(got[0]).to.not.have.property('more');
    expect(got[0].type === 'REREGISTER' && got[0].tasks).to.deep.equal(few);
  });
});
