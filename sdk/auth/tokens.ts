/**
 * Bearer tokens: `agora1.<payload>.<signature>`, both base64url. The payload is
 * `{"p": principal, "exp": epoch ms}`; the signature is HMAC-SHA256 over the payload text with a
 * key derived from the principal's secret in the credentials file. So anyone who holds a
 * principal's secret can mint its tokens (as `agora token` does), a token expires, and changing
 * the secret revokes every token of that principal. Nothing to store on the master.
 */
import { createHmac } from 'node:crypto';
import type { Credentials } from './credentials.js';
import { constantTimeEqual, type Secret } from './secret.js';

export const TOKEN_PREFIX = 'agora1';
export const MAX_TOKEN_LENGTH = 2048;
/** Longest lifetime a token may ask for: 30 days. */
export const MAX_TOKEN_TTL_MS = 30 * 24 * 3600 * 1000;

function keyOf(secret: Secret): Buffer {
  return createHmac('sha256', 'agora-bearer-token-v1').update(secret.reveal(), 'utf8').digest();
}

function sign(payload: string, secret: Secret): string {
  return createHmac('sha256', keyOf(secret)).update(payload, 'utf8').digest('base64url');
}

/** A token for `principal`, valid until `expiresAt` (epoch ms). */
export function mintToken(principal: string, secret: Secret, expiresAt: number): string {
  const payload = Buffer.from(JSON.stringify({ p: principal, exp: expiresAt }), 'utf8').toString('base64url');
  return `${TOKEN_PREFIX}.${payload}.${sign(payload, secret)}`;
}

export type TokenCheck = { ok: true; principal: string } | { ok: false; reason: string };

/** The principal a token proves, at time `now`; never says which part of a bad token was wrong beyond its shape. */
export function verifyToken(token: string, credentials: Credentials, now: number): TokenCheck {
  if (token.length > MAX_TOKEN_LENGTH) return { ok: false, reason: 'token too long' };
  const parts = token.split('.');
  if (parts.length !== 3 || parts[0] !== TOKEN_PREFIX) return { ok: false, reason: 'malformed token' };
  let claims: { p?: unknown; exp?: unknown };
  try {
    claims = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8'));
  } catch {
    return { ok: false, reason: 'malformed token' };
  }
  if (typeof claims !== 'object' || claims === null || typeof claims.p !== 'string' || typeof claims.exp !== 'number') {
    return { ok: false, reason: 'malformed token' };
  }
  const secret = credentials.secretOf(claims.p);
  // Unknown principal: compare anyway, so the time taken does not tell known principals apart.
  const expected = secret ? sign(parts[1], secret) : 'x'.repeat(43);
  const good = constantTimeEqual(expected, parts[2]) && secret !== undefined;
  if (!good) return { ok: false, reason: 'bad token' };
  if (claims.exp <= now) return { ok: false, reason: 'expired token' };
  return { ok: true, principal: claims.p };
}
