import * as sdk from 'agora/sdk';
import * as testing from 'agora/sdk/testing';
import { expect } from 'chai';

describe('the public entry points (package.json exports)', () => {
  it('agora/sdk resolves by the package name and carries the driver, the protocol, resources, store, election and clock', () => {
    expect(sdk.SchedulerDriver).to.be.a('function');
    expect(sdk.Resources).to.be.a('function');
    expect(sdk.TaskState.RUNNING).to.equal('TASK_RUNNING');
    expect(sdk.LeaderElection).to.be.a('function');
    expect(sdk.FileStore).to.be.a('function');
    expect(sdk.VirtualClock).to.be.a('function');
    expect(sdk.AgoraError).to.be.a('function');
    expect(sdk.take).to.be.a('function'); // the offer helpers
    expect(sdk.buildTaskInfo).to.be.a('function');
  });
  it('agora/sdk/testing resolves by the package name', () => {
    expect(testing.VirtualClock).to.be.a('function');
  });
});
