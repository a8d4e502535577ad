/** The Mesos v1 scheduler and new-surface parts of the fuzzer: its oracles and what its generators cover. */
import { expect } from 'chai';
import fc from 'fast-check';
import { jsonpOf } from '../../scripts/fuzz/checks.js';
import { inputArbitrary } from '../../scripts/fuzz/fuzz.js';
import { httpInputFor } from '../../scripts/fuzz/http-gen.js';
import { checkMesos } from '../../scripts/fuzz/mesos-checks.js';
import { CALL_TYPES, type MesosCall, type MesosInput, mesosInput, mutate } from '../../scripts/fuzz/mesos-gen.js';
import type { MesosAnswer, MesosOutcome } from '../../scripts/fuzz/mesos-send.js';
import { MARATHON_ROUTES } from '../../scripts/fuzz/routes.js';

const call = (over: Partial<MesosCall> = {}): MesosCall => ({
  type: 'REVIVE',
  fw: '$MFW',
  stream: 'own',
  contentType: 'application/json',
  body: { t: 'json', value: { type: 'REVIVE' } },
  ...over,
});

const answer = (over: Partial<MesosAnswer> = {}): MesosAnswer => ({
  call: call(),
  status: 400,
  body: '{"code":"AGORA_MESOS_INVALID_CALL","message":"bad"}',
  sentStream: 'own',
  sentType: 'REVIVE',
  sentFw: 'C-F1',
  bodyBytes: 10,
  ms: 1,
  ...over,
});

const outcome = (answers: MesosAnswer[], over: Partial<MesosOutcome> = {}): MesosOutcome => ({
  subscribeStatus: 200,
  subscribeRefusal: '',
  frameworkId: 'C-F1',
  answers,
  streamEndedByServer: false,
  streamErrors: [],
  events: ['SUBSCRIBED'],
  ...over,
});

const session: MesosInput = { kind: 'mesos', label: 'mesos-session', subscribe: true, calls: [call()] };
const kinds = (o: MesosOutcome) => checkMesos(session, o).map((p) => `${p.kind}: ${p.signature}`);

