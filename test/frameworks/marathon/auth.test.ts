import { spawnSync } from 'node:child_process';
import { MemoryStore, VirtualClock } from 'agora/sdk/testing';
import { expect } from 'chai';
import pino from 'pino';
import { MarathonNode } from '../../../frameworks/marathon/node.js';
import { parseCredentials, SecurityAuthorizer } from '../../../sdk/auth/index.js';
import { AGORA_BIN, REPO_ROOT } from '../../support/cluster.js';
import { FakeDriver } from './harness.js';

describe('marathon REST API authentication', () => {
  let node: MarathonNode;
  before(async () => {
    node = new MarathonNode({
      store: new MemoryStore(),
      host: '127.0.0.1',
      port: 0,
      logger: pino({ level: 'silent' }),
      authorizer: new SecurityAuthorizer({
        credentials: parseCredentials(
          JSON.stringify({ credentials: [{ principal: 'ops', secret: 's3cret' }] }),
          'test',
        ),
        authenticateHttpReadwrite: true,
        clock: new VirtualClock(0),
      }),
      createDriver: () => new FakeDriver(),
    });
    await node.start();
  });
  after(() => node.close());

  it('refuses anonymous writes with 401 and a challenge, takes the same write with credentials, keeps /ping open', async () => {
    const url = `http://127.0.0.1:${node.port}`;
    const body = JSON.stringify({ id: '/a', cmd: 'sleep 1', cpus: 0.1, mem: 16 });
    const anon = await fetch(`${url}/v2/apps`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
    });
    expect(anon.status).to.equal(401);
    expect(anon.headers.get('www-authenticate')).to.match(/^Basic/);
    expect((await fetch(`${url}/v2/apps`).then((r) => r.json())).apps).to.have.length(0);
    const auth = `Basic ${Buffer.from('ops:s3cret').toString('base64')}`;
    const ok = await fetch(`${url}/v2/apps`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: auth },
      body,
    });
    expect(ok.status).to.equal(201);
    const wrong = `Basic ${Buffer.from('ops:nope').toString('base64')}`;
    expect((await fetch(`${url}/v2/apps/a`, { method: 'DELETE', headers: { authorization: wrong } })).status).to.equal(
      401,
    );
    expect((await fetch(`${url}/ping`)).status).to.equal(200);
  });

  it('agora marathon will not listen beyond loopback without authentication (or --insecure)', () => {
    const r = spawnSync(process.execPath, [AGORA_BIN, 'marathon', '--http_address', '0.0.0.0', '--http_port', '0'], {
      cwd: REPO_ROOT,
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect(r.status).to.equal(64);
    expect(r.stderr).to.match(/refusing to listen on 0\.0\.0\.0/);
  });
});
