/**
 * The protocol security as `agora master` wires it (cli/daemons.ts runMaster, real sockets, in
 * process): the principal the upgrade authenticated binds the framework id (another principal
 * cannot subscribe with it), --acls reach the SUBSCRIBE check, --max_connections_per_ip and
 * --connection_deadline close connections.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import WebSocket from 'ws';
import { defaultsOf, masterCommand, runMaster } from '../../cli/daemons.js';
import type { RunningMaster } from '../../master/server.js';
import { decode, encode } from '../../sdk/codec/index.js';
import { Direction, type SchedulerEvent } from '../../sdk/protocol/messages.js';

interface Conn {
  ws: WebSocket;
  events: SchedulerEvent[];
  closed: Promise<{ code: number; reason: string }>;
}

function connect(port: number, auth?: string): Promise<Conn> {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/api/v1/scheduler/ws`, {
    headers: auth ? { authorization: `Basic ${Buffer.from(auth).toString('base64')}` } : {},
  });
  const events: SchedulerEvent[] = [];
  ws.on('message', (data: Buffer) => events.push(decode(Direction.MasterToScheduler, data) as SchedulerEvent));
  const closed = new Promise<{ code: number; reason: string }>((r) =>
    ws.on('close', (code, reason) => r({ code, reason: reason.toString() })),
  );
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve({ ws, events, closed }));
    ws.once('error', reject);
  });
}

/** Waits for `p`, failing after `ms` (a bound so a broken test stops; not a timing assertion). */
function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  return Promise.race([p, new Promise<T>((_, rej) => setTimeout(() => rej(new Error(`no ${what} in ${ms} ms`)), ms))]);
}

describe('agora master: protocol security flags (in process, real sockets)', function () {
  this.timeout(30_000);
  let dir: string;
  let m: RunningMaster | undefined;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'agora-bind-'));
  });
  afterEach(async () => {
    await m?.close();
    m = undefined;
    rmSync(dir, { recursive: true, force: true });
  });

  async function start(flags: Record<string, string>): Promise<RunningMaster> {
    m = await runMaster({
      ...defaultsOf(masterCommand),
      port: '0',
      work_dir: dir,
      log_level: 'error',
      ...flags,
    });
    return m;
  }

  it('--authenticate_frameworks: the framework id is bound to the principal of the upgrade; another principal is refused with AGORA_AUTH_ID_BOUND', async () => {
    const creds = join(dir, 'credentials');
    writeFileSync(creds, 'alice a-secret\nbob b-secret\n', { mode: 0o600 });
    const master = await start({ authenticate_frameworks: 'true', credentials: creds });
    const alice = await connect(master.port, 'alice:a-secret');
    const answered = new Promise<void>((r) => alice.ws.once('message', () => r()));
    alice.ws.send(encode({ type: 'SUBSCRIBE', subscribe: { framework_info: { name: 'a', failover_timeout: 60 } } }));
    await within(answered, 10_000, 'SUBSCRIBED');
    const sub = alice.events[0];
    expect(sub?.type).to.equal('SUBSCRIBED');
    const id = sub?.type === 'SUBSCRIBED' ? sub.subscribed.framework_id : '';
    expect(master.master.frameworks.get(id)?.principal).to.equal('alice');
    const bob = await connect(master.port, 'bob:b-secret');
    bob.ws.send(encode({ type: 'SUBSCRIBE', subscribe: { framework_info: { name: 'a', id } } }));
    const closed = await within(bob.closed, 10_000, 'close');
    expect(closed.code).to.equal(1008);
    expect(bob.events.map((e) => (e.type === 'ERROR' ? e.error.code : e.type))).to.deep.equal(['AGORA_AUTH_ID_BOUND']);
    expect(master.master.frameworks.get(id)?.connected).to.equal(true);
    expect(alice.ws.readyState).to.equal(WebSocket.OPEN);
    alice.ws.close();
  });

  it('--acls: a SUBSCRIBE in a role register_frameworks refuses gets ERROR AGORA_AUTH_NOT_AUTHORIZED and the connection closes', async () => {
    const acls = {
      register_frameworks: [{ principals: { type: 'ANY' }, roles: { values: ['web'] } }],
    };
    const master = await start({ acls: JSON.stringify({ permissive: false, ...acls }) });
    const c = await connect(master.port);
    c.ws.send(
      encode({ type: 'SUBSCRIBE', subscribe: { framework_info: { name: 'x', principal: 'p', roles: ['batch'] } } }),
    );
    const closed = await within(c.closed, 10_000, 'close');
    expect(closed.code).to.equal(1008);
    expect(c.events.map((e) => (e.type === 'ERROR' ? e.error.code : e.type))).to.deep.equal([
      'AGORA_AUTH_NOT_AUTHORIZED',
    ]);
    expect(master.master.frameworks.size).to.equal(0);
    const ok = await connect(master.port);
    ok.ws.send(
      encode({ type: 'SUBSCRIBE', subscribe: { framework_info: { name: 'y', principal: 'p', roles: ['web'] } } }),
    );
    await within(new Promise<void>((r) => ok.ws.on('message', () => r())), 10_000, 'answer');
    expect(ok.events[0]?.type).to.equal('SUBSCRIBED');
    ok.ws.close();
  });

  it('--max_connections_per_ip and --connection_deadline close connections over the cap and those that never subscribe', async () => {
    const master = await start({ max_connections_per_ip: '1', connection_deadline: '500ms' });
    const first = await connect(master.port);
    const second = await connect(master.port);
    const over = await within(second.closed, 10_000, 'close of the second connection');
    expect(over.code).to.equal(1008);
    expect(over.reason).to.match(/^AGORA_MASTER_TOO_MANY_CONNECTIONS/);
    const idle = await within(first.closed, 10_000, 'close of the idle connection');
    expect(idle.reason).to.match(/^AGORA_MASTER_CONNECTION_DEADLINE/);
    expect(master.master.counters.connectionsOverAddressCap).to.equal(1);
    expect(master.master.counters.connectionsIdleClosed).to.equal(1);
  });
});
