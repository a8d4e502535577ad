/**
 * Encryption at rest: AES-256-GCM with a fresh random 96-bit nonce per value and the secret's
 * name as associated data, so a ciphertext copied under another name does not decrypt.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { BadSecretsKeyFile, SecretUnreadable } from './errors.js';

export const KEY_BYTES = 32;
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
const ALG = 'aes-256-gcm';
/** Versioned, so that another scheme can be told apart later. */
const AAD_PREFIX = 'agora-secret-v1\u0000';

/** A sealed value as stored (base64 fields). */
export interface Sealed {
  alg: 'AES-256-GCM';
  nonce: string;
  ciphertext: string;
  tag: string;
}

/**
 * The 32-byte key from a key file's bytes: the raw bytes, or their base64 or hex text (surrounding
 * whitespace ignored). Throws BadSecretsKeyFile otherwise; the message never quotes the content.
 */
export function parseKey(content: Buffer): Buffer {
  if (content.length === KEY_BYTES) return Buffer.from(content);
  const text = content.toString('utf8').trim();
  if (/^[0-9a-fA-F]{64}$/.test(text)) return Buffer.from(text, 'hex');
  if (/^[A-Za-z0-9+/_-]{43}=?$/.test(text)) {
    const b = Buffer.from(text, 'base64');
    if (b.length === KEY_BYTES) return b;
  }
  throw new BadSecretsKeyFile(
    `the secrets key must be ${KEY_BYTES} bytes: raw, or as base64 or hex text (got ${content.length} bytes that are none of these); make one with: head -c 32 /dev/urandom > FILE && chmod 600 FILE`,
  );
}

function aad(name: string): Buffer {
  return Buffer.from(AAD_PREFIX + name, 'utf8');
}

export function seal(key: Buffer, name: string, value: string): Sealed {
  const nonce = randomBytes(NONCE_BYTES);
  const c = createCipheriv(ALG, key, nonce, { authTagLength: TAG_BYTES });
  c.setAAD(aad(name));
  const ciphertext = Buffer.concat([c.update(value, 'utf8'), c.final()]);
  return {
    alg: 'AES-256-GCM',
    nonce: nonce.toString('base64'),
    ciphertext: ciphertext.toString('base64'),
    tag: c.getAuthTag().toString('base64'),
  };
}

/** Decrypts; throws SecretUnreadable when the record was changed, belongs to another name, or another key sealed it. */
export function open(key: Buffer, name: string, sealed: Sealed): string {
  try {
    if (sealed.alg !== 'AES-256-GCM') throw new Error(`unknown algorithm ${String(sealed.alg)}`);
    const nonce = Buffer.from(sealed.nonce, 'base64');
    const tag = Buffer.from(sealed.tag, 'base64');
    if (nonce.length !== NONCE_BYTES || tag.length !== TAG_BYTES) throw new Error('bad nonce or tag length');
    const d = createDecipheriv(ALG, key, nonce, { authTagLength: TAG_BYTES });
    d.setAAD(aad(name));
    d.setAuthTag(tag);
    return Buffer.concat([d.update(Buffer.from(sealed.ciphertext, 'base64')), d.final()]).toString('utf8');
  } catch {
    throw new SecretUnreadable(
      `secret '${name}' does not decrypt: the record was changed, moved from another name, or sealed with another key`,
    );
  }
}
