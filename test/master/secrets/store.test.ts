/**
 * The secret store over a real FileStore: values sealed on disk (the raw bytes hold no value),
 * tampering and moved records refused, a wrong key refused; the key file's checks; and who gets
 * values at launch (deliveryRefusal).
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { pino } from 'pino';
import type { FrameworkEntry, TaskEntry } from '../../../master/registry.js';
import { taskKey } from '../../../master/registry.js';
import {
  deliveryRefusal,
  readSecretsKeyFile,
  SecretStore,
  SecretsDelivery,
  type SecretsRequest,
} from '../../../master/secrets/index.js';
import { FileStore } from '../../../sdk/store/index.js';
import { tempDir } from '../../support/cluster.js';

const VALUE = `pw-${randomBytes(12).toString('hex')}`;

async function code(p: Promise<unknown>): Promise<string | undefined> {
  try {
    await p;
    return undefined;
  } catch (e) {
    return (e as { code?: string }).code;
  }
}

function filesUnder(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...filesUnder(p));
    else out.push(p);
  }
  return out;
}

describe('secrets: the store over the master Store', () => {
  let dir: string;
  let fs: FileStore;
  let store: SecretStore;
  const key = randomBytes(32);

  beforeEach(async () => {
    dir = tempDir('secrets-store');
    fs = await FileStore.open(dir);
    store = new SecretStore(fs, key);
  });
  afterEach(async () => {
    await fs.close();
  });

  it('creates, updates, lists, reveals and deletes; the raw files never hold the value', async () => {
    const created = await store.put('/prod/db/password', VALUE);
    expect(created.created).to.equal(true);
    expect(created.meta.version).to.equal(1);
    const updated = await store.put('/prod/db/password', `${VALUE}-2`);
    expect(updated).to.deep.include({ created: false });
    expect(updated.meta.version).to.equal(2);
    await store.put('/prod/api', VALUE);
    expect((await store.list()).map((m) => [m.name, m.version])).to.deep.equal([
      ['/prod/api', 1],
      ['/prod/db/password', 2],
    ]);
    expect((await store.reveal(['/prod/db/password'])).get('/prod/db/password')).to.equal(`${VALUE}-2`);
    for (const f of filesUnder(dir)) {
      const raw = readFileSync(f);
      expect(raw.includes(Buffer.from(VALUE)), f).to.equal(false);
      expect(raw.includes(Buffer.from(VALUE).toString('base64').slice(0, 16)), f).to.equal(false);
    }
    await store.delete('/prod/api');
    expect(await code(store.get('/prod/api'))).to.equal('AGORA_SECRETS_NOT_FOUND');
    expect(await code(store.delete('/prod/api'))).to.equal('AGORA_SECRETS_NOT_FOUND');
  });

  it('refuses a record changed on disk, a record moved to another name, and another key', async () => {
    await store.put('/a', VALUE);
    await store.put('/b', 'other');
    const fileOf = (k: string) => join(dir, 'store', 'secrets', k, '@value.json');
    const a = JSON.parse(readFileSync(fileOf('a'), 'utf8'));
    // One byte of the ciphertext flipped.
    const ct = Buffer.from(a.value.sealed.ciphertext, 'base64');
    ct[0] ^= 1;
    writeFileSync(
      fileOf('a'),
      JSON.stringify({ ...a, value: { ...a.value, sealed: { ...a.value.sealed, ciphertext: ct.toString('base64') } } }),
    );
    expect(await code(store.reveal(['/a']))).to.equal('AGORA_SECRETS_UNREADABLE');
    // /a's original record written under /b, its name field rewritten to match.
    writeFileSync(fileOf('b'), JSON.stringify({ ...a, value: { ...a.value, name: '/b' } }));
    expect(await code(store.reveal(['/b']))).to.equal('AGORA_SECRETS_UNREADABLE');
    await store.put('/c', VALUE);
    expect(await code(new SecretStore(fs, randomBytes(32)).reveal(['/c']))).to.equal('AGORA_SECRETS_UNREADABLE');
    expect((await store.reveal(['/c'])).get('/c')).to.equal(VALUE);
  });

  it('bounds names and values', async () => {
    expect(await code(store.put('relative', 'x'))).to.equal('AGORA_SECRETS_BAD_NAME');
    expect(await code(store.put('/a/../b', 'x'))).to.equal('AGORA_SECRETS_BAD_NAME');
    expect(await code(store.put('/big', 'x'.repeat(64 * 1024 + 1)))).to.equal('AGORA_SECRETS_TOO_LARGE');
    expect(await fs.list('secrets/')).to.deep.equal([]);
  });
});

describe('secrets: --secrets_key_file', () => {
  const dir = tempDir('secrets-key');
  const write = (name: string, content: Buffer | string, mode: number) => {
    const p = join(dir, name);
    writeFileSync(p, content);
    chmodSync(p, mode);
    return p;
  };
  const codeOf = (p: string) => {
    try {
      readSecretsKeyFile(p);
      return undefined;
    } catch (e) {
      return (e as { code?: string }).code;
    }
  };

  it('reads a private 32-byte key (raw, base64, hex)', () => {
    const k = randomBytes(32);
    expect(readSecretsKeyFile(write('raw', k, 0o600)).equals(k)).to.equal(true);
    expect(readSecretsKeyFile(write('b64', k.toString('base64'), 0o400)).equals(k)).to.equal(true);
    expect(readSecretsKeyFile(write('hex', `${k.toString('hex')}\n`, 0o600)).equals(k)).to.equal(true);
  });

  it('refuses a missing, short, or group/world-readable file', () => {
    expect(codeOf(join(dir, 'absent'))).to.equal('AGORA_SECRETS_BAD_KEY_FILE');
    expect(codeOf(write('short', randomBytes(16), 0o600))).to.equal('AGORA_SECRETS_BAD_KEY_FILE');
    expect(codeOf(write('world', randomBytes(32), 0o644))).to.equal('AGORA_SECRETS_BAD_KEY_FILE');
    expect(codeOf(write('group', randomBytes(32), 0o640))).to.equal('AGORA_SECRETS_BAD_KEY_FILE');
    expect(statSync(join(dir, 'world')).mode & 0o777).to.equal(0o644);
  });
});

describe('secrets: delivery decisions', () => {
  const ref = (name: string) => ({ type: 'REFERENCE' as const, reference: { name } });
  const task = (agentId: string, state = 'TASK_STAGING') =>
    ({
      key: taskKey('f1', 't1'),
      frameworkId: 'f1',
      agentId,
      state,
      task: {
        name: 't',
        task_id: 't1',
        agent_id: agentId,
        resources: [],
        command: {
          value: 'true',
          environment: { variables: [{ name: 'DB', type: 'SECRET', secret: ref('/prod/db') }] },
        },
      },
    }) as unknown as TaskEntry;
  const view = (t: TaskEntry, principal = 'alice') => ({
    leading: true,
    tasks: new Map([[t.key, t]]),
    frameworks: new Map([['f1', { info: { id: 'f1', name: 'f', principal } } as unknown as FrameworkEntry]]),
  });
  const req = (names = ['/prod/db']): SecretsRequest => ({
    type: 'SECRETS_REQUEST',
    request_id: 'r1',
    framework_id: 'f1',
    task_id: 't1',
    names,
  });
  const all = () => true;

  it('allows the task own agent, for the names the task references, when the ACL allows', () => {
    expect(deliveryRefusal(view(task('a1')), 'a1', req(), all)).to.equal(undefined);
  });

  it('refuses another agent, an unregistered one, an ended task, an unreferenced name, a denied principal', () => {
    expect(deliveryRefusal(view(task('a1')), 'a2', req(), all)?.code).to.equal('AGORA_SECRETS_WRONG_AGENT');
    expect(deliveryRefusal(view(task('a1')), undefined, req(), all)?.code).to.equal('AGORA_SECRETS_WRONG_AGENT');
    expect(deliveryRefusal(view(task('a1', 'TASK_FINISHED')), 'a1', req(), all)?.code).to.equal(
      'AGORA_SECRETS_WRONG_AGENT',
    );
    expect(deliveryRefusal(view(task('a1')), 'a1', req(['/prod/other']), all)?.code).to.equal(
      'AGORA_SECRETS_BAD_REFERENCE',
    );
    const onlyBob = (p: string | undefined) => p === 'bob';
    expect(deliveryRefusal(view(task('a1')), 'a1', req(), onlyBob)?.code).to.equal('AGORA_SECRETS_ACCESS_DENIED');
    expect(deliveryRefusal(view(task('a1'), 'bob'), 'a1', req(), onlyBob)).to.equal(undefined);
    expect(deliveryRefusal({ ...view(task('a1')), leading: false }, 'a1', req(), all)?.code).to.equal(
      'AGORA_SECRETS_WRONG_AGENT',
    );
  });

  it('answers with the values, or an error and no values; logs names, never values', async () => {
    const fs = await FileStore.open(tempDir('secrets-delivery'));
    const lines: string[] = [];
    const log = pino({ level: 'trace' }, { write: (s: string) => lines.push(s) });
    const store = new SecretStore(fs, randomBytes(32));
    await store.put('/prod/db', VALUE);
    const d = new SecretsDelivery(store, all, log);
    const ok = await d.answer(view(task('a1')), 'a1', req());
    expect(ok.secrets).to.deep.equal([{ name: '/prod/db', value: VALUE }]);
    const no = await d.answer(view(task('a1')), 'a2', req());
    expect(no.secrets).to.equal(undefined);
    expect(no.error?.code).to.equal('AGORA_SECRETS_WRONG_AGENT');
    const disabled = await new SecretsDelivery(undefined, all, log).answer(view(task('a1')), 'a1', req());
    expect(disabled.error?.code).to.equal('AGORA_SECRETS_DISABLED');
    expect(lines.join('')).to.include('/prod/db');
    expect(lines.join('')).not.to.include(VALUE);
    await fs.close();
  });
});
