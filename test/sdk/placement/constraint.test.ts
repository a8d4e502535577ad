/**
 * Constraint semantics, table-driven, after Marathon 1.10's own ConstraintsTest (same agents, same
 * placements, same answers), and the syntax rules with Marathon's messages.
 */
import { expect } from 'chai';
import {
  type AgentView,
  attributeValueText,
  type Constraint,
  ConstraintMessages,
  constraintLabel,
  formatScalar,
  meetsConstraint,
  type PlacedInstance,
  parseConstraint,
} from '../../../sdk/placement/index.js';

const agent = (hostname: string, attributes: Record<string, string> = {}): AgentView => ({
  agentId: `a-${hostname}`,
  hostname,
  attributes,
});
const placedOn = (hostname: string, attributes: Record<string, string> = {}): PlacedInstance => ({
  hostname,
  attributes,
});
const rack = (r: string) => placedOn('foohost', { rackid: r });

type Row = [string, Constraint, AgentView, PlacedInstance[], boolean];
const c = (field: string, operator: Constraint['operator'], value?: string): Constraint =>
  value === undefined ? { field, operator } : { field, operator, value };

const rows: Row[] = [
  // UNIQUE / CLUSTER on hostname
  ['CLUSTER without value, nothing placed', c('hostname', 'CLUSTER'), agent('foohost'), [], true],
  ['CLUSTER with value, other host', c('hostname', 'CLUSTER', 'right.com'), agent('wrong.com'), [], false],
  ['CLUSTER with value, that host', c('hostname', 'CLUSTER', 'right.com'), agent('right.com'), [], true],
  ['CLUSTER without value follows the first placement', c('hostname', 'CLUSTER'), agent('b'), [placedOn('a')], false],
  ['CLUSTER without value, same as first', c('hostname', 'CLUSTER'), agent('a'), [placedOn('a')], true],
  ['UNIQUE, nothing placed', c('hostname', 'UNIQUE'), agent('host2'), [], true],
  [
    'UNIQUE, fresh host',
    c('@hostname', 'UNIQUE'),
    agent('host4'),
    [placedOn('host1'), placedOn('host2'), placedOn('host3')],
    true,
  ],
  ['UNIQUE, used host', c('hostname', 'UNIQUE'), agent('host2'), [placedOn('host1'), placedOn('host2')], false],
  // attributes
  ['UNIQUE on attribute, agent lacks it', c('rackid', 'UNIQUE'), agent('foohost'), [], false],
  ['CLUSTER on attribute, agent lacks it', c('rackid', 'CLUSTER'), agent('foohost'), [], false],
  [
    'UNIQUE on attribute, fresh rack',
    c('rackid', 'UNIQUE'),
    agent('h', { rackid: 'rack-3' }),
    [rack('rack-1'), rack('rack-2')],
    true,
  ],
  ['UNIQUE on attribute, used rack', c('rackid', 'UNIQUE'), agent('h', { rackid: 'rack-1' }), [rack('rack-1')], false],
  // LIKE / UNLIKE: anchored full matches; only UNLIKE accepts a missing attribute
  ['LIKE matches', c('jdk', 'LIKE', '7'), agent('h', { jdk: '7' }), [], true],
  ['LIKE does not match', c('jdk', 'LIKE', '7'), agent('h', { jdk: '6' }), [], false],
  ['LIKE is anchored (prefix is not enough)', c('hostname', 'LIKE', 'srv2'), agent('srv22'), [], false],
  [
    'LIKE is anchored (suffix is not enough)',
    c('rack', 'LIKE', 'rack-[1-3]'),
    agent('h', { rack: 'xrack-1' }),
    [],
    false,
  ],
  ['LIKE regex', c('hostname', 'LIKE', 'srv2.*'), agent('srv2.example.com'), [], true],
  ['LIKE, attribute missing', c('jdk', 'LIKE', '7'), agent('h'), [], false],
  ['UNLIKE matches → refused', c('jdk', 'UNLIKE', '7'), agent('h', { jdk: '7' }), [], false],
  ['UNLIKE other value', c('jdk', 'UNLIKE', '7'), agent('h', { jdk: '6' }), [], true],
  ['UNLIKE, attribute missing → accepted', c('jdk', 'UNLIKE', '7'), agent('h'), [], true],
  ['UNLIKE is anchored', c('rack', 'UNLIKE', 'rack-[7-9]'), agent('h', { rack: 'rack-77' }), [], true],
  // attribute types: ranges and sets in their normal form
  ['LIKE range', c('jdk', 'LIKE', '\\[6-7\\]'), agent('h', { jdk: '[6-7]' }), [], true],
  ['LIKE range, other range', c('jdk', 'LIKE', '\\[6-7\\]'), agent('h', { jdk: '[5-7]' }), [], false],
  ['CLUSTER range', c('jdk', 'CLUSTER', '[6-7]'), agent('h', { jdk: '[6-7]' }), [], true],
  ['UNLIKE range vs text 5-7', c('jdk', 'UNLIKE', '\\[6-7\\]'), agent('h', { jdk: '5-7' }), [], true],
  ['CLUSTER set, sorted', c('gpu', 'CLUSTER', '{0,1}'), agent('h', { gpu: '{1,0}' }), [], true],
  ['LIKE set', c('gpu', 'LIKE', '\\{0,1\\}'), agent('h', { gpu: '{0,1}' }), [], true],
  // IS: exact, scalars in Mesos text
  ['IS text', c('rack_id', 'IS', 'rack-1'), agent('h', { rack_id: 'rack-1' }), [], true],
  ['IS text, other', c('rack_id', 'IS', 'rack-1'), agent('h', { rack_id: 'rack-10' }), [], false],
  ['IS scalar 1.0 equals 1', c('level', 'IS', '1.0'), agent('h', { level: '1' }), [], true],
  ['IS scalar attribute 2.50 equals 2.5', c('level', 'IS', '2.5'), agent('h', { level: '2.50' }), [], true],
  ['IS, attribute missing', c('level', 'IS', '1'), agent('h'), [], false],
  // MAX_PER
  ['MAX_PER fresh host', c('hostname', 'MAX_PER', '2'), agent('host1'), [], true],
  ['MAX_PER one there', c('hostname', 'MAX_PER', '2'), agent('host1'), [placedOn('host1')], true],
  ['MAX_PER two there', c('hostname', 'MAX_PER', '2'), agent('host1'), [placedOn('host1'), placedOn('host1')], false],
  ['MAX_PER other host', c('hostname', 'MAX_PER', '2'), agent('host2'), [placedOn('host1'), placedOn('host1')], true],
  [
    'MAX_PER rack, scalar values',
    c('rackid', 'MAX_PER', '2'),
    agent('h', { rackid: '1' }),
    [rack('1.0'), rack('1')],
    false,
  ],
  // GROUP_BY (Marathon 1.10's RackGroupedByConstraints)
  ['GROUP_BY 2, nothing placed', c('rackid', 'GROUP_BY', '2'), agent('h', { rackid: 'rack-1' }), [], true],
  [
    'GROUP_BY 2, same rack before two used',
    c('rackid', 'GROUP_BY', '2'),
    agent('h', { rackid: 'rack-1' }),
    [rack('rack-1')],
    false,
  ],
  ['GROUP_BY 2, new rack', c('rackid', 'GROUP_BY', '2'), agent('h', { rackid: 'rack-2' }), [rack('rack-1')], true],
  [
    'GROUP_BY 2, balanced',
    c('rackid', 'GROUP_BY', '2'),
    agent('h', { rackid: 'rack-1' }),
    [rack('rack-1'), rack('rack-2')],
    true,
  ],
  [
    'GROUP_BY 2, rack-1 ahead',
    c('rackid', 'GROUP_BY', '2'),
    agent('h', { rackid: 'rack-1' }),
    [rack('rack-1'), rack('rack-1'), rack('rack-2')],
    false,
  ],
  ['GROUP_BY, attribute missing', c('rackid', 'GROUP_BY', '2'), agent('foohost'), [], false],
  // RackGroupedByConstraints3: scalar attribute values compare in normal form
  ['GROUP_BY 3, scalar 1 vs 1.0', c('rackid', 'GROUP_BY', '3'), agent('h', { rackid: '2' }), [rack('1.0')], true],
  [
    'GROUP_BY 3, 2 ahead',
    c('rackid', 'GROUP_BY', '3'),
    agent('h', { rackid: '2' }),
    [rack('1.0'), rack('2.0'), rack('3.0'), rack('1.0'), rack('2.0')],
    false,
  ],
  [
    'GROUP_BY 3, 2 behind',
    c('rackid', 'GROUP_BY', '3'),
    agent('h', { rackid: '2' }),
    [rack('1.0'), rack('2.0'), rack('3.0'), rack('1.0')],
    true,
  ],
  [
    'GROUP_BY without value, used host at the minimum',
    c('hostname', 'GROUP_BY'),
    agent('a'),
    [placedOn('a'), placedOn('b')],
    true,
  ],
  [
    'GROUP_BY without value, used host above the minimum',
    c('hostname', 'GROUP_BY'),
    agent('a'),
    [placedOn('a'), placedOn('a'), placedOn('b')],
    false,
  ],
  // @region / @zone
  ['@zone UNIQUE', c('@zone', 'UNIQUE'), { ...agent('h'), zone: 'z1' }, [{ zone: 'z1' }], false],
  ['@region CLUSTER', c('@region', 'CLUSTER', 'r1'), { ...agent('h'), region: 'r1' }, [], true],
];

