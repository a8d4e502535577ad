/**
 * Mesos's credential files. `--credentials` (master): JSON `{"credentials": [{"principal": "p",
 * "secret": "s"}, ...]}`, or the older text form, one `principal secret` per line. `--credential`
 * (agent, scheduler): one credential, JSON `{"principal": "p", "secret": "s"}` or one text line.
 * Every size and count is bounded; a bad file is refused whole, naming the line or field but never
 * a secret.
 */
import { type Static, Type } from 'typebox';
import { BadCredentialsFile } from './errors.js';
import { schemaProblem as problem } from './schema.js';
import { Secret } from './secret.js';

export const MAX_CREDENTIALS_BYTES = 1024 * 1024;
export const MAX_CREDENTIALS = 10_000;
export const MAX_PRINCIPAL_LENGTH = 256;
export const MAX_SECRET_LENGTH = 4096;

/** No whitespace (the text form splits on it) and no `:` (Basic authentication splits on it). */
const PRINCIPAL_PATTERN = '^[^\\s:]+$';

// Closed objects: a misspelt field is an error, not silently ignored.
export const CredentialJson = Type.Object(
  {
    principal: Type.String({ minLength: 1, maxLength: MAX_PRINCIPAL_LENGTH, pattern: PRINCIPAL_PATTERN }),
    secret: Type.String({ minLength: 1, maxLength: MAX_SECRET_LENGTH }),
  },
  { additionalProperties: false },
);
export const CredentialsJson = Type.Object(
  { credentials: Type.Array(CredentialJson, { maxItems: MAX_CREDENTIALS }) },
  { additionalProperties: false },
);
export type CredentialJson = Static<typeof CredentialJson>;

export interface Credential {
  principal: string;
  secret: Secret;
}

/** The principals a master knows, each with its secret. */
export class Credentials {
  private readonly byPrincipal: ReadonlyMap<string, Secret>;
  constructor(list: readonly Credential[]) {
    const m = new Map<string, Secret>();
    for (const c of list) {
      if (m.has(c.principal)) throw new BadCredentialsFile(`principal '${c.principal}' is listed twice`);
      m.set(c.principal, c.secret);
    }
    this.byPrincipal = m;
  }
  get size(): number {
    return this.byPrincipal.size;
  }
  secretOf(principal: string): Secret | undefined {
    return this.byPrincipal.get(principal);
  }
  principals(): string[] {
    return [...this.byPrincipal.keys()];
  }
  /** Never the secrets. */
  toJSON(): { principals: string[] } {
    return { principals: this.principals() };
  }
}

function checkSize(text: string, what: string): void {
  if (Buffer.byteLength(text, 'utf8') > MAX_CREDENTIALS_BYTES) {
    throw new BadCredentialsFile(`${what} is over ${MAX_CREDENTIALS_BYTES} bytes`);
  }
}

function textLine(line: string, n: number, what: string): Credential {
  const parts = line.trim().split(/\s+/);
  if (parts.length !== 2) throw new BadCredentialsFile(`${what} line ${n}: expected 'principal secret'`);
  const [principal, secret] = parts;
  if (principal.length > MAX_PRINCIPAL_LENGTH || principal.includes(':')) {
    throw new BadCredentialsFile(
      `${what} line ${n}: a principal has at most ${MAX_PRINCIPAL_LENGTH} characters, no ':'`,
    );
  }
  if (secret.length > MAX_SECRET_LENGTH) {
    throw new BadCredentialsFile(`${what} line ${n}: a secret has at most ${MAX_SECRET_LENGTH} characters`);
  }
  return { principal, secret: new Secret(secret) };
}

function parseJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new BadCredentialsFile(`${what} looks like JSON but does not parse`);
  }
}

/** The master's `--credentials` contents (JSON or text form). */
export function parseCredentials(text: string, what = 'credentials file'): Credentials {
  checkSize(text, what);
  const trimmed = text.trim();
  if (trimmed.startsWith('{')) {
    const json = parseJson(trimmed, what);
    const p = problem(CredentialsJson, json);
    if (p) throw new BadCredentialsFile(`${what}: ${p}`);
    const list = (json as Static<typeof CredentialsJson>).credentials;
    return new Credentials(list.map((c) => ({ principal: c.principal, secret: new Secret(c.secret) })));
  }
  const lines = trimmed.split('\n');
  const out: Credential[] = [];
  for (let i = 0; i < lines.length; i++) {
    if (lines[i].trim() === '') continue;
    if (out.length >= MAX_CREDENTIALS)
      throw new BadCredentialsFile(`${what} holds over ${MAX_CREDENTIALS} credentials`);
    out.push(textLine(lines[i], i + 1, what));
  }
  return new Credentials(out);
}

/** An agent's or a scheduler's `--credential` contents: one credential (JSON or one text line). */
export function parseCredential(text: string, what = 'credential file'): Credential {
  checkSize(text, what);
  const trimmed = text.trim();
  if (trimmed.startsWith('{')) {
    const json = parseJson(trimmed, what);
    const p = problem(CredentialJson, json);
    if (p) throw new BadCredentialsFile(`${what}: ${p}`);
    const c = json as CredentialJson;
    return { principal: c.principal, secret: new Secret(c.secret) };
  }
  const lines = trimmed.split('\n').filter((l) => l.trim() !== '');
  if (lines.length !== 1) throw new BadCredentialsFile(`${what}: expected one 'principal secret' line`);
  return textLine(lines[0], 1, what);
}
