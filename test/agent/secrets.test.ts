/**
 * The agent's side of secrets: requests matched to answers, refused and timed-out requests
 * failing with REASON_SECRET_GENERATOR_FAILED, files written 0400 inside the sandbox only.
 */
import { mkdirSync, readFileSync, statSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { materialize, SecretsClient } from '../../agent/secrets.js';
import type { AgentMessage } from '../../sdk/protocol/messages.js';
import { VirtualClock } from '../../sdk/util/clock.js';
import { tempDir } from '../support/cluster.js';
import { requireReal } from '../support/require-real.js';

type Request = Extract<AgentMessage, { type: 'SECRETS_REQUEST' }>;

async function failure(p: Promise<unknown>): Promise<{ reason?: string; message: string } | undefined> {
  try {
    await p;
    return undefined;
  } catch (e) {
    return e as { reason?: string; message: string };
  }
}

describe('agent secrets', () => {
  it('matches answers to requests by id, and fails refused ones with the reason', async () => {
    const sent: Request[] = [];
    const c = new SecretsClient((m) => {
      sent.push(m as Request);
      return true;
    }, new VirtualClock(0));
    const a = c.request('f1', 't1', ['/a']);
    const b = c.request('f1', 't2', ['/b']);
    expect(sent.map((m) => [m.task_id, m.names])).to.deep.equal([
      ['t1', ['/a']],
      ['t2', ['/b']],
    ]);
    c.onAnswer({
      type: 'SECRETS',
      request_id: sent[1].request_id,
      error: { code: 'AGORA_SECRETS_ACCESS_DENIED', message: 'no' },
    });
    c.onAnswer({ type: 'SECRETS', request_id: sent[0].request_id, secrets: [{ name: '/a', value: 'va' }] });
    expect((await a).get('/a')).to.equal('va');
    const f = await failure(b);
    expect(f?.reason).to.equal('REASON_SECRET_GENERATOR_FAILED');
    expect(f?.message).to.include('AGORA_SECRETS_ACCESS_DENIED');
  });

  it('fails at once when not connected, and after the timeout without an answer', async () => {
    const offline = new SecretsClient(() => false, new VirtualClock(0));
    expect((await failure(offline.request('f', 't', ['/a'])))?.reason).to.equal('REASON_SECRET_GENERATOR_FAILED');
    const clock = new VirtualClock(0);
    const silent = new SecretsClient(() => true, clock, 1000);
    const p = silent.request('f', 't', ['/a']);
    clock.advance(1000);
    expect((await failure(p))?.message).to.include('no answer');
  });

  it('writes files 0400 in the sandbox and returns env; refuses to follow a symlink out', async () => {
    const sandbox = tempDir('secrets-sandbox');
    const plan = {
      names: ['/a'],
      env: [{ variable: 'A', secret: '/a' }],
      files: [{ path: 'creds/a', secret: '/a' }],
    };
    const env = await materialize(plan, new Map([['/a', 'value-a']]), sandbox, undefined);
    expect(env).to.deep.equal({ A: 'value-a' });
    expect(readFileSync(join(sandbox, 'creds/a'), 'utf8')).to.equal('value-a');
    expect(statSync(join(sandbox, 'creds/a')).mode & 0o777).to.equal(0o400);
    // A second write to the same path is refused (never overwrite what is there).
    expect((await failure(materialize(plan, new Map([['/a', 'x']]), sandbox, undefined)))?.reason).to.equal(
      'REASON_SECRET_GENERATOR_FAILED',
    );
    // A symlink planted in the sandbox (e.g. by a fetched archive) must not carry a file out.
    const other = tempDir('secrets-outside');
    const sb2 = tempDir('secrets-sandbox2');
    mkdirSync(sb2, { recursive: true });
    symlinkSync(other, join(sb2, 'creds'));
    const escaped = await failure(materialize(plan, new Map([['/a', 'value-a']]), sb2, undefined));
    expect(escaped?.message).to.include('outside the sandbox');
    expect(() => statSync(join(other, 'a'))).to.throw();
  });

  it('gives the file, and the directories made for it, to the task user', async function () {
    const nobody = readFileSync('/etc/passwd', 'utf8')
      .split('\n')
      .map((l) => l.split(':'))
      .find((f) => f[0] === 'nobody');
    requireReal(this, 'root and a nobody user', {
      ok: process.getuid?.() === 0 && nobody !== undefined,
      reason: 'the test runs as root with a nobody user in /etc/passwd',
    });
    const ids = [Number(nobody?.[2]), Number(nobody?.[3])];
    const sandbox = tempDir('secrets-owned');
    const plan = { names: ['/a'], env: [], files: [{ path: 'creds/db/a', secret: '/a' }] };
    await materialize(plan, new Map([['/a', 'v']]), sandbox, { uid: ids[0], gid: ids[1] });
    for (const p of ['creds', 'creds/db', 'creds/db/a']) {
      const st = statSync(join(sandbox, p));
      expect([st.uid, st.gid], p).to.deep.equal(ids);
    }
    expect(statSync(join(sandbox, 'creds/db/a')).mode & 0o777).to.equal(0o400);
  });
});
