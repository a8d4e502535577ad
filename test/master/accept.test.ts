import { expect } from 'chai';
import { type OfferView, planAccept } from '../../master/accept.js';
import type { Operation, TaskInfo } from '../../sdk/protocol/types.js';
import { Resources } from '../../sdk/resources/resources.js';

function offer(id: string, resources: string, extra: Partial<OfferView> = {}): OfferView {
  return { id, frameworkId: 'F1', agentId: 'A1', role: '*', resources: Resources.parse(resources), ...extra };
}

function task(id: string, resources: string, extra: Partial<TaskInfo> = {}): TaskInfo {
  return {
    name: id,
    task_id: id,
    agent_id: 'A1',
    resources: Resources.parse(resources).toList(),
    command: { value: 'true' },
    ...extra,
  };
}

function launch(...tasks: TaskInfo[]): Operation {
  return { type: 'LAUNCH', launch: { task_infos: tasks } };
}

function plan(offers: OfferView[], offerIds: string[], operations: Operation[], inUse: string[] = []) {
  return planAccept({
    frameworkId: 'F1',
    offerIds,
    operations,
    offers: new Map(offers.map((o) => [o.id, o])),
    taskIdInUse: (id) => inUse.includes(id),
  });
}

describe('planAccept (pure ACCEPT validation)', () => {
  it('books tasks that fit and returns the rest', () => {
    const p = plan(
      [offer('O1', 'cpus:2;mem:256;ports:[31000-31010]')],
      ['O1'],
      [launch(task('t1', 'cpus:1;mem:128;ports:[31000-31000]'))],
    );
    expect(p.offerErrors).to.deep.equal([]);
    expect(p.rejected).to.deep.equal([]);
    expect(p.launches.map((l) => l.task.task_id)).to.deep.equal(['t1']);
    expect(p.remaining.toString()).to.equal('cpus:1;mem:128;ports:[31001-31010]');
  });

  it('adds offers of one agent together', () => {
    const p = plan(
      [offer('O1', 'cpus:1;mem:64'), offer('O2', 'cpus:1;mem:64')],
      ['O1', 'O2'],
      [launch(task('t', 'cpus:2;mem:128'))],
    );
    expect(p.launches).to.have.length(1);
    expect(p.remaining.isEmpty()).to.equal(true);
  });

  const rejections: {
    name: string;
    offers: OfferView[];
    ids: string[];
    ops: Operation[];
    inUse?: string[];
    reason: string;
    message: RegExp;
  }[] = [
    {
      name: 'resources beyond the offer',
      offers: [offer('O1', 'cpus:1;mem:64')],
      ids: ['O1'],
      ops: [launch(task('t', 'cpus:2;mem:64'))],
      reason: 'REASON_TASK_INVALID',
      message: /offer holds only/,
    },
    {
      name: 'a port the offer does not hold',
      offers: [offer('O1', 'cpus:1;mem:64;ports:[31000-31001]')],
      ids: ['O1'],
      ops: [launch(task('t', 'cpus:1;ports:[8080-8080]'))],
      reason: 'REASON_TASK_INVALID',
      message: /offer holds only/,
    },
    {
      name: 'an unknown offer',
      offers: [],
      ids: ['nope'],
      ops: [launch(task('t', 'cpus:1'))],
      reason: 'REASON_INVALID_OFFERS',
      message: /unknown or was already used/,
    },
    {
      name: "another framework's offer",
      offers: [offer('O1', 'cpus:1', { frameworkId: 'F2' })],
      ids: ['O1'],
      ops: [launch(task('t', 'cpus:1'))],
      reason: 'REASON_INVALID_OFFERS',
      message: /not made to this framework/,
    },
    {
      name: 'offers of two agents',
      offers: [offer('O1', 'cpus:1'), offer('O2', 'cpus:1', { agentId: 'A2' })],
      ids: ['O1', 'O2'],
      ops: [launch(task('t', 'cpus:1'))],
      reason: 'REASON_INVALID_OFFERS',
      message: /several agents/,
    },
    {
      name: 'the same offer twice in one call',
      offers: [offer('O1', 'cpus:1')],
      ids: ['O1', 'O1'],
      ops: [launch(task('t', 'cpus:1'))],
      reason: 'REASON_INVALID_OFFERS',
      message: /named twice/,
    },
    {
      name: 'a task id already in use',
      offers: [offer('O1', 'cpus:1')],
      ids: ['O1'],
      ops: [launch(task('t', 'cpus:1'))],
      inUse: ['t'],
      reason: 'REASON_TASK_INVALID',
      message: /already in use/,
    },
    {
      name: 'an agent mismatch',
      offers: [offer('O1', 'cpus:1')],
      ids: ['O1'],
      ops: [launch(task('t', 'cpus:1', { agent_id: 'A9' }))],
      reason: 'REASON_TASK_INVALID',
      message: /names agent 'A9'/,
    },
    {
      name: 'resources reserved for another role',
      offers: [offer('O1', 'cpus:1;cpus(web):1')],
      ids: ['O1'],
      ops: [launch(task('t', 'cpus(db):1'))],
      reason: 'REASON_TASK_INVALID',
      message: /reserved for role 'db'/,
    },
    {
      name: 'no command and no docker image',
      offers: [offer('O1', 'cpus:1')],
      ids: ['O1'],
      ops: [launch(task('t', 'cpus:1', { command: undefined }))],
      reason: 'REASON_TASK_INVALID',
      message: /neither a command/,
    },
    {
      name: 'no resources',
      offers: [offer('O1', 'cpus:1')],
      ids: ['O1'],
      ops: [launch(task('t', ''))],
      reason: 'REASON_TASK_INVALID',
      message: /no resources/,
    },
  ];
  for (const r of rejections) {
    it(`rejects ${r.name} and books nothing`, () => {
      const p = plan(r.offers, r.ids, r.ops, r.inUse);
      expect(p.launches).to.deep.equal([]);
      expect(p.rejected).to.have.length(1);
      expect(p.rejected[0].reason).to.equal(r.reason);
      expect(p.rejected[0].message).to.match(r.message);
    });
  }

  it('rejects a duplicate id within one call but launches the first', () => {
    const p = plan([offer('O1', 'cpus:2')], ['O1'], [launch(task('t', 'cpus:1'), task('t', 'cpus:1'))]);
    expect(p.launches).to.have.length(1);
    expect(p.rejected.map((x) => x.message)).to.satisfy((m: string[]) => /already in use/.test(m[0]));
    expect(p.remaining.toString()).to.equal('cpus:1');
  });

  it('books later tasks against what earlier ones left', () => {
    const p = plan(
      [offer('O1', 'cpus:1.5')],
      ['O1'],
      [launch(task('a', 'cpus:1'), task('b', 'cpus:1'), task('c', 'cpus:0.5'))],
    );
    expect(p.launches.map((l) => l.task.task_id)).to.deep.equal(['a', 'c']);
    expect(p.rejected.map((x) => x.taskId)).to.deep.equal(['b']);
  });

  it('RESERVE turns unreserved resources into the role, usable by a later LAUNCH in the same call', () => {
    const p = plan(
      [offer('O1', 'cpus:4;mem:256', { role: 'web' })],
      ['O1'],
      [
        { type: 'RESERVE', reserve: { resources: Resources.parse('cpus(web):2').toList() } },
        launch(task('t', 'cpus(web):2;mem:64')),
      ],
    );
    expect(p.offerErrors).to.deep.equal([]);
    expect(p.reserve.map(String)).to.deep.equal(['cpus(web):2']);
    expect(p.launches).to.have.length(1);
    expect(p.remaining.toString()).to.equal('cpus:2;mem:192');
  });

  it('refuses a RESERVE for another role than the offer', () => {
    const p = plan(
      [offer('O1', 'cpus:4', { role: 'web' })],
      ['O1'],
      [{ type: 'RESERVE', reserve: { resources: Resources.parse('cpus(db):1').toList() } }],
    );
    expect(p.offerErrors[0]).to.match(/role 'web'/);
  });
});

describe('planAccept: task ids that would escape the sandbox layout', () => {
  for (const id of ['.', '..', 'a/b', '../x', 'a\\b', 'tab\there', 'nul\u0000', '', 'x'.repeat(256)]) {
    it(`refuses task id ${JSON.stringify(id.length > 20 ? `${id.slice(0, 10)}…(${id.length})` : id)} with REASON_TASK_INVALID`, () => {
      const p = plan([offer('O1', 'cpus:2;mem:256')], ['O1'], [launch(task(id, 'cpus:1;mem:32'))]);
      expect(p.launches).to.have.length(0);
      expect(p.rejected.map((r) => r.reason)).to.deep.equal(['REASON_TASK_INVALID']);
    });
  }

  it('accepts ordinary ids (dots, dashes, colons, spaces, unicode letters)', () => {
    const p = plan([offer('O1', 'cpus:2;mem:256')], ['O1'], [launch(task('web.1-a:b_ü x', 'cpus:1;mem:32'))]);
    expect(p.launches).to.have.length(1);
  });
});
