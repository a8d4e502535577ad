/**
 * The ACL evaluator against Mesos's documented examples (docs/authorization.md, written here from
 * their prose), and every action Agora enforces allowed and denied for a principal.
 */
import { expect } from 'chai';
import { ACL_OBJECTS, type AclAction, aclAllows, parseAcls } from '../../../sdk/auth/index.js';

type Case = [principal: string | undefined, object: string | undefined, allowed: boolean];

function table(acls: string, action: AclAction, cases: Case[]) {
  const parsed = parseAcls(acls);
  for (const [p, o, want] of cases) {
    it(`${p ?? '(anonymous)'} ${want ? 'may' : 'may not'} ${action} on ${o ?? '(any)'}`, () => {
      expect(aclAllows(parsed, action, p, o)).to.equal(want);
    });
  }
}

describe('sdk/auth: ACLs (Mesos local authorizer semantics)', () => {
  describe('only foo may register in analytics; everyone may register elsewhere', () => {
    table(
      JSON.stringify({
        register_frameworks: [
          { principals: { values: ['foo'] }, roles: { values: ['analytics'] } },
          { principals: { type: 'NONE' }, roles: { values: ['analytics'] } },
        ],
      }),
      'register_frameworks',
      [
        ['foo', 'analytics', true],
        ['bar', 'analytics', false],
        [undefined, 'analytics', false],
        ['bar', 'web', true],
        ['foo', 'web', true],
      ],
    );
  });

  describe('foo may register in analytics and ads and no other role', () => {
    table(
      JSON.stringify({
        register_frameworks: [
          { principals: { values: ['foo'] }, roles: { values: ['analytics', 'ads'] } },
          { principals: { values: ['foo'] }, roles: { type: 'NONE' } },
        ],
      }),
      'register_frameworks',
      [
        ['foo', 'analytics', true],
        ['foo', 'ads', true],
        ['foo', 'web', false],
        ['bar', 'web', true],
        [undefined, 'analytics', true],
      ],
    );
  });

  describe('not permissive: only foo, only analytics', () => {
    table(
      JSON.stringify({
        permissive: false,
        register_frameworks: [{ principals: { values: ['foo'] }, roles: { values: ['analytics'] } }],
      }),
      'register_frameworks',
      [
        ['foo', 'analytics', true],
        ['foo', '*', false],
        ['bar', 'analytics', false],
        [undefined, 'analytics', false],
      ],
    );
  });

  describe('not permissive: anyone may run tasks as guest or bar only', () => {
    table(
      JSON.stringify({
        permissive: false,
        run_tasks: [{ principals: { type: 'ANY' }, users: { values: ['guest', 'bar'] } }],
      }),
      'run_tasks',
      [
        ['foo', 'guest', true],
        [undefined, 'bar', true],
        ['foo', 'root', false],
      ],
    );
  });

  describe('nobody may run tasks as root', () => {
    table(JSON.stringify({ run_tasks: [{ principals: { type: 'NONE' }, users: { values: ['root'] } }] }), 'run_tasks', [
      ['foo', 'root', false],
      [undefined, 'root', false],
      ['foo', 'alice', true],
    ]);
  });

  describe('order matters: a NONE rule first forbids teardown to everyone', () => {
    table(
      JSON.stringify({
        teardown_frameworks: [
          { principals: { type: 'NONE' }, framework_principals: { type: 'ANY' } },
          { principals: { values: ['admin'] }, framework_principals: { type: 'ANY' } },
        ],
      }),
      'teardown_frameworks',
      [
        ['admin', 'fw', false],
        ['ops', 'fw', false],
      ],
    );
  });

  describe('the fixed order lets admin alone tear down', () => {
    table(
      JSON.stringify({
        teardown_frameworks: [
          { principals: { values: ['admin'] }, framework_principals: { type: 'ANY' } },
          { principals: { type: 'NONE' }, framework_principals: { type: 'ANY' } },
        ],
      }),
      'teardown_frameworks',
      [
        ['admin', 'fw', true],
        ['admin', undefined, true],
        ['ops', 'fw', false],
        [undefined, 'fw', false],
      ],
    );
  });

  describe('a request without an object matches only ANY or NONE object rules', () => {
    table(
      JSON.stringify({
        permissive: false,
        view_frameworks: [{ principals: { values: ['ops'] }, users: { values: ['alice'] } }],
      }),
      'view_frameworks',
      [
        ['ops', 'alice', true],
        ['ops', undefined, false],
      ],
    );
  });

  describe('every enforced action, allowed and denied for a principal', () => {
    for (const [action, object] of Object.entries(ACL_OBJECTS) as [AclAction, string][]) {
      const acls = parseAcls(
        JSON.stringify({
          permissive: false,
          [action]: [
            { principals: { values: ['alice'] }, [object]: { values: ['x'] } },
            { principals: { values: ['bob'] }, [object]: { type: 'NONE' } },
          ],
        }),
      );
      it(`${action} (${object})`, () => {
        expect(aclAllows(acls, action, 'alice', 'x'), 'alice on x').to.equal(true);
        expect(aclAllows(acls, action, 'alice', 'y'), 'alice on y').to.equal(false);
        expect(aclAllows(acls, action, 'bob', 'x'), 'bob on x').to.equal(false);
        expect(aclAllows(acls, action, 'carol', 'x'), 'carol (no rule, not permissive)').to.equal(false);
        // Another action's rules never decide this one.
        expect(aclAllows(acls, action === 'run_tasks' ? 'view_tasks' : 'run_tasks', 'bob', 'x')).to.equal(false);
      });
    }
  });

  it('takes mark_agent_gone as a spelling of mark_agents_gone', () => {
    const acls = parseAcls(
      JSON.stringify({
        mark_agent_gone: [
          { principals: { values: ['ops'] }, agents: { type: 'ANY' } },
          { principals: { type: 'ANY' }, agents: { type: 'NONE' } },
        ],
      }),
    );
    expect(aclAllows(acls, 'mark_agents_gone', 'ops', 'a1')).to.equal(true);
    expect(aclAllows(acls, 'mark_agents_gone', 'eve', 'a1')).to.equal(false);
  });

  it('loads Mesos ACL kinds Agora does not enforce, so a Mesos file works', () => {
    expect(() =>
      parseAcls(JSON.stringify({ view_flags: [{ principals: { type: 'ANY' }, flags: { type: 'NONE' } }] })),
    ).not.to.throw();
  });

  for (const [name, text] of [
    ['not JSON', '{'],
    ['an unknown action (a typo must not pass silently)', '{"register_framework": []}'],
    [
      'an unknown entity type',
      '{"teardown_frameworks":[{"principals":{"type":"admin"},"framework_principals":{"type":"ANY"}}]}',
    ],
    ['a rule without its object', '{"run_tasks":[{"principals":{"type":"ANY"}}]}'],
    ['a rule with the wrong object', '{"run_tasks":[{"principals":{"type":"ANY"},"roles":{"type":"ANY"}}]}'],
    ['values with NONE', '{"run_tasks":[{"principals":{"type":"NONE","values":["a"]},"users":{"type":"ANY"}}]}'],
    ['an entity with neither', '{"run_tasks":[{"principals":{},"users":{"type":"ANY"}}]}'],
    [
      'too many values',
      JSON.stringify({ run_tasks: [{ principals: { values: Array(1001).fill('a') }, users: { type: 'ANY' } }] }),
    ],
    ['permissive as text', '{"permissive":"false"}'],
  ] as const) {
    it(`refuses ${name} with AGORA_AUTH_BAD_ACLS`, () => {
      expect(() => parseAcls(text))
        .to.throw()
        .with.property('code', 'AGORA_AUTH_BAD_ACLS');
    });
  }
});
