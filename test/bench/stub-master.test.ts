/**
 * The placement benchmark's stub master (the message-passing ceiling) must not strand agents: an
 * agent offered to the first framework while the others were still subscribing, and declined by
 * it, goes to the framework that owns it (agent i to framework i mod F). Before, it stayed in the
 * decliner's idle set until that framework revived, which it never did once its own work was done:
 * the stub's 5,000-agent fill stalled at ~25k of 40k. In-process, real sockets on an ephemeral port.
 */
import { expect } from 'chai';
import { SimAgents } from '../../scripts/bench/sim/agents.js';
import { freePort, sleep } from '../../scripts/bench/sim/cluster.js';
import { startStubMaster } from '../../scripts/bench/sim/stub-master.js';
import { Direction, type SchedulerCall, type SchedulerEvent } from '../../sdk/protocol/messages.js';
import type { Offer } from '../../sdk/protocol/types.js';
import { type Peer, ReconnectingClient } from '../../sdk/transport/index.js';

/** A framework driven by hand: subscribes, records its offers, answers only when told. */
function manualFramework(url: string, name: string) {
  const offers: Offer[] = [];
  const subscribed: { id?: string; count?: number } = {};
  let peer: Peer<SchedulerCall> | undefined;
  const client = new ReconnectingClient({
    url: () => url,
    inbound: Direction.MasterToScheduler,
    backoff: { initialMs: 50, maxMs: 200 },
    onOpen: (p) => {
      peer = p;
      // Coming back, it subscribes with the id it was given (a failover, or a drop as too slow).
      const info = { name, ...(subscribed.id ? { id: subscribed.id } : {}) };
      p.send({ type: 'SUBSCRIBE', subscribe: { framework_info: info } });
    },
    onMessage: (e: SchedulerEvent) => {
      if (e.type === 'SUBSCRIBED') {
        subscribed.id = e.subscribed.framework_id;
        subscribed.count = (subscribed.count ?? 0) + 1;
      }
      if (e.type === 'OFFERS') offers.push(...e.offers.offers);
    },
    onClose: () => {
      peer = undefined;
    },
  });
  client.start();
  return { client, offers, subscribed, call: (c: SchedulerCall) => peer?.send(c) };
}

async function until(what: string, ok: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

describe('placement benchmark stub master', function () {
  this.timeout(30_000);

  it('hands an agent declined by a framework that does not own it to its owner', async () => {
    const port = await freePort();
    const stub = await startStubMaster(port);
    const agents = new SimAgents({
      url: `ws://127.0.0.1:${port}/api/v1/agent`,
      count: 4,
      offset: 0,
      resources: 'cpus:1;mem:1024',
    });
    const url = `ws://127.0.0.1:${port}/api/v1/scheduler/ws`;
    const fws: ReturnType<typeof manualFramework>[] = [];
    try {
      agents.start();
      await until('4 agents registered', () => agents.report().registered === 4);
      // The first framework alone: every agent is offered to it.
      fws.push(manualFramework(url, 'first'));
      await until('4 offers to the first framework', () => fws[0].offers.length === 4);
      // The second subscribes while the first still holds all four offers.
      fws.push(manualFramework(url, 'second'));
      await until('the second subscribed', () => fws[1].subscribed.id !== undefined);
      expect(fws[1].offers).to.have.length(0);
      // The first declines them all with a long filter and never revives.
      fws[0].call({
        type: 'DECLINE',
        framework_id: fws[0].subscribed.id as string,
        decline: { offer_ids: fws[0].offers.map((o) => o.id), filters: { refuse_seconds: 3600 } },
      });
      // Agents 1 and 3 belong to the second framework (i mod 2): they are offered to it now.
      await until('offers to the second framework', () => fws[1].offers.length >= 2);
      const owned = new Set(fws[1].offers.map((o) => o.agent_id));
      expect([...owned].sort()).to.deep.equal(['S1', 'S3']);
    } finally {
      await Promise.all(fws.map((f) => f.client.stop()));
      await agents.stop();
      await stub.close();
    }
  });

  it('keeps a re-subscribing framework its id and offers its agents again (the old offers died with the connection)', async () => {
    const port = await freePort();
    const stub = await startStubMaster(port);
    const agents = new SimAgents({
      url: `ws://127.0.0.1:${port}/api/v1/agent`,
      count: 3,
      offset: 0,
      resources: 'cpus:1;mem:1024',
    });
    const fw = manualFramework(`ws://127.0.0.1:${port}/api/v1/scheduler/ws`, 'only');
    try {
      agents.start();
      await until('3 offers', () => fw.offers.length === 3);
      const id = fw.subscribed.id;
      fw.client.reconnectNow();
      await until('subscribed again', () => fw.subscribed.count === 2);
      expect(fw.subscribed.id).to.equal(id);
      await until('3 offers again', () => fw.offers.length === 6);
      expect(new Set(fw.offers.slice(3).map((o) => o.agent_id))).to.deep.equal(new Set(['S0', 'S1', 'S2']));
    } finally {
      await fw.client.stop();
      await agents.stop();
      await stub.close();
    }
  });
});
