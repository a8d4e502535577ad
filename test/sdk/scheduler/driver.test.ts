/** The scheduler driver without a master: calls are checked before they leave; teardown waits for the master. */
import { expect } from 'chai';
import { ProtocolError } from '../../../sdk/protocol/index.js';
import { SchedulerDriver } from '../../../sdk/scheduler/driver.js';
import { systemClock, VirtualClock } from '../../../sdk/util/clock.js';
import { freePort } from '../../support/cluster.js';
import { offer, taskInfo } from '../codec/fixtures.js';

function driver(clock = new VirtualClock()): SchedulerDriver {
  return new SchedulerDriver({ master: () => undefined, framework: { name: 'test' }, clock });
}

describe('SchedulerDriver', () => {
  it('refuses a call the master would refuse, naming the field, before sending anything', () => {
    const d = driver();
    const bad = { ...taskInfo(1), task_id: '../escape' };
    expect(() => d.launch(offer(1), [bad]))
      .to.throw(ProtocolError, /task_infos\[0\]\.task_id/)
      .with.property('code', 'AGORA_PROTOCOL_INVALID_MESSAGE');
    expect(() => d.kill('a\nb')).to.throw(ProtocolError, /kill\.task_id/);
    expect(() => d.decline(['o-1'], { refuse_seconds: -1 })).to.throw(ProtocolError, /refuse_seconds/);
    expect(() => d.suppress(['../etc'])).to.throw(ProtocolError, /suppress\.roles\[0\]/);
  });

  it('says through its error event that the master cannot be reached (nothing listens on the port)', async () => {
    const port = await freePort(); // free: connections to it are refused
    const d = new SchedulerDriver({ master: `127.0.0.1:${port}`, framework: { name: 'test' }, clock: systemClock });
    const error = new Promise<{ code?: string; message: string }>((r) => d.once('error', r));
    d.start();
    const e = await error;
    await d.stop();
    expect(e.code).to.equal('AGORA_DRIVER_MASTER_UNREACHABLE');
    expect(e.message).to.match(/ECONNREFUSED/);
  });

  it('answers false for a valid call while not subscribed', () => {
    const d = driver();
    expect(d.launch(offer(1), [taskInfo(1)])).to.equal(false);
    expect(d.kill('t-1')).to.equal(false);
    expect(d.reconcile()).to.equal(false);
  });

  it('does not call a TEARDOWN done on a timer: without a master to acknowledge it, it stays pending', async () => {
    const clock = new VirtualClock();
    const d = driver(clock);
    let done = false;
    void d.teardown().then(() => {
      done = true;
    });
    await clock.advanceAsync(60_000);
    expect(done).to.equal(false);
    await d.stop();
  });
});