describe('fuzz: Mesos v1 scheduler oracles', () => {
  it('a coded refusal and an accepted call of its own framework on its own stream are fine', () => {
    expect(kinds(outcome([answer()]))).to.deep.equal([]);
    expect(kinds(outcome([answer({ status: 202, body: '' })]))).to.deep.equal([]);
  });

  it('a refusal without {code, message}, a 5xx and a plain SUBSCRIBE refused are findings', () => {
    expect(kinds(outcome([answer({ body: 'Bad Request' })]))).to.deep.equal([
      'no-code: 400 without {code, message}: mesos REVIVE',
    ]);
    expect(kinds(outcome([answer({ status: 500, body: '{"code":"X","message":"boom"}' })]))[0]).to.match(
      /^server-error: 500 X boom/,
    );
    expect(kinds(outcome([], { subscribeStatus: 400 }))).to.deep.equal([
      'expectation: a plain SUBSCRIBE is refused (400)',
    ]);
  });

  it("accepting a call on a made-up or another framework's stream, or for another framework, is a finding", () => {
    expect(kinds(outcome([answer({ status: 202, body: '', sentStream: 'other' })]))).to.deep.equal([
      "expectation: a call with a made-up or another framework's stream id is accepted (202)",
    ]);
    expect(kinds(outcome([answer({ status: 202, body: '', sentStream: 'none' })]))).to.have.length(1);
    expect(kinds(outcome([answer({ status: 202, body: '', sentFw: 'C-F0' })]))).to.deep.equal([
      "expectation: a call naming another framework on this session's stream is accepted (202)",
    ]);
    // A SUBSCRIBE without a stream id is how a framework comes in.
    expect(
      kinds(outcome([answer({ status: 200, body: '', sentStream: 'none', sentType: 'SUBSCRIBE', sentFw: undefined })])),
    ).to.deep.equal([]);
  });

  it('refused calls must leave the stream open; ERROR events carry a stable code', () => {
    expect(kinds(outcome([answer()], { streamEndedByServer: true }))).to.deep.equal([
      "expectation: refused calls ended the session's event stream",
    ]);
    expect(kinds(outcome([answer({ status: 202, body: '' })], { streamEndedByServer: true }))).to.deep.equal([]);
    expect(kinds(outcome([], { streamErrors: ['AGORA_MASTER_ROLE_NOT_SUBSCRIBED: no'] }))).to.deep.equal([]);
    expect(kinds(outcome([], { streamErrors: ['Framework failed over'] }))).to.deep.equal([
      'no-code: ERROR event without a code: Framework failed over',
    ]);
  });

  it('a refused huge body closing the socket while written is not a finding; a lost small call is', () => {
    const big = answer({ status: 0, body: '', error: 'write EPIPE', bodyBytes: 5_000_000 });
    expect(kinds(outcome([big]))).to.deep.equal([]);
    expect(kinds(outcome([answer({ status: 0, body: '', error: 'socket hang up' })]))).to.have.length(1);
  });

  it('mutate replaces one field, or writes an own __proto__ key JSON.stringify keeps', () => {
    const c = { type: 'KILL', kill: { task_id: { value: 't' } } };
    const m = mutate(c, 2, 'x');
    expect(JSON.stringify(m)).to.not.equal(JSON.stringify(c));
    expect(c.kill.task_id.value).to.equal('t');
    expect(JSON.stringify(mutate(c, 0, '__PROTO__'))).to.include('"__proto__"');
    expect(({} as { polluted?: unknown }).polluted).to.equal(undefined);
  });

  it('the generators cover every call type, stream id kind, chunked garbage and held sessions', () => {
    const xs = fc.sample(mesosInput, { numRuns: 3000, seed: 7 });
    const calls = xs.flatMap((x) => x.calls);
    expect(new Set(calls.map((c) => c.type))).to.deep.equal(new Set(CALL_TYPES));
    expect(new Set(calls.map((c) => c.stream))).to.deep.equal(new Set(['own', 'other', 'none', 'literal']));
    expect(new Set(calls.map((c) => c.fw))).to.deep.equal(new Set(['$MFW', '$MFIX_FW', '$FIXTURE_FW', 'literal']));
    expect(calls.some((c) => c.chunked)).to.equal(true);
    expect(calls.some((c) => c.contentType === null)).to.equal(true);
    expect(calls.some((c) => JSON.stringify(c.body).includes('"__proto__"'))).to.equal(true);
    expect(xs.some((x) => x.subscribe)).to.equal(true);
    // The HTTP fixture's real stream id is never paired with its framework id (a legitimate call).
    expect(calls.some((c) => c.fw === '$MFIX_FW' && c.stream === 'other')).to.equal(false);
    // A SUBSCRIBE never names another live framework (a legitimate failover without authentication).
    for (const c of calls.filter((c) => c.type === 'SUBSCRIBE' && c.body.t === 'json'))
      expect(JSON.stringify(c.body)).to.not.match(/\$MFIX_FW|\$FIXTURE_FW/);
  });

  it('surfaces select the generators', () => {
    const only = fc.sample(inputArbitrary(0.35, ['mesos']), { numRuns: 200, seed: 1 });
    expect(new Set(only.map((x) => x.kind))).to.deep.equal(new Set(['mesos']));
    const marathon = fc.sample(inputArbitrary(0.35, ['marathon']), { numRuns: 200, seed: 1 });
    expect(marathon.every((x) => x.kind === 'http' && x.surface === 'marathon')).to.equal(true);
  });

  it('Marathon bodies only ever run `sleep 2`', () => {
    for (const x of fc.sample(httpInputFor(MARATHON_ROUTES), { numRuns: 2000, seed: 3 })) {
      if (x.body?.t !== 'json') continue;
      for (const m of JSON.stringify(x.body.value).matchAll(/"(cmd|shell)":("[^"]*")/g))
        expect(JSON.parse(m[2]), m[0]).to.equal('sleep 2');
    }
  });

  it('jsonpOf reads the callback names the server will see', () => {
    expect(jsonpOf('/state?jsonp=cb')).to.deep.equal(['cb']);
    expect(jsonpOf('/state?jsonp=a%0Ab&jsonp=cb')).to.deep.equal(['a\nb', 'cb']);
    expect(jsonpOf('/state')).to.equal(undefined);
  });
});
