/** Secret names, a task's references, and Marathon/Metronome's shape translated to Mesos's. */
import { expect } from 'chai';
import { Value } from 'typebox/value';
import { TaskInfoSchema } from '../../../sdk/protocol/types.js';
import { nameOfStoreKey, secretNameProblem, storeKeyOf } from '../../../sdk/secrets/names.js';
import { secretPlan, translateMarathonSecrets, withoutSecretVolumes } from '../../../sdk/secrets/refs.js';

const ref = (name: string) => ({ type: 'REFERENCE' as const, reference: { name } });

function code(fn: () => unknown): string | undefined {
  try {
    fn();
    return undefined;
  } catch (e) {
    return (e as { code?: string }).code;
  }
}

describe('secrets: names and references', () => {
  it('accepts path names and refuses others', () => {
    for (const ok of ['/a', '/prod/db/password', '/x_1/y.z-2']) expect(secretNameProblem(ok), ok).to.equal(undefined);
    for (const bad of [
      '',
      'a',
      '/',
      '/a/',
      '//a',
      '/a//b',
      '/../x',
      '/.hidden',
      '/a b',
      '/a~b',
      `/${'x'.repeat(65)}`,
    ]) {
      expect(secretNameProblem(bad), bad).to.be.a('string');
    }
    expect(secretNameProblem(`/${Array(17).fill('a').join('/')}`)).to.be.a('string');
    expect(secretNameProblem(`/${Array(4).fill('a'.repeat(60)).join('/')}`)).to.be.a('string');
  });

  it('maps a name to one Store key segment and back', () => {
    expect(storeKeyOf('/prod/db/password')).to.equal('secrets/prod~db~password');
    expect(nameOfStoreKey('secrets/prod~db~password')).to.equal('/prod/db/password');
    expect(nameOfStoreKey('registrar/agents/x')).to.equal(undefined);
  });

  it('collects env and volume references; drops secret volumes from what the containerizer sees', () => {
    const task = {
      command: {
        environment: {
          variables: [
            { name: 'A', value: 'plain' },
            { name: 'DB', type: 'SECRET' as const, secret: ref('/prod/db/password') },
          ],
        },
      },
      container: {
        type: 'MESOS' as const,
        volumes: [
          {
            container_path: 'creds/db',
            mode: 'RO' as const,
            source: { type: 'SECRET' as const, secret: ref('/prod/db/password') },
          },
          { container_path: '/data', host_path: '/srv', mode: 'RW' as const },
        ],
      },
    };
    const plan = secretPlan(task);
    expect(plan.names).to.deep.equal(['/prod/db/password']);
    expect(plan.env).to.deep.equal([{ variable: 'DB', secret: '/prod/db/password' }]);
    expect(plan.files).to.deep.equal([{ path: 'creds/db', secret: '/prod/db/password' }]);
    expect(withoutSecretVolumes(task).container.volumes).to.deep.equal([task.container.volumes[1]]);
  });

  it('refuses secret files outside the sandbox and too many references', () => {
    const vol = (p: string) => ({
      container: {
        type: 'MESOS' as const,
        volumes: [{ container_path: p, mode: 'RO' as const, source: { type: 'SECRET' as const, secret: ref('/a') } }],
      },
    });
    for (const p of ['/etc/passwd', '../x', 'a/../../x', 'a//b', './a']) {
      expect(
        code(() => secretPlan(vol(p))),
        p,
      ).to.equal('AGORA_SECRETS_BAD_REFERENCE');
    }
    const many = {
      command: {
        environment: {
          variables: Array.from({ length: 33 }, (_, i) => ({
            name: `V${i}`,
            type: 'SECRET' as const,
            secret: ref('/a'),
          })),
        },
      },
    };
    expect(code(() => secretPlan(many))).to.equal('AGORA_SECRETS_BAD_REFERENCE');
  });

  it('the protocol schema takes Mesos references and refuses values inlined or mixed', () => {
    const base = { name: 't', task_id: 't1', agent_id: 'a1', resources: [] };
    const withVars = (variables: unknown[]) => ({ ...base, command: { value: 'true', environment: { variables } } });
    expect(Value.Check(TaskInfoSchema, withVars([{ name: 'X', type: 'SECRET', secret: ref('/a/b') }]))).to.equal(true);
    expect(Value.Check(TaskInfoSchema, withVars([{ name: 'X', value: 'v' }]))).to.equal(true);
    expect(
      Value.Check(TaskInfoSchema, withVars([{ name: 'X', type: 'SECRET', value: 'v', secret: ref('/a') }])),
    ).to.equal(false);
    expect(Value.Check(TaskInfoSchema, withVars([{ name: 'X', type: 'SECRET' }]))).to.equal(false);
    expect(Value.Check(TaskInfoSchema, withVars([{ name: 'X', type: 'SECRET', secret: ref('no-slash') }]))).to.equal(
      false,
    );
    expect(
      Value.Check(
        TaskInfoSchema,
        withVars([{ name: 'X', type: 'SECRET', secret: { type: 'VALUE', value: { data: 'x' } } }]),
      ),
    ).to.equal(false);
  });
});

describe('secrets: Marathon/Metronome shape', () => {
  it('translates secrets + env + volumes to Mesos variables and volumes', () => {
    const out = translateMarathonSecrets(
      { db: { source: '/prod/db/password' } },
      { DB_PASSWORD: { secret: 'db' }, PLAIN: 'x' },
      [{ containerPath: 'creds/db', secret: 'db' }],
    );
    expect(out.variables).to.deep.equal([
      { name: 'DB_PASSWORD', type: 'SECRET', secret: ref('/prod/db/password') },
      { name: 'PLAIN', type: 'VALUE', value: 'x' },
    ]);
    expect(out.volumes).to.deep.equal([
      { container_path: 'creds/db', mode: 'RO', source: { type: 'SECRET', secret: ref('/prod/db/password') } },
    ]);
  });

  it('refuses an env naming an unknown secret id, and a bad source', () => {
    expect(code(() => translateMarathonSecrets({}, { X: { secret: 'nope' } }))).to.equal('AGORA_SECRETS_BAD_REFERENCE');
    expect(code(() => translateMarathonSecrets({ db: { source: 'relative' } }, { X: { secret: 'db' } }))).to.equal(
      'AGORA_SECRETS_BAD_REFERENCE',
    );
    expect(
      code(() => translateMarathonSecrets({ toString: { source: '/a' } } as never, { X: { secret: 'constructor' } })),
    ).to.equal('AGORA_SECRETS_BAD_REFERENCE');
  });
});
