/**
 * An ACCEPT refused only for some of its operations or tasks keeps its valid rest (`partial`), so
 * that the master can answer the bad tasks with TASK_ERROR and carry out the others (issue 9, 11).
 */
import { expect } from 'chai';
import { pack } from 'msgpackr';
import { CodecError, decode, encode } from '../../../sdk/codec/index.js';
import { type PartialAccept, ProtocolError, type SchedulerCall, validateMessage } from '../../../sdk/protocol/index.js';
import { schedulerCalls, taskInfo } from '../codec/fixtures.js';

function partialOf(value: unknown): PartialAccept | undefined {
  try {
    validateMessage('scheduler_to_master', value);
  } catch (e) {
    expect(e).to.be.instanceOf(ProtocolError);
    expect((e as ProtocolError).code).to.equal('AGORA_PROTOCOL_INVALID_MESSAGE');
    return (e as ProtocolError).partial;
  }
  expect.fail('expected the ACCEPT to be refused');
}

const good = taskInfo(1);
const negative = { ...taskInfo(2), resources: [{ name: 'cpus', type: 'SCALAR', scalar: { value: -0.5 } }] };
const badId = { ...taskInfo(3), task_id: '..' };
const accept = (operations: unknown[], extra: Record<string, unknown> = {}) => ({
  type: 'ACCEPT',
  framework_id: 'fw-1',
  accept: { offer_ids: ['o-1'], operations, filters: { refuse_seconds: 5 } },
  ...extra,
});

describe('partial ACCEPT', () => {
  it('keeps the valid tasks of a LAUNCH and names the refused ones', () => {
    const p = partialOf(accept([{ type: 'LAUNCH', launch: { task_infos: [good, negative, badId] } }]));
    expect(p).to.not.equal(undefined);
    expect(p?.call).to.deep.equal(accept([{ type: 'LAUNCH', launch: { task_infos: [good] } }]));
    expect(p?.refused.map((r) => [r.operation, r.task, r.task_id, r.type])).to.deep.equal([
      [0, 1, negative.task_id, 'LAUNCH'],
      [0, 2, undefined, 'LAUNCH'],
    ]);
    expect(p?.refused[0].message).to.match(/^message\.accept\.operations\[0\]\.launch\.task_infos\[1\]\.resources/);
    expect(p?.refused[1].message).to.match(/task_infos\[2\]\.task_id: '\.\.' is not a valid id/);
    // The rest is a valid message in its own right.
    expect(validateMessage('scheduler_to_master', p?.call)).to.equal(p?.call);
  });

  it('refuses an invalid LAUNCH_GROUP whole, naming each of its tasks, and keeps the others', () => {
    const bad = {
      type: 'LAUNCH_GROUP',
      launch_group: {
        executor: { executor_id: 'e', type: 'CUSTOM', resources: [] },
        task_group: { tasks: [taskInfo(4), badId, taskInfo(5)] },
      },
    };
    const p = partialOf(accept([bad, { type: 'LAUNCH', launch: { task_infos: [good] } }]));
    expect(p?.call.accept.operations).to.deep.equal([{ type: 'LAUNCH', launch: { task_infos: [good] } }]);
    expect(p?.refused.map((r) => [r.operation, r.task, r.task_id, r.type])).to.deep.equal([
      [0, 0, taskInfo(4).task_id, 'LAUNCH_GROUP'],
      [0, 2, taskInfo(5).task_id, 'LAUNCH_GROUP'],
    ]);
    expect(p?.refused[0].message).to.match(/launch_group/);
  });

  it('refuses a bad RESERVE or an unknown operation whole and keeps the others', () => {
    const reserve = {
      type: 'RESERVE',
      reserve: { resources: [{ name: 'cpus', type: 'SCALAR', scalar: { value: 1 }, role: '../etc' }] },
    };
    const p = partialOf(
      accept([reserve, { type: 'DESTROY_EVERYTHING' }, { type: 'LAUNCH', launch: { task_infos: [good] } }]),
    );
    expect(p?.call.accept.operations).to.deep.equal([{ type: 'LAUNCH', launch: { task_infos: [good] } }]);
    expect(p?.refused.map((r) => [r.operation, r.type])).to.deep.equal([
      [0, 'RESERVE'],
      [1, 'DESTROY_EVERYTHING'],
    ]);
  });

  it('gives nothing back when the fault is outside the operations', () => {
    const launch = { type: 'LAUNCH', launch: { task_infos: [negative] } };
    expect(partialOf(accept([launch], { framework_id: '..' }))).to.equal(undefined);
    expect(partialOf({ ...accept([launch]), accept: { offer_ids: 'o-1', operations: [launch] } })).to.equal(undefined);
    expect(partialOf(accept([launch], { extra: 1 }))).to.equal(undefined);
    expect(partialOf({ ...schedulerCalls.KILL, kill: {} })).to.equal(undefined);
  });

  it('comes through the codec on the CodecError', () => {
    const frame = encode(accept([{ type: 'LAUNCH', launch: { task_infos: [negative, good] } }]) as SchedulerCall);
    try {
      decode('scheduler_to_master', frame);
      expect.fail('expected a CodecError');
    } catch (e) {
      expect(e).to.be.instanceOf(CodecError);
      expect((e as CodecError).partial?.call.accept.operations).to.deep.equal([
        { type: 'LAUNCH', launch: { task_infos: [good] } },
      ]);
      expect((e as CodecError).partial?.refused[0].task_id).to.equal(negative.task_id);
    }
  });
});

describe('partial ACCEPT: a non-finite number in one task (found by the fuzzer)', () => {
  for (const bad of [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]) {
    it(`refuses only the task whose cpus is ${bad}, keeps the others`, () => {
      const task = (id: string, v: number) => ({
        name: id,
        task_id: id,
        agent_id: 'S1',
        resources: [{ name: 'cpus', type: 'SCALAR', scalar: { value: v } }],
        command: { value: 'true' },
      });
      const frame = pack({
        type: 'ACCEPT',
        framework_id: 'F1',
        accept: {
          offer_ids: ['O1'],
          operations: [{ type: 'LAUNCH', launch: { task_infos: [task('bad', bad), task('ok', 1)] } }],
        },
      });
      let err: CodecError | undefined;
      try {
        decode('scheduler_to_master', frame);
      } catch (e) {
        err = e as CodecError;
      }
      expect(err?.code).to.equal('AGORA_PROTOCOL_INVALID_MESSAGE');
      expect(err?.partial?.refused.map((r) => r.task_id)).to.deep.equal(['bad']);
      const kept = err?.partial?.call.accept.operations[0];
      expect(kept?.type === 'LAUNCH' ? kept.launch.task_infos.map((t) => t.task_id) : []).to.deep.equal(['ok']);
    });
  }
});

describe('an undefined value in a frame is an invalid message, not a malformed frame (found by the fuzzer)', () => {
  it('refuses offer_ids holding undefined as INVALID_MESSAGE (the connection may stay)', () => {
    const frame = pack({
      type: 'ACCEPT',
      framework_id: 'F1',
      accept: { offer_ids: ['O1', undefined], operations: [] },
    });
    let err: CodecError | undefined;
    try {
      decode('scheduler_to_master', frame);
    } catch (e) {
      err = e as CodecError;
    }
    expect(err?.code).to.equal('AGORA_PROTOCOL_INVALID_MESSAGE');
  });

  it('reads an undefined field as absent, like nil', () => {
    const frame = pack({ type: 'PONG', seq: 3, extra: undefined });
    expect(decode('agent_to_master', frame)).to.deep.equal({ type: 'PONG', seq: 3 });
  });
});
