/**
 * Secret names: Marathon/Metronome-style absolute paths (`/prod/db/password`), and how they map
 * to keys of the master's Store (`secrets/prod~db~password`: one segment, so that `/a` and `/a/b`
 * can both exist in a file store). Pure.
 */
import { BadSecretName, SecretTooLarge } from './errors.js';

export const MAX_SECRET_NAME_LENGTH = 192;
export const MAX_SECRET_SEGMENTS = 16;
export const MAX_SECRET_VALUE_BYTES = 64 * 1024;
export const MAX_SECRETS = 10_000;
/** Secrets one task may reference (env variables and volumes together). */
export const MAX_TASK_SECRETS = 32;

const SEGMENT = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$/;

/** Why `name` is not a valid secret name, or undefined. */
export function secretNameProblem(name: unknown): string | undefined {
  if (typeof name !== 'string') return 'a secret name is a string';
  if (name.length > MAX_SECRET_NAME_LENGTH) return `a secret name has at most ${MAX_SECRET_NAME_LENGTH} characters`;
  if (!name.startsWith('/')) return "a secret name is an absolute path, e.g. '/prod/db/password'";
  const segments = name.slice(1).split('/');
  if (segments.length > MAX_SECRET_SEGMENTS) return `a secret name has at most ${MAX_SECRET_SEGMENTS} segments`;
  for (const s of segments) {
    if (s === '') return "a secret name has no empty segment (no trailing or doubled '/')";
    if (!SEGMENT.test(s)) {
      return `segment '${s.slice(0, 64)}' must start with a letter, digit or '_' and hold only [A-Za-z0-9_.-] (at most 64)`;
    }
  }
  return undefined;
}

export function checkSecretName(name: unknown): string {
  const p = secretNameProblem(name);
  if (p) throw new BadSecretName(p);
  return name as string;
}

export function checkSecretValue(value: string): void {
  const n = Buffer.byteLength(value, 'utf8');
  if (n > MAX_SECRET_VALUE_BYTES) {
    throw new SecretTooLarge(`a secret value has at most ${MAX_SECRET_VALUE_BYTES} bytes (this one ${n})`);
  }
}

export const SECRETS_PREFIX = 'secrets/';

/** The Store key of a (valid) secret name. */
export function storeKeyOf(name: string): string {
  return SECRETS_PREFIX + name.slice(1).replaceAll('/', '~');
}

/** The secret name of a Store key under `secrets/`, or undefined when it is not one. */
export function nameOfStoreKey(key: string): string | undefined {
  if (!key.startsWith(SECRETS_PREFIX)) return undefined;
  const name = `/${key.slice(SECRETS_PREFIX.length).replaceAll('~', '/')}`;
  return secretNameProblem(name) ? undefined : name;
}
