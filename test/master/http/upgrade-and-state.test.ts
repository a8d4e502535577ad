/**
 * A real master (loopback, port 0) with the SecurityAuthorizer: WebSocket upgrades for agents need
 * credentials under --authenticate_agents (401 with WWW-Authenticate before any frame), and
 * `/master/state` lists only the frameworks each caller may view (real frameworks subscribed
 * through the SDK driver).
 */
import { request } from 'node:http';
import { expect } from 'chai';
import { pino } from 'pino';
import { AGENT_WS_PATH, type RunningMaster, startMaster } from '../../../master/server.js';
import { basicAuthorization, parseAcls, parseCredentials, SecurityAuthorizer } from '../../../sdk/auth/index.js';
import { systemClock } from '../../../sdk/util/clock.js';
import { tempDir } from '../../../testkit/processes.js';
import { TestFramework } from '../../support/framework.js';

/** The status a WebSocket upgrade request gets: 101 when upgraded. */
function upgradeStatus(
  port: number,
  path: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; www?: string }> {
  return new Promise((resolve, reject) => {
    const req = request({
      port,
      host: '127.0.0.1',
      path,
      headers: {
        Connection: 'Upgrade',
        Upgrade: 'websocket',
        'Sec-WebSocket-Version': '13',
        'Sec-WebSocket-Key': Buffer.from('0123456789abcdef').toString('base64'),
        ...headers,
      },
    });
    req.on('upgrade', (res, socket) => {
      socket.destroy();
      resolve({ status: res.statusCode ?? 0 });
    });
    req.on('response', (res) => {
      res.resume();
      resolve({ status: res.statusCode ?? 0, www: res.headers['www-authenticate'] });
    });
    req.on('error', reject);
    req.end();
  });
}

describe('master: upgrades and state under the SecurityAuthorizer', () => {
  let m: RunningMaster;
  const frameworks: TestFramework[] = [];
  before(async () => {
    const authorizer = new SecurityAuthorizer({
      credentials: parseCredentials('agent1 agent-pw\nalice alice-pw\nops ops-pw'),
      acls: parseAcls(
        JSON.stringify({
          register_agents: [{ principals: { values: ['alice'] }, agents: { type: 'NONE' } }],
          view_frameworks: [
            { principals: { values: ['alice'] }, users: { values: ['alice'] } },
            { principals: { values: ['alice'] }, users: { type: 'NONE' } },
          ],
        }),
      ),
      authenticateAgents: true,
      clock: systemClock,
    });
    m = await startMaster({
      port: 0,
      host: '127.0.0.1',
      workDir: tempDir('agora-authn-m-'),
      logger: pino({ level: 'silent' }),
      authorizer,
    });
  });
  after(async () => {
    for (const f of frameworks) f.driver.stop();
    await m.close();
  });

  it('an agent upgrade without or with wrong credentials is refused with 401 and a challenge', async () => {
    const none = await upgradeStatus(m.port, AGENT_WS_PATH);
    expect(none.status).to.equal(401);
    expect(none.www).to.match(/^Basic /);
    const wrong = await upgradeStatus(m.port, AGENT_WS_PATH, { authorization: basicAuthorization('agent1', 'x') });
    expect(wrong.status).to.equal(401);
    const good = await upgradeStatus(m.port, AGENT_WS_PATH, {
      authorization: basicAuthorization('agent1', 'agent-pw'),
    });
    expect(good.status).to.equal(101);
    // A known principal the ACLs refuse (register_agents): 403.
    const alice = await upgradeStatus(m.port, AGENT_WS_PATH, {
      authorization: basicAuthorization('alice', 'alice-pw'),
    });
    expect(alice.status).to.equal(403);
  });

  it('/master/state lists only the frameworks the caller may view', async () => {
    for (const user of ['alice', 'bob']) {
      const f = new TestFramework(`127.0.0.1:${m.port}`, `fw-${user}`, { user });
      frameworks.push(f);
      await f.start();
    }
    const names = async (who?: string) => {
      const r = await m.http.inject({
        url: '/master/state',
        headers: who ? { authorization: basicAuthorization(who, `${who}-pw`) } : {},
      });
      return r
        .json()
        .frameworks.map((f: { name: string }) => f.name)
        .sort();
    };
    expect(await names('ops')).to.deep.equal(['fw-alice', 'fw-bob']);
    expect(await names()).to.deep.equal(['fw-alice', 'fw-bob']);
    expect(await names('alice')).to.deep.equal(['fw-alice']);
  });
});
