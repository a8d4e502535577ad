/**
 * The id rule (sdk/util/id.ts) and the role-name rule (sdk/resources/roles.ts), each on its own and
 * as the wire schemas apply them.
 */
import { expect } from 'chai';
import { ProtocolError, validateMessage } from '../../../sdk/protocol/index.js';
import { ResourceError, Resources } from '../../../sdk/resources/resources.js';
import { isValidRoleName, MAX_ROLE_LENGTH, roleNameProblem } from '../../../sdk/resources/roles.js';
import { idProblem, isValidId, MAX_ID_LENGTH, validateId } from '../../../sdk/util/id.js';
import { agentMessages, frameworkInfo, schedulerCalls, taskInfo } from '../codec/fixtures.js';

function protocolError(fn: () => unknown): ProtocolError {
  try {
    fn();
  } catch (e) {
    expect(e).to.be.instanceOf(ProtocolError);
    return e as ProtocolError;
  }
  expect.fail('expected a ProtocolError');
}

const badIds: [string, unknown][] = [
  ['empty', ''],
  ['.', '.'],
  ['..', '..'],
  ['a slash', 'a/b'],
  ['a backslash', 'a\\b'],
  ['a leading slash', '/etc'],
  ['NUL', 'a\u0000b'],
  ['a newline', 'a\nb'],
  ['a tab', 'a\tb'],
  ['DEL', 'a\u007fb'],
  ['a C1 control character', 'a\u0085b'],
  ['1,000 characters', 'x'.repeat(1000)],
  [`${MAX_ID_LENGTH + 1} characters`, 'x'.repeat(MAX_ID_LENGTH + 1)],
  ['a number', 7],
];
const goodIds = [
  // Mesos's validateID allows spaces; only control characters and path separators are out.
  'a b',
  'a\u00a0b',
  'meta', // legal: the agent keeps its own layout safe from it
  '...',
  '.hidden',
  'a..b',
  'web.instance-1',
  '20240611-101500-16777343-5050-4242-S0',
  'ünïcödé',
  'x'.repeat(MAX_ID_LENGTH),
];

describe('ids (Mesos validateID, and safe as one path component)', () => {
  for (const [name, id] of badIds) {
    it(`refuses ${name}`, () => {
      expect(idProblem(id)).to.be.a('string');
      expect(isValidId(id)).to.equal(false);
      expect(() => validateId(id, 'task id'))
        .to.throw(/invalid task id/)
        .with.property('code', 'AGORA_ID_INVALID');
    });
  }
  for (const id of goodIds) {
    it(`accepts ${JSON.stringify(id.slice(0, 20))}${id.length > 20 ? `… (${id.length})` : ''}`, () => {
      expect(idProblem(id)).to.equal(undefined);
      expect(validateId(id)).to.equal(id);
    });
  }

  describe('on the wire, every id field follows the rule', () => {
    const fields: [string, string, (id: string) => unknown, RegExp][] = [
      [
        'SUBSCRIBE framework_info.id',
        'scheduler_to_master',
        (id) => ({ type: 'SUBSCRIBE', subscribe: { framework_info: { ...frameworkInfo, id } } }),
        /framework_info\.id/,
      ],
      [
        'KILL framework_id',
        'scheduler_to_master',
        (id) => ({ ...schedulerCalls.KILL, framework_id: id }),
        /framework_id/,
      ],
      [
        'ACCEPT LAUNCH task_id',
        'scheduler_to_master',
        (id) => ({
          ...schedulerCalls.ACCEPT,
          accept: {
            offer_ids: ['o-1'],
            operations: [{ type: 'LAUNCH', launch: { task_infos: [{ ...taskInfo(1), task_id: id }] } }],
          },
        }),
        /task_infos\[0\]\.task_id/,
      ],
      [
        'REREGISTER agent.id',
        'agent_to_master',
        (id) => ({ ...agentMessages.REREGISTER, agent: { ...agentMessages.REREGISTER.agent, id } }),
        /agent\.id/,
      ],
      [
        'STATUS_UPDATE status.task_id',
        'agent_to_master',
        (id) => ({
          ...agentMessages.STATUS_UPDATE,
          update: {
            ...agentMessages.STATUS_UPDATE.update,
            status: { ...agentMessages.STATUS_UPDATE.update.status, task_id: id },
          },
        }),
        /status\.task_id/,
      ],
    ];
    for (const [name, direction, build, path] of fields) {
      it(`${name}: refuses '.', '..', 'a/b', NUL, newline, 1,000 characters; accepts 'meta'`, () => {
        for (const id of ['.', '..', 'a/b', 'a\u0000b', 'a\nb', 'x'.repeat(1000)]) {
          const e = protocolError(() => validateMessage(direction as 'agent_to_master', build(id)));
          expect(e.code).to.equal('AGORA_PROTOCOL_INVALID_MESSAGE');
          expect(e.message).to.match(path);
        }
        expect(validateMessage(direction as 'agent_to_master', build('meta'))).to.be.an('object');
      });
    }
  });
});

