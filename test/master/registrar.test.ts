/**
 * The registrar never writes what it cannot read back, and recovery skips a bad record instead of
 * refusing to start (D1); completed frameworks are pruned from the Store by the in-memory rule (D16).
 */
import { expect } from 'chai';
import fc from 'fast-check';
import { pino } from 'pino';
import { type AgentRecord, type FrameworkRecord, Registrar } from '../../master/registrar.js';
import { MAX_COMPLETED_FRAMEWORKS } from '../../master/registry.js';
import { MasterHarness, MemoryStore } from '../../master/testing/index.js';

const log = pino({ level: 'silent' });

/** Numbers as an attacker or an overflow would produce them, finite or not. */
const anyNumber = fc.oneof(
  fc.double(),
  fc.constantFrom(1e306, 1e308, -1e308, Number.MAX_VALUE, Number.POSITIVE_INFINITY, Number.NaN, 0.1, 7),
);
const name = fc.string({ minLength: 1, maxLength: 12 });

const agentRecord: fc.Arbitrary<AgentRecord> = fc.record({
  info: fc.record({
    id: name,
    hostname: name,
    port: fc.integer({ min: 1, max: 65535 }),
    resources: fc.array(
      fc.record({
        name: fc.constantFrom('cpus', 'mem'),
        type: fc.constant('SCALAR' as const),
        scalar: fc.record({ value: anyNumber }),
      }),
      { maxLength: 2 },
    ),
    attributes: fc.dictionary(name, name, { maxKeys: 3 }),
  }),
  total: fc.array(
    fc.record({
      name: fc.constantFrom('cpus', 'disk'),
      type: fc.constant('SCALAR' as const),
      scalar: fc.record({ value: anyNumber }),
    }),
    { maxLength: 2 },
  ),
  state: fc.constantFrom('admitted' as const, 'unreachable' as const, 'gone' as const),
  unreachable_time: fc.option(anyNumber, { nil: undefined }),
});

const frameworkRecord: fc.Arbitrary<FrameworkRecord> = fc.record({
  info: fc.record({
    id: name,
    name,
    roles: fc.array(name, { minLength: 1, maxLength: 3 }),
    failover_timeout: fc.option(anyNumber, { nil: undefined }),
  }),
  completed: fc.boolean(),
  unregistered_time: fc.option(anyNumber, { nil: undefined }),
});

function jsonEqual(v: unknown): unknown {
  return JSON.parse(JSON.stringify(v));
}

describe('registrar records (D1, D16)', () => {
  it('property: every record the registrar writes is read back equal; what could not be is refused', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(agentRecord, { maxLength: 4 }),
        fc.array(frameworkRecord, { maxLength: 4 }),
        async (agents, frameworks) => {
          const store = new MemoryStore();
          const r = new Registrar(store, log);
          const written = new Map<string, unknown>();
          for (const a of agents) {
            const ok = await r.saveAgent(a).then(
              () => true,
              () => false,
            );
            if (ok) written.set(`a:${a.info.id}`, jsonEqual(a));
          }
          for (const f of frameworks) {
            const ok = await r.saveFramework(f).then(
              () => true,
              () => false,
            );
            if (ok) written.set(`f:${f.info.id}`, jsonEqual(f));
          }
          const back = await new Registrar(store, log).recover();
          const read = new Map<string, unknown>([
            ...back.agents.map((a) => [`a:${a.info.id}`, a] as const),
            ...back.frameworks.map((f) => [`f:${f.info.id}`, f] as const),
          ]);
          expect(back.skipped).to.equal(0);
          expect(read).to.deep.equal(written);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('refuses to write an agent whose resources overflowed to Infinity', async () => {
    const store = new MemoryStore();
    const r = new Registrar(store, log);
    const rec: AgentRecord = {
      info: { id: 'S1', hostname: 'h', port: 1, resources: [], attributes: {} },
      total: [{ name: 'cpus', type: 'SCALAR', scalar: { value: 1e306 * 1e10 } }],
      state: 'admitted',
    };
    const err = await r.saveAgent(rec).then(
      () => undefined,
      (e: { code?: string }) => e,
    );
    expect(err?.code).to.equal('AGORA_REGISTRAR_UNREADABLE_RECORD');
    expect(await store.list('')).to.deep.equal([]);
  });

  it('recovery skips and counts a bad record and the master still starts with the rest', async () => {
    const h = await MasterHarness.start();
    const good = await h.addAgent();
    h.store!.plant(
      'registrar/agents/bad',
      '{"info":{"id":"bad","hostname":"h","port":1,"resources":[],"attributes":{}},"total":[{"name":"cpus","type":"SCALAR","scalar":{"value":null}}],"state":"admitted"}',
    );
    h.store!.plant('registrar/frameworks/worse', '{"info":');
    const h2 = await h.failover();
    expect(h2.master.leading).to.equal(true);
    expect([...h2.master.agents.keys()]).to.deep.equal([good.id]);
    expect(h2.master.counters.registrarBadRecords).to.equal(2);
  });

  it('prunes completed frameworks beyond the cap from the Store, and recovery loads no more than the cap', async () => {
    const h = await MasterHarness.start();
    const extra = 7;
    for (let i = 0; i < MAX_COMPLETED_FRAMEWORKS + extra; i++) {
      const f = await h.subscribe({ name: `fw${i}` });
      f.call({ type: 'TEARDOWN', framework_id: '' });
      await h.advance(1000);
    }
    await h.settle();
    expect(h.master.completedFrameworks).to.have.length(MAX_COMPLETED_FRAMEWORKS);
    const stored = await h.store!.list('registrar/frameworks/');
    expect(stored).to.have.length(MAX_COMPLETED_FRAMEWORKS);
    // A Store that holds more (written by an older master) is cut to the cap on recovery, newest kept.
    const store = new MemoryStore();
    const r = new Registrar(store, log);
    for (let i = 0; i < MAX_COMPLETED_FRAMEWORKS + extra; i++) {
      await r.saveFramework({ info: { id: `F${i}`, name: 'x' }, completed: true, unregistered_time: i });
    }
    const back = await new Registrar(store, log).recover();
    expect(back.frameworks).to.have.length(MAX_COMPLETED_FRAMEWORKS);
    expect(back.frameworks.map((f) => f.info.id)).to.not.include('F0');
    expect(await store.list('registrar/frameworks/')).to.have.length(MAX_COMPLETED_FRAMEWORKS);
  });
});
