import { expect } from 'chai';
import {
  categoryOf,
  isActive,
  isAgentLoss,
  isFailure,
  isNewer,
  isPartitioned,
  isSuccess,
  isTerminal,
  TaskState,
} from '../../../sdk/offers/index.js';

describe('sdk/offers task-state model', () => {
  // state, terminal, active, partitioned, failure, category
  const table: [TaskState, boolean, boolean, boolean, boolean, string][] = [
    [TaskState.STAGING, false, true, false, false, 'active'],
    [TaskState.STARTING, false, true, false, false, 'active'],
    [TaskState.RUNNING, false, true, false, false, 'active'],
    [TaskState.KILLING, false, true, false, false, 'active'],
    [TaskState.FINISHED, true, false, false, false, 'finished'],
    [TaskState.KILLED, true, false, false, false, 'killed'],
    [TaskState.FAILED, true, false, false, true, 'failed'],
    [TaskState.ERROR, true, false, false, true, 'failed'],
    [TaskState.DROPPED, true, false, false, true, 'failed'],
    [TaskState.LOST, true, false, false, true, 'failed'],
    [TaskState.GONE, true, false, false, true, 'failed'],
    [TaskState.GONE_BY_OPERATOR, true, false, false, true, 'failed'],
    [TaskState.UNREACHABLE, false, false, true, false, 'partitioned'],
    [TaskState.UNKNOWN, false, false, true, false, 'partitioned'],
  ];
  it('covers every Mesos TaskState', () => {
    expect(table.map((r) => r[0]).sort()).to.deep.equal(Object.values(TaskState).sort());
  });
  for (const [state, terminal, active, partitioned, failure, category] of table) {
    it(`${state}: terminal ${terminal}, active ${active}, partitioned ${partitioned}, failure ${failure}, ${category}`, () => {
      expect(isTerminal(state)).to.equal(terminal);
      expect(isActive(state)).to.equal(active);
      expect(isPartitioned(state)).to.equal(partitioned);
      expect(isFailure(state)).to.equal(failure);
      expect(categoryOf(state)).to.equal(category);
      // Every state is exactly one of active, partitioned, terminal.
      expect([terminal, active, partitioned].filter(Boolean)).to.have.length(1);
    });
  }
  it('success and agent loss', () => {
    expect(isSuccess(TaskState.FINISHED)).to.equal(true);
    expect(isSuccess(TaskState.KILLED)).to.equal(false);
    expect(
      [TaskState.LOST, TaskState.GONE, TaskState.GONE_BY_OPERATOR, TaskState.FAILED].map(isAgentLoss),
    ).to.deep.equal([true, true, true, false]);
  });
  it('isNewer: never out of a terminal state, forwards among active ones, partitions both ways', () => {
    expect(isNewer(TaskState.STAGING, TaskState.RUNNING)).to.equal(true);
    expect(isNewer(TaskState.RUNNING, TaskState.STARTING)).to.equal(false);
    expect(isNewer(TaskState.FINISHED, TaskState.RUNNING)).to.equal(false);
    expect(isNewer(TaskState.FAILED, TaskState.KILLED)).to.equal(false);
    expect(isNewer(TaskState.RUNNING, TaskState.FAILED)).to.equal(true);
    expect(isNewer(TaskState.RUNNING, TaskState.UNREACHABLE)).to.equal(true);
    expect(isNewer(TaskState.UNREACHABLE, TaskState.RUNNING)).to.equal(true);
    expect(isNewer(TaskState.UNREACHABLE, TaskState.UNREACHABLE)).to.equal(false);
  });
});