const badRoles: [string, unknown][] = [
  ['empty', ''],
  ['.', '.'],
  ['..', '..'],
  ['../etc', '../etc'],
  ['a leading dash', '-web'],
  ['a component with a leading dash', 'web/-x'],
  ['a leading slash', '/web'],
  ['a trailing slash', 'web/'],
  ['an empty component', 'web//x'],
  ['a . component', 'web/./x'],
  ['a space', 'a b'],
  ['a newline', 'a\nb'],
  ['a tab', 'a\tb'],
  ['NUL', 'a\u0000b'],
  ['DEL', 'a\u007fb'],
  ['a backslash', 'a\\b'],
  ['a * inside', 'web*'],
  ['a * component', 'web/*'],
  ['1,000 characters', 'r'.repeat(1000)],
  ['a number', 3],
];
const goodRoles = ['*', 'web', 'web/frontend', 'eng/ml/training', 'a.b', 'a-b', '_x', 'r'.repeat(MAX_ROLE_LENGTH)];

describe('role names (Mesos roles::validate, hierarchical)', () => {
  for (const [name, role] of badRoles) {
    it(`refuses ${name}`, () => {
      expect(roleNameProblem(role)).to.be.a('string');
      expect(isValidRoleName(role)).to.equal(false);
    });
  }
  for (const role of goodRoles) {
    it(`accepts ${JSON.stringify(role.slice(0, 20))}`, () => expect(roleNameProblem(role)).to.equal(undefined));
  }

  it('is the rule of SUBSCRIBE roles, SUPPRESS/REVIVE roles, offers and resource roles', () => {
    const subscribe = (roles: string[]) => ({
      type: 'SUBSCRIBE',
      subscribe: { framework_info: { ...frameworkInfo, roles } },
    });
    for (const [, role] of badRoles.filter(([, r]) => typeof r === 'string')) {
      const r = role as string;
      expect(protocolError(() => validateMessage('scheduler_to_master', subscribe(['*', r]))).message).to.match(
        /framework_info\.roles\[1\]/,
      );
      expect(
        protocolError(() =>
          validateMessage('scheduler_to_master', { type: 'SUPPRESS', framework_id: 'fw-1', suppress: { roles: [r] } }),
        ).message,
      ).to.match(/suppress\.roles\[0\]/);
      const reserved = { name: 'cpus', type: 'SCALAR' as const, scalar: { value: 1 }, role: r };
      expect(() => Resources.from([reserved])).to.throw(ResourceError);
    }
    expect(validateMessage('scheduler_to_master', subscribe(goodRoles))).to.be.an('object');
  });

  it('caps the number of roles of a framework', () => {
    const many = Array.from({ length: 65 }, (_, i) => `r${i}`);
    const e = protocolError(() =>
      validateMessage('scheduler_to_master', {
        type: 'SUBSCRIBE',
        subscribe: { framework_info: { ...frameworkInfo, roles: many } },
      }),
    );
    expect(e.message).to.match(/roles/);
  });
});
