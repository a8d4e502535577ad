/**
 * The security flags of `agora master` (Mesos's names) and what they build: the authorizer every
 * HTTP route and WebSocket upgrade asks, the audit log, and the loopback rule (docs/security.md).
 */
import { readFileSync, statSync } from 'node:fs';
import type pino from 'pino';
import {
  AuditLog,
  authErrors,
  type Credential,
  checkBind,
  parseAcls,
  parseCredential,
  parseCredentials,
  parseRateLimits,
  RateLimiter,
  SecurityAuthorizer,
} from '../sdk/auth/index.js';
import { AgoraError, codesOf } from '../sdk/errors.js';
import { type Clock, systemClock } from '../sdk/util/clock.js';
import { type FlagDef, type Flags, UsageError } from './flags.js';

export const MAX_SECURITY_FILE_BYTES = 1024 * 1024;
/** The security catalogue's codes (sdk/auth/errors.ts). */
const AUTH_CODES = new Set(codesOf(authErrors));

export const masterSecurityFlags: FlagDef[] = [
  { name: 'authenticate_frameworks', help: 'only frameworks with a credential may subscribe', boolean: true },
  { name: 'authenticate_agents', help: 'only agents with a credential may register', boolean: true },
  { name: 'authenticate_http_readonly', help: 'HTTP reads (GET) need credentials (/health stays open)', boolean: true },
  { name: 'authenticate_http_readwrite', help: 'HTTP writes (POST, PUT, DELETE) need credentials', boolean: true },
  {
    name: 'credentials',
    help: 'Mesos credentials file: JSON {"credentials":[{"principal","secret"}]} or \'principal secret\' lines',
  },
  { name: 'acls', help: 'Mesos ACLs: JSON text or a file path (file:// accepted); permissive when absent' },
  {
    name: 'rate_limits',
    help: 'Mesos rate limits per principal, for framework calls and HTTP writes: JSON text or a file path',
  },
  {
    name: 'audit_log',
    help: 'append the audit log (JSON lines: every write and every refusal) here (default: the main log)',
  },
  {
    name: 'insecure',
    help: 'allow listening beyond loopback without authentication (logged as a warning at every start)',
    boolean: true,
  },
];

/** Reads a file the security flags name, bounded in size; the message never holds its contents. */
export function readBounded(path: string, flag: string): string {
  const p = path.startsWith('file://') ? path.slice('file://'.length) : path;
  let size: number;
  try {
    size = statSync(p).size;
  } catch {
    throw new authErrors.BadSecurityFlags(`--${flag}: cannot read ${p}`);
  }
  if (size > MAX_SECURITY_FILE_BYTES) {
    throw new authErrors.BadSecurityFlags(`--${flag}: ${p} is over ${MAX_SECURITY_FILE_BYTES} bytes`);
  }
  return readFileSync(p, 'utf8');
}

/** JSON text as given, or the contents of the file it names. */
function jsonOrFile(value: string, flag: string): string {
  return value.trimStart().startsWith('{') ? value : readBounded(value, flag);
}

const on = (f: Flags, name: string) => f[name] === 'true';

export interface MasterSecurity {
  authorizer: SecurityAuthorizer;
  /** What a non-loopback listener still lacks (empty when frameworks, agents and HTTP writes authenticate). */
  missing: string[];
  /** Lines to log at start (a world-readable credentials file, --insecure). */
  warnings: string[];
  /** `--rate_limits`: one budget per principal for its HTTP writes and its framework calls. */
  rateLimiter?: RateLimiter;
}