describe('sdk/placement constraints: Marathon 1.10 semantics', () => {
  for (const [name, constraint, a, placed, expected] of rows) {
    it(`${constraintLabel(constraint)}: ${name} → ${expected ? 'met' : 'not met'}`, () => {
      expect(meetsConstraint(constraint, a, placed, 3)).to.equal(expected);
    });
  }

  it('GROUP_BY hostname 2 follows Marathon step by step (HostnameGroupedByConstraints)', () => {
    const k = c('hostname', 'GROUP_BY', '2');
    const placed: PlacedInstance[] = [];
    expect(meetsConstraint(k, agent('host1'), placed)).to.equal(true);
    placed.push(placedOn('host1'));
    expect(meetsConstraint(k, agent('host1'), placed)).to.equal(false);
    expect(meetsConstraint(k, agent('host2'), placed)).to.equal(true);
    placed.push(placedOn('host2'));
    expect(meetsConstraint(k, agent('host1'), placed)).to.equal(true);
    placed.push(placedOn('host1'));
    expect(meetsConstraint(k, agent('host1'), placed)).to.equal(false);
    expect(meetsConstraint(k, agent('host3'), placed)).to.equal(true);
    placed.push(placedOn('host3'));
    expect(meetsConstraint(k, agent('host1'), placed)).to.equal(false);
    expect(meetsConstraint(k, agent('host3'), placed)).to.equal(true);
    expect(meetsConstraint(k, agent('host2'), placed)).to.equal(true);
  });
});

