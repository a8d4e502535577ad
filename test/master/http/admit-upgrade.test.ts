/**
 * `admitUpgrade` with the SecurityAuthorizer, as the transport will call it: the principal of an
 * admitted upgrade, a 401 with WWW-Authenticate or a 403 written on the socket, each recorded for
 * the audit log.
 */
import type { IncomingMessage } from 'node:http';
import { type Duplex, Writable } from 'node:stream';
import { expect } from 'chai';
import {
  AGENT_CONNECT,
  basicAuthorization,
  parseAcls,
  parseCredentials,
  SCHEDULER_CONNECT,
  SecurityAuthorizer,
} from '../../../sdk/auth/index.js';
import { type AccessRecord, admitUpgrade } from '../../../sdk/http/index.js';
import { VirtualClock } from '../../../sdk/util/clock.js';

function fakeSocket() {
  const out = { written: '', ended: false };
  const socket = new Writable({
    write(chunk, _e, cb) {
      out.written += chunk;
      cb();
    },
    final(cb) {
      out.ended = true;
      cb();
    },
  });
  return { socket: socket as unknown as Duplex, out };
}

const req = (path: string, authorization?: string) =>
  ({
    method: 'GET',
    url: path,
    headers: authorization ? { authorization } : {},
    socket: { remoteAddress: '10.0.0.9' },
  }) as unknown as IncomingMessage;

describe('admitUpgrade with the SecurityAuthorizer', () => {
  const records: AccessRecord[] = [];
  const authorizer = new SecurityAuthorizer({
    credentials: parseCredentials('agent1 a-pw\nfw1 f-pw'),
    acls: parseAcls(
      JSON.stringify({ register_agents: [{ principals: { values: ['fw1'] }, agents: { type: 'NONE' } }] }),
    ),
    authenticateAgents: true,
    authenticateFrameworks: false,
    clock: new VirtualClock(0),
  });
  authorizer.answered = (r: AccessRecord) => {
    records.push(r);
  };
  beforeEach(() => {
    records.length = 0;
  });

  it('admits an agent with its credential and hands back the principal', async () => {
    const { socket, out } = fakeSocket();
    const r = await admitUpgrade(
      authorizer,
      req('/api/v1/agent', basicAuthorization('agent1', 'a-pw')),
      socket,
      AGENT_CONNECT,
    );
    expect(r).to.deep.equal({ ok: true, principal: 'agent1' });
    expect(out.written).to.equal('');
    expect(records.map((x) => [x.principal, x.decision, x.status])).to.deep.equal([['agent1', 'allow', 101]]);
  });

  it('refuses an agent without credentials: 401 with a challenge on the socket, then closed', async () => {
    const { socket, out } = fakeSocket();
    const r = await admitUpgrade(authorizer, req('/api/v1/agent'), socket, AGENT_CONNECT);
    await new Promise((x) => setImmediate(x));
    expect(r.ok).to.equal(false);
    expect(out.written).to.match(/^HTTP\/1\.1 401 /);
    expect(out.written).to.match(/\r\nWWW-Authenticate: Basic realm="agora", Bearer realm="agora"\r\n/);
    expect(out.written).not.to.contain('a-pw');
    expect(out.ended).to.equal(true);
    expect(records[0]).to.include({ decision: 'unauthenticated', status: 401, ip: '10.0.0.9' });
  });

  it('refuses a known principal register_agents denies: 403', async () => {
    const { socket, out } = fakeSocket();
    const r = await admitUpgrade(
      authorizer,
      req('/api/v1/agent', basicAuthorization('fw1', 'f-pw')),
      socket,
      AGENT_CONNECT,
    );
    expect(r.ok).to.equal(false);
    expect(out.written).to.match(/^HTTP\/1\.1 403 /);
  });

  it('admits an anonymous scheduler when frameworks need no authentication, but not a wrong credential', async () => {
    expect(
      await admitUpgrade(authorizer, req('/api/v1/scheduler/ws'), fakeSocket().socket, SCHEDULER_CONNECT),
    ).to.deep.equal({
      ok: true,
      principal: undefined,
    });
    const bad = await admitUpgrade(
      authorizer,
      req('/api/v1/scheduler/ws', basicAuthorization('fw1', 'nope')),
      fakeSocket().socket,
      SCHEDULER_CONNECT,
    );
    expect(bad.ok).to.equal(false);
  });
});
