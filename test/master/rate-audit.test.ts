/**
 * `--rate_limits` on framework calls (Mesos's purpose for the flag) and the audit of refused
 * protocol calls, through the harness on a virtual clock.
 */
import { expect } from 'chai';
import { MasterHarness } from '../../master/testing/index.js';
import { parseRateLimits, RateLimiter } from '../../sdk/auth/index.js';
import type { AccessRecord } from '../../sdk/http/auth.js';
import { VirtualClock } from '../../sdk/util/clock.js';

describe('master: framework calls under --rate_limits, refusals audited (harness)', () => {
  it('refuses calls over a principal’s budget with AGORA_MASTER_RATE_LIMITED, changes nothing, refills with time', async () => {
    const audited: AccessRecord[] = [];
    const clock = new VirtualClock(0);
    const limiter = new RateLimiter(
      parseRateLimits(JSON.stringify({ limits: [{ principal: 'chatty', qps: 1, capacity: 2 }] })),
      clock,
    );
    const h = await MasterHarness.start({ clock, rateLimiter: limiter, audit: (r) => audited.push(r) });
    await h.addAgent();
    const f = await h.subscribe({ name: 'chatty', principal: 'chatty', failover_timeout: 60 });
    const quiet = await h.subscribe({ name: 'quiet', principal: 'quiet', failover_timeout: 60 });
    // Five SUPPRESS calls at one instant: the budget (capacity 2) lets two through.
    for (let i = 0; i < 5; i++) f.call({ type: 'SUPPRESS', framework_id: '' });
    await h.settle();
    const limited = f.peer.all('ERROR').filter((e) => e.error.code === 'AGORA_MASTER_RATE_LIMITED');
    expect(limited).to.have.length(3);
    expect(h.master.counters.frameworkCallsRateLimited).to.equal(3);
    expect(f.peer.open, 'the connection stays').to.equal(true);
    // A REVIVE over the budget changes nothing: the framework stays suppressed.
    f.call({ type: 'REVIVE', framework_id: '' });
    await h.settle();
    expect(h.master.frameworks.get(f.frameworkId!)?.suppressedRoles.size).to.equal(1);
    // Another principal is not limited by chatty's budget.
    for (let i = 0; i < 5; i++) quiet.call({ type: 'SUPPRESS', framework_id: '' });
    await h.settle();
    expect(quiet.errors()).to.deep.equal([]);
    // One second later, one token is back: the REVIVE goes through.
    await h.advance(1_000);
    f.call({ type: 'REVIVE', framework_id: '' });
    await h.settle();
    expect(h.master.frameworks.get(f.frameworkId!)?.suppressedRoles.size).to.equal(0);
    expect(audited.filter((r) => r.status === 429 && r.principal === 'chatty')).to.have.length(4);
    expect(audited[0]).to.include({ method: 'WS', path: '/api/v1/scheduler/ws', decision: 'deny' });
  });

  it('audits a SUBSCRIBE refused by register_frameworks, with the principal, action and status', async () => {
    const audited: AccessRecord[] = [];
    const h = await MasterHarness.start({
      permits: (p, action) => !(p === 'mallory' && action === 'register_frameworks'),
      audit: (r) => audited.push(r),
    });
    const f = await h.connectScheduler({ principal: 'mallory' }).subscribe({ name: 'm', roles: ['prod'] });
    expect(f.errors()).to.deep.equal(['AGORA_AUTH_NOT_AUTHORIZED']);
    expect(audited).to.have.length(1);
    expect(audited[0]).to.include({
      principal: 'mallory',
      action: 'register_frameworks',
      decision: 'deny',
      status: 403,
    });
  });
});
