/** Encryption at rest: round trip, tampering, wrong key, name binding, key file formats. */
import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import { open, parseKey, seal } from '../../../sdk/secrets/crypto.js';

const KEY = randomBytes(32);
const VALUE = 's3cr3t-Välue-🔑';

function code(fn: () => unknown): string | undefined {
  try {
    fn();
    return undefined;
  } catch (e) {
    return (e as { code?: string }).code;
  }
}

/** Flips one bit of byte `i` of a base64 field. */
function flip(b64: string, i: number): string {
  const b = Buffer.from(b64, 'base64');
  b[i % b.length] ^= 0x01;
  return b.toString('base64');
}

describe('secrets: AES-256-GCM at rest', () => {
  it('round-trips a value, and never stores it in clear', () => {
    const s = seal(KEY, '/prod/db/password', VALUE);
    expect(JSON.stringify(s)).not.to.include('s3cr3t');
    expect(Buffer.from(s.ciphertext, 'base64').includes(Buffer.from(VALUE))).to.equal(false);
    expect(open(KEY, '/prod/db/password', s)).to.equal(VALUE);
  });

  it('uses a fresh nonce per value: the same value seals differently', () => {
    const a = seal(KEY, '/a', VALUE);
    const b = seal(KEY, '/a', VALUE);
    expect(a.nonce).not.to.equal(b.nonce);
    expect(a.ciphertext).not.to.equal(b.ciphertext);
  });

  it('refuses a record with any byte flipped (ciphertext, nonce, tag)', () => {
    const s = seal(KEY, '/a', VALUE);
    for (let i = 0; i < Buffer.from(s.ciphertext, 'base64').length; i++) {
      expect(code(() => open(KEY, '/a', { ...s, ciphertext: flip(s.ciphertext, i) }))).to.equal(
        'AGORA_SECRETS_UNREADABLE',
      );
    }
    expect(code(() => open(KEY, '/a', { ...s, nonce: flip(s.nonce, 3) }))).to.equal('AGORA_SECRETS_UNREADABLE');
    expect(code(() => open(KEY, '/a', { ...s, tag: flip(s.tag, 0) }))).to.equal('AGORA_SECRETS_UNREADABLE');
  });

  it('refuses another key', () => {
    const s = seal(KEY, '/a', VALUE);
    expect(code(() => open(randomBytes(32), '/a', s))).to.equal('AGORA_SECRETS_UNREADABLE');
  });

  it('binds the name: a ciphertext moved to another name does not open', () => {
    const s = seal(KEY, '/prod/db/password', VALUE);
    expect(code(() => open(KEY, '/dev/db/password', s))).to.equal('AGORA_SECRETS_UNREADABLE');
  });

  it('reads a key as 32 raw bytes, base64 or hex; refuses anything else without quoting it', () => {
    expect(parseKey(KEY).equals(KEY)).to.equal(true);
    expect(parseKey(Buffer.from(`${KEY.toString('base64')}\n`)).equals(KEY)).to.equal(true);
    expect(parseKey(Buffer.from(` ${KEY.toString('hex')}\n`)).equals(KEY)).to.equal(true);
    for (const bad of [Buffer.alloc(0), randomBytes(31), randomBytes(33), Buffer.from('not-a-key-at-all')]) {
      expect(code(() => parseKey(bad))).to.equal('AGORA_SECRETS_BAD_KEY_FILE');
    }
    try {
      parseKey(Buffer.from('hunter2-hunter2'));
    } catch (e) {
      expect((e as Error).message).not.to.include('hunter2');
    }
  });
});
