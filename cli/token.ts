/**
 * `agora token`: mints a bearer token for a principal from its credential (docs/security.md).
 * The token is printed on stdout; the secret never is.
 */
import { MAX_TOKEN_TTL_MS, mintToken } from '../sdk/auth/index.js';
import { parseDuration } from '../sdk/util/duration.js';
import { type CommandDef, type Flags, UsageError } from './flags.js';
import { asUsageError, clientCredential, executeCredentialFlags } from './security.js';

export const tokenCommand: CommandDef = {
  name: 'token',
  summary: "Mint a bearer token for a principal (signed with the principal's secret; expires)",
  usage: 'agora token --credential FILE [--ttl 1hrs]',
  flags: [
    ...executeCredentialFlags,
    { name: 'ttl', help: 'how long the token is valid (at most 30days)', default: '1hrs' },
  ],
  examples: ['agora token --credential ~/.agora/credential.json --ttl 8hrs'],
};

export async function runToken(f: Flags): Promise<number> {
  let cred: ReturnType<typeof clientCredential>;
  try {
    cred = clientCredential(f);
  } catch (e) {
    throw asUsageError(e);
  }
  if (!cred) throw new UsageError('give --credential FILE (or --principal and --secret)');
  const ttl = parseDuration(f.ttl ?? '1hrs');
  if (!(ttl > 0) || ttl > MAX_TOKEN_TTL_MS) throw new UsageError('--ttl must be between 1ms and 30days');
  console.log(mintToken(cred.principal, cred.secret, Date.now() + ttl));
  return 0;
}
