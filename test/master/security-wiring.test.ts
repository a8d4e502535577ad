/**
 * The protocol security as `agora master` wires it (cli/daemons.ts runMaster, real sockets, in
 * process): --acls reach the SUBSCRIBE check, --max_connections_per_ip and --connection_deadline
 * close connections. Frameworks cannot send credentials yet (the driver's side is the tls change),
 * so the authenticated paths are covered by test/master/security.test.ts through the harness.
 */
import { mkdtempSync, rmSync } from 'node:fs';
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

function connect(port: number): Promise<Conn> {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/api/v1/scheduler/ws`);
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