export function masterSecurityFromFlags(f: Flags, logger: pino.Logger, clock: Clock = systemClock): MasterSecurity {
  const warnings: string[] = [];
  const flagsOn = [
    'authenticate_frameworks',
    'authenticate_agents',
    'authenticate_http_readonly',
    'authenticate_http_readwrite',
  ];
  if (flagsOn.some((n) => on(f, n)) && !f.credentials) {
    throw new authErrors.BadSecurityFlags(
      `--${flagsOn.filter((n) => on(f, n)).join(', --')} need --credentials (nobody could authenticate)`,
    );
  }
  let credentials: ReturnType<typeof parseCredentials> | undefined;
  if (f.credentials) {
    credentials = parseCredentials(readBounded(f.credentials, 'credentials'), `--credentials ${f.credentials}`);
    try {
      if ((statSync(f.credentials.replace(/^file:\/\//, '')).mode & 0o077) !== 0) {
        warnings.push(`the credentials file ${f.credentials} can be read by other users; chmod 600 it`);
      }
    } catch {
      // read above; a race here changes nothing
    }
  }
  const rateLimiter = f.rate_limits
    ? new RateLimiter(parseRateLimits(jsonOrFile(f.rate_limits, 'rate_limits')), clock)
    : undefined;
  const authorizer = new SecurityAuthorizer({
    credentials,
    acls: f.acls ? parseAcls(jsonOrFile(f.acls, 'acls')) : undefined,
    authenticateFrameworks: on(f, 'authenticate_frameworks'),
    authenticateAgents: on(f, 'authenticate_agents'),
    authenticateHttpReadonly: on(f, 'authenticate_http_readonly'),
    authenticateHttpReadwrite: on(f, 'authenticate_http_readwrite'),
    rateLimiter,
    audit: AuditLog.open(f.audit_log, logger, clock),
    clock,
  });
  const missing = ['authenticate_frameworks', 'authenticate_agents', 'authenticate_http_readwrite']
    .filter((n) => !on(f, n))
    .map((n) => `--${n}`);
  return { authorizer, missing, warnings, rateLimiter };
}

/**
 * The loopback rule for a daemon: throws (as a usage error naming the code) when it must not
 * start; logs the WARN line when `--insecure` lets it.
 */
export function enforceBind(
  component: 'master' | 'agent',
  host: string,
  missing: string[],
  insecure: boolean,
  logger: pino.Logger,
): void {
  try {
    const warn = checkBind({ component, host, authenticated: missing.length === 0, insecure, missing });
    if (warn) logger.warn({ insecure: true, host }, warn);
  } catch (e) {
    if (e instanceof AgoraError) {
      logger.error({ code: e.code, host }, e.message);
      throw new UsageError(`${e.message} [${e.code}]`);
    }
    throw e;
  }
}

/** Security-file errors as usage errors (exit 64 with the message and code, no stack). */
export function asUsageError(e: unknown): unknown {
  return e instanceof AgoraError && AUTH_CODES.has(e.code) ? new UsageError(`${e.message} [${e.code}]`) : e;
}

/** An agent's or a scheduler's `--credential` file, or `--principal`/`--secret`. */
export function clientCredential(f: Flags): Credential | undefined {
  if (f.credential) return parseCredential(readBounded(f.credential, 'credential'), `--credential ${f.credential}`);
  if (f.principal !== undefined || f.secret !== undefined) {
    if (!f.principal || !f.secret) throw new UsageError('--principal and --secret go together');
    return parseCredential(JSON.stringify({ principal: f.principal, secret: f.secret }), '--principal/--secret');
  }
  return undefined;
}

/** The agent's security flags (Mesos's agent names); `runAgent` spreads these into its flag list. */
export const agentSecurityFlags: FlagDef[] = [
  {
    name: 'credential',
    help: 'this agent\'s credential for the master: JSON {"principal","secret"} or one \'principal secret\' line',
  },
  { name: 'http_credentials', help: "Mesos credentials file for callers of this agent's HTTP API (/state, /files)" },
  {
    name: 'authenticate_http_readonly',
    help: 'HTTP reads (/state, /files) need credentials (/health stays open)',
    boolean: true,
  },
  {
    name: 'acls',
    help: 'Mesos ACLs (view_frameworks, view_tasks, access_sandboxes, get_endpoints): JSON text or a file path',
  },
  {
    name: 'insecure',
    help: 'allow listening beyond loopback without authentication (logged as a warning at every start)',
    boolean: true,
  },
];

export interface AgentSecurity {
  authorizer: SecurityAuthorizer;
  missing: string[];
  /** What the agent sends the master at the upgrade (`Authorization: Basic ...`). */
  credential?: Credential;
}

export function agentSecurityFromFlags(f: Flags, logger: pino.Logger, clock: Clock = systemClock): AgentSecurity {
  if (on(f, 'authenticate_http_readonly') && !f.http_credentials) {
    throw new authErrors.BadSecurityFlags('--authenticate_http_readonly needs --http_credentials');
  }
  const authorizer = new SecurityAuthorizer({
    credentials: f.http_credentials
      ? parseCredentials(
          readBounded(f.http_credentials, 'http_credentials'),
          `--http_credentials ${f.http_credentials}`,
        )
      : undefined,
    acls: f.acls ? parseAcls(jsonOrFile(f.acls, 'acls')) : undefined,
    authenticateHttpReadonly: on(f, 'authenticate_http_readonly'),
    authenticateHttpReadwrite: on(f, 'authenticate_http_readonly'),
    audit: AuditLog.open(undefined, logger, clock),
    clock,
  });
  return {
    authorizer,
    missing: on(f, 'authenticate_http_readonly') ? [] : ['--authenticate_http_readonly'],
    credential: clientCredential(f),
  };
}

/** `agora execute`'s credential flags (as mesos-execute): spread into its flag list, read with `clientCredential`. */
export const executeCredentialFlags: FlagDef[] = [
  { name: 'credential', help: 'credential file: JSON {"principal","secret"} or one \'principal secret\' line' },
  { name: 'principal', help: 'principal to authenticate as (with --secret)' },
  { name: 'secret', help: 'secret of --principal (prefer --credential: a flag shows in ps)' },
];
