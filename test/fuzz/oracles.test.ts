/** The fuzzer's own oracles: a wrong oracle would hide defects or invent them. */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { expect } from 'chai';
import fc from 'fast-check';
import { invariants, refusalChanges, snapshot } from '../../scripts/fuzz/observe.js';
import { bulkJson, expand, pct, validId, validRoleName } from '../../scripts/fuzz/values.js';
import { within } from '../support/cluster.js';

describe('fuzz oracles', () => {
  it("Mesos's role rule: accepts real roles, refuses path-like and control characters", () => {
    for (const ok of ['*', 'web', 'a/b', 'batch/x/y', 'dev-1', 'a.b', '__proto__'])
      expect(validRoleName(ok), ok).to.equal(true);
    for (const bad of [
      '',
      '.',
      '..',
      '/a',
      'a/',
      'a//b',
      'a/../b',
      '-x',
      'a b',
      'a\nb',
      'a\0b',
      '\\',
      'a*',
      'x'.repeat(257),
    ])
      expect(validRoleName(bad), JSON.stringify(bad)).to.equal(false);
  });

  it("Mesos's id rule: refuses '.', '..', separators, whitespace and control characters", () => {
    for (const ok of ['F0', 'abc-S1', 'fuzz.task', 'a:b@c']) expect(validId(ok), ok).to.equal(true);
    for (const bad of ['', '.', '..', 'a/b', '/', 'a\\b', 'a b', '\n', 'a\0b', 'x'.repeat(1025)])
      expect(validId(bad), JSON.stringify(bad)).to.equal(false);
  });

  it('refused input may not add ids or change values; ids leaving a list are a timer, not a change', () => {
    const before = { agents: ['S0'], weights: '[]', records: 3 };
    expect(refusalChanges(before, { agents: ['S0'], weights: '[]', records: 3 })).to.deep.equal([]);
    expect(refusalChanges(before, { agents: [], weights: '[]', records: 3 })).to.deep.equal([]);
    expect(refusalChanges(before, { agents: ['S0', 'S1'], weights: '[]', records: 3 })).to.have.length(1);
    expect(refusalChanges(before, { agents: ['S0'], weights: '[{"role":"a"}]', records: 3 })).to.have.length(1);
    expect(refusalChanges(before, { agents: ['S0'], weights: '[]', records: 4 })).to.have.length(1);
  });

  it('percent-encoding never throws, and decodes back for well-formed strings', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (s) => {
        const e = pct(s);
        expect(e).to.match(/^[A-Za-z0-9\-_.!~*'()%]*$/);
        if (Buffer.from(s, 'utf8').toString('utf8') === s) expect(decodeURIComponent(e)).to.equal(s);
      }),
    );
  });

  it('bulk values: 20,000-deep JSON is written as text, not built by recursion', () => {
    const text = bulkJson({ bulk: 'deep', shape: 'array', depth: 20_000 });
    expect(text.length).to.equal(40_000);
    expect(text.startsWith('['.repeat(20_000))).to.equal(true);
    expect(expand({ bulk: 'many', shape: 'zeros', count: 3 })).to.deep.equal([0, 0, 0]);
  });
});

describe('fuzz snapshot: the registrar lags memory by a write', () => {
  let dir: string;
  let server: Server;
  let url: string;
  let frameworks: string[];

  const record = (id: string) => join(dir, 'store', 'registrar', 'frameworks', id, '@value.json');
  const write = (id: string) => {
    mkdirSync(dirname(record(id)), { recursive: true });
    writeFileSync(record(id), '{}');
  };

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'agora-fuzz-snap-'));
    frameworks = ['F1', 'F2'];
    for (const id of frameworks) write(id);
    mkdirSync(join(dir, 'store', 'registrar', 'roles'), { recursive: true });
    writeFileSync(join(dir, 'store', 'registrar', 'roles', '@value.json'), '{}');
    server = createServer((req, res) => {
      res.setHeader('content-type', 'application/json');
      if (req.url === '/master/state')
        res.end(JSON.stringify({ frameworks: frameworks.map((id) => ({ id })), completed_frameworks: [] }));
      else if (req.url === '/roles') res.end('{"roles":[]}');
      else if (req.url === '/quota') res.end('{"infos":[]}');
      else if (req.url === '/state') res.end('{"id":"S0","frameworks":[]}');
      else res.end('[]');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterEach(() => {
    server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("waits for a forgotten framework's record to go before it reports the registrar", async () => {
    frameworks = ['F2']; // F1 left memory (a failover timer, the completed cap); its delete is still on its way
    setTimeout(() => rmSync(dirname(record('F1')), { recursive: true }), 300);
    const s = await snapshot(url, url, dir, undefined, undefined, 3_000);
    expect(s.registrarDisagrees).to.equal(undefined);
    expect(s.view['registrar framework records']).to.deep.equal(['registrar/frameworks/F2']);
    expect(s.view['registrar other records']).to.equal('["registrar/roles"]');
  });

  it('reports records that never come to agree with memory, naming them', async () => {
    frameworks = ['F2', 'F3'];
    const s = await snapshot(url, url, dir, undefined, undefined, 200);
    expect(s.registrarDisagrees).to.match(/records without a framework: \["registrar\/frameworks\/F1"\]/);
    expect(s.registrarDisagrees).to.match(/frameworks without a record: \["registrar\/frameworks\/F3"\]/);
    expect(invariants(s, undefined, new Set()).map((v) => v.invariant)).to.include(
      "the registrar's framework records disagree with the master's frameworks",
    );
    // Waited out once: the next snapshot reports it again without waiting for it again. Its settle
    // time is an hour, so a snapshot that waited again could not answer within the test (a bound
    // on how fast it answers would be a timing threshold that a loaded machine can break).
    const again = await within(
      snapshot(url, url, dir, undefined, undefined, 3_600_000),
      'the second snapshot, which must not wait the settle time again',
    );
    expect(again.registrarDisagrees).to.equal(s.registrarDisagrees);
  });
});
