import { expect } from 'chai';
import type { AgentRecord } from '../../master/registrar.js';
import { AgentBatches } from '../../master/registrar-batches.js';

/**
 * A Store that runs one key's writes in order, as the registrar's queue does, can hold them at a
 * gate, and fails the first write that carries a chosen agent.
 */
function orderedStore(failFirstCarrying: string) {
  const stored = new Map<string, string[]>();
  const queue = new Map<string, Promise<void>>();
  let gate: Promise<void> | undefined;
  let failed = false;
  const writeKey = (key: string, take: () => { agents: AgentRecord[] } | undefined): Promise<void> => {
    const p = (queue.get(key) ?? Promise.resolve())
      .catch(() => undefined)
      .then(async () => {
        const v = take();
        if (!v) return;
        if (gate) await gate;
        if (!failed && v.agents.some((r) => r.info.id === failFirstCarrying)) {
          failed = true;
          throw new Error('CONNECTION_LOSS');
        }
        stored.set(
          key,
          v.agents.map((r) => r.info.id),
        );
      });
    queue.set(key, p);
    return p;
  };
  return {
    writeKey,
    stored,
    hold(): () => void {
      let open: () => void = () => undefined;
      gate = new Promise<void>((r) => {
        open = r;
      });
      return () => {
        gate = undefined;
        open();
      };
    },
  };
}

const rec = (id: string) => ({ info: { id, hostname: id, resources: [] } }) as unknown as AgentRecord;
const outcome = (p: Promise<void>) =>
  p.then(
    () => 'ok',
    (e: Error) => `failed: ${e.message}`,
  );

describe('registrar batches: removing an agent whose write fails', () => {
  it('a new agent carried by the failed removal write is not admitted and never written later', async () => {
    const store = orderedStore('Z');
    const b = new AgentBatches(store.writeKey as never);
    await b.save(rec('X')); // X admitted, then its connection turns out closed: its record goes
    const release = store.hold();
    const y = outcome(b.save(rec('Y'))); // in flight, held
    await new Promise((r) => setImmediate(r));
    const removal = outcome(b.remove('X')); // queued behind Y: will take {Y, Z}
    const z = outcome(b.save(rec('Z'))); // its save coalesced into the removal's write
    release();
    expect(await y).to.equal('ok');
    expect(await removal).to.match(/^failed/);
    expect(await z, "Z's admission fails: the write that carried it failed").to.match(/^failed/);
    await b.save(rec('W'));
    expect([...store.stored.values()], 'Z never reaches the Store').to.deep.equal([['Y', 'W']]);
    expect(b.has('Z')).to.equal(false);
  });
});
