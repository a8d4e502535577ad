/**
 * Who a request's `Authorization` header proves: HTTP Basic (`principal:secret`, as Mesos) or a
 * bearer token (tokens.ts). Pure over the header and the credentials; the time comes in.
 */
import type { Credentials } from './credentials.js';
import { Secret, secretMatches } from './secret.js';
import { verifyToken } from './tokens.js';

export const MAX_AUTHORIZATION_LENGTH = 8192;
const NO_SECRET = new Secret('\u0000');

export type Identity =
  | { kind: 'anonymous' }
  | { kind: 'principal'; principal: string }
  /** Credentials given but wrong, unknown or malformed; `reason` is safe to log (no secret). */
  | { kind: 'invalid'; reason: string };

export function identify(header: string | string[] | undefined, credentials: Credentials, now: number): Identity {
  if (header === undefined) return { kind: 'anonymous' };
  if (Array.isArray(header)) return { kind: 'invalid', reason: 'several Authorization headers' };
  if (header.length > MAX_AUTHORIZATION_LENGTH) return { kind: 'invalid', reason: 'Authorization header too long' };
  const sp = header.indexOf(' ');
  const scheme = (sp < 0 ? header : header.slice(0, sp)).toLowerCase();
  const value = sp < 0 ? '' : header.slice(sp + 1).trim();
  if (scheme === 'basic') {
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(value)) return { kind: 'invalid', reason: 'malformed Basic credentials' };
    const text = Buffer.from(value, 'base64').toString('utf8');
    const colon = text.indexOf(':');
    if (colon <= 0) return { kind: 'invalid', reason: 'malformed Basic credentials' };
    const principal = text.slice(0, colon);
    const secret = credentials.secretOf(principal);
    // Compare even for an unknown principal, so the time taken does not tell principals apart.
    const ok = secretMatches(secret ?? NO_SECRET, text.slice(colon + 1)) && secret !== undefined;
    return ok ? { kind: 'principal', principal } : { kind: 'invalid', reason: 'wrong principal or secret' };
  }
  if (scheme === 'bearer') {
    const t = verifyToken(value, credentials, now);
    return t.ok ? { kind: 'principal', principal: t.principal } : { kind: 'invalid', reason: t.reason };
  }
  return { kind: 'invalid', reason: 'unsupported authentication scheme' };
}

/** The header value a client sends for a principal and secret (HTTP Basic). */
export function basicAuthorization(principal: string, secret: string): string {
  return `Basic ${Buffer.from(`${principal}:${secret}`, 'utf8').toString('base64')}`;
}