describe('sdk/placement constraint syntax (Marathon messages)', () => {
  const table: [unknown[], string | undefined][] = [
    [['hostname', 'UNIQUE'], undefined],
    [['hostname', 'unique'], undefined],
    [['hostname', 'UNIQUE', 'x'], ConstraintMessages.uniqueNoValue],
    [['hostname'], ConstraintMessages.fieldCount],
    [['a', 'b', 'c', 'd'], ConstraintMessages.fieldCount],
    [['', 'UNIQUE'], ConstraintMessages.illegal],
    [['hostname', 'NEAR'], ConstraintMessages.operatorInvalid],
    [['rack', 'GROUP_BY'], undefined],
    [['rack', 'GROUP_BY', '3'], undefined],
    [['rack', 'GROUP_BY', 'three'], ConstraintMessages.groupByInt],
    [['rack', 'MAX_PER'], ConstraintMessages.maxPerInt],
    [['rack', 'MAX_PER', '2'], undefined],
    [['rack', 'MAX_PER', '2.5'], ConstraintMessages.maxPerInt],
    [['rack', 'LIKE'], ConstraintMessages.likeRequiresRegex],
    [['rack', 'LIKE', '(unclosed'], ConstraintMessages.invalidRegex],
    [['rack', 'UNLIKE', 'rack-[7-9]'], undefined],
    [['rack', 'IS', 'rack-1'], undefined],
    [['rack', 'IS', '{a,b}'], ConstraintMessages.isTextOrFloat],
    [['rack', 'CLUSTER'], undefined],
    [['rack', 'CLUSTER', 'anything at all'], undefined],
    [['rack', 7], ConstraintMessages.illegal],
    [['rack', 'LIKE', '(a+)+b'], ConstraintMessages.nestedQuantifier],
    [['rack', 'UNLIKE', '(x*y)*'], ConstraintMessages.nestedQuantifier],
    [['rack', 'LIKE', '((ab)*c){2,}'], ConstraintMessages.nestedQuantifier],
    [['rack', 'LIKE', '(rack-[0-9]+)'], undefined],
    [['rack', 'LIKE', '(a|b)+'], undefined],
    [['rack', 'LIKE', '[(a+)]+'], undefined],
    [['rack', 'LIKE', '\\(a+\\)+'], undefined],
  ];
  for (const [raw, message] of table) {
    it(`${JSON.stringify(raw)} → ${message ?? 'valid'}`, () => {
      const r = parseConstraint(raw);
      if (message === undefined) expect(r.ok).to.equal(true);
      else expect(r).to.deep.equal({ ok: false, error: message });
    });
  }

  it('formats scalars as Java DecimalFormat("0.###") with half-even rounding', () => {
    expect(formatScalar(1)).to.equal('1');
    expect(formatScalar(1.5)).to.equal('1.5');
    expect(formatScalar(1.0005)).to.equal('1');
    expect(formatScalar(1.00051)).to.equal('1.001');
    expect(attributeValueText('3.000')).to.equal('3');
    expect(attributeValueText('[9-10,1-2]')).to.equal('[1-2,9-10]');
    expect(attributeValueText('{b,a}')).to.equal('{a,b}');
    expect(attributeValueText('rack-1')).to.equal('rack-1');
  });
});
