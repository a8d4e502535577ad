import { expect } from 'chai';
import { ConnectionGuard } from '../../master/conn-guard.js';
import { VirtualClock } from '../../sdk/util/clock.js';

describe('master/conn-guard: per-address cap and the deadline to get in', () => {
  it('closes, at its own deadline, each connection that did not get in, and only those', () => {
    const clock = new VirtualClock(1000);
    const guard = new ConnectionGuard(clock, { deadlineMs: 100 });
    const expired: string[] = [];
    const open = (conn: string) => guard.opened(conn, '10.0.0.1', () => expired.push(conn));
    open('a1');
    open('a2');
    open('a3');
    clock.advance(40);
    open('a4');
    guard.sent('a2', 'REGISTERED');
    guard.sent('a3', 'PING'); // not an admission answer
    guard.closed('a1'); // gone before its deadline
    clock.advance(59);
    expect(expired).to.deep.equal([]);
    clock.advance(1);
    expect(expired).to.deep.equal(['a3']);
    clock.advance(39);
    expect(expired).to.deep.equal(['a3']);
    clock.advance(1);
    expect(expired).to.deep.equal(['a3', 'a4']);
    expect(guard.count('10.0.0.1')).to.equal(3);
    // A connection opened after the others expired is watched again.
    open('a5');
    clock.advance(100);
    expect(expired).to.deep.equal(['a3', 'a4', 'a5']);
    guard.stop();
  });

  it('caps the connections from one address', () => {
    const guard = new ConnectionGuard(new VirtualClock(0), { maxPerAddress: 2, deadlineMs: 0 });
    guard.opened('s1', 'x', () => {});
    expect(guard.allows('x')).to.equal(true);
    guard.opened('s2', 'x', () => {});
    expect(guard.allows('x')).to.equal(false);
    expect(guard.allows('y')).to.equal(true);
    guard.closed('s1');
    expect(guard.allows('x')).to.equal(true);
  });
});
