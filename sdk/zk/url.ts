/**
 * ZooKeeper addresses in Mesos's form: `zk://[user:password@]host1:port1[,host2:port2...]/path`.
 *
 * The result is split the way the ZooKeeper client wants it: the comma-separated server list (given
 * to the client as its connect string) and the path under which Agora keeps its nodes (the master
 * election's `json.info_*` nodes, the replicated state). A path is required and may not be `/`:
 * Agora never writes into the root of a shared ensemble (Mesos refuses it for the same reason).
 */

export const ZK_URL_ERROR = 'AGORA_ZK_BAD_URL' as const;

export class ZkUrlError extends Error {
  readonly code = ZK_URL_ERROR;
  constructor(
    readonly url: string,
    reason: string,
  ) {
    // A quoted piece of a malformed URL may be a fragment of its password: hide those pieces.
    const text = String(url);
    const userinfo = text.slice(text.toLowerCase().indexOf('zk://') + 5, Math.max(0, text.lastIndexOf('@')));
    const safe = reason.replace(/'([^']+)'/g, (q, piece: string) => (userinfo.includes(piece) ? "'***'" : q));
    super(`bad ZooKeeper URL '${redact(url)}': ${safe} (expected zk://[user:pass@]host1:2181[,host2:2181...]/path)`);
    this.name = 'ZkUrlError';
  }
}

export interface ZkCredentials {
  /** The digest scheme's `user:password`, as given to `addAuth('digest', ...)`. */
  scheme: 'digest';
  username: string;
  password: string;
}

export interface ZkUrl {
  /** Comma-separated `host:port` list, e.g. `host1:2181,host2:2181`. */
  servers: string;
  /** The chroot-like base path, e.g. `/agora`: absolute, no trailing slash, never `/`. */
  path: string;
  credentials?: ZkCredentials;
}

const DEFAULT_PORT = 2181;
const HOSTNAME =
  /^(?=.{1,253}$)[A-Za-z0-9_]([A-Za-z0-9_-]*[A-Za-z0-9_])?(\.[A-Za-z0-9_]([A-Za-z0-9_-]*[A-Za-z0-9_])?)*$/;
const IPV6 = /^[0-9A-Fa-f:.]+$/;
/**
 * Characters ZooKeeper accepts in a node name that are also unambiguous in a URL and a shell. No '@':
 * a raw '/' in a password would otherwise turn the rest of the credentials into a "path".
 */
const PATH_SEGMENT = /^[A-Za-z0-9_.:+=,~-]+$/;

export function isZkUrl(s: string): boolean {
  return s.trim().toLowerCase().startsWith('zk://');
}

/** Parses `zk://...`; throws `ZkUrlError` (code AGORA_ZK_BAD_URL) saying what is wrong. */
export function parseZkUrl(url: string): ZkUrl {
  if (typeof url !== 'string') throw new ZkUrlError(String(url), 'not a string');
  const text = url.trim();
  if (!isZkUrl(text)) throw new ZkUrlError(url, "it must start with 'zk://'");
  const rest = text.slice('zk://'.length);

  const slash = rest.indexOf('/');
  if (slash < 0) throw new ZkUrlError(url, 'a path is required, e.g. zk://host:2181/agora');
  let authority = rest.slice(0, slash);
  const rawPath = rest.slice(slash);

  let credentials: ZkCredentials | undefined;
  const at = authority.lastIndexOf('@');
  if (at >= 0) {
    const userinfo = authority.slice(0, at);
    authority = authority.slice(at + 1);
    const colon = userinfo.indexOf(':');
    if (colon <= 0) throw new ZkUrlError(url, "credentials must be 'user:password@'");
    const username = decode(url, userinfo.slice(0, colon));
    const password = decode(url, userinfo.slice(colon + 1));
    if (!username || !password) throw new ZkUrlError(url, 'user and password must both be non-empty');
    credentials = { scheme: 'digest', username, password };
  }

  if (!authority) throw new ZkUrlError(url, 'no servers given');
  const servers = authority.split(',').map((server) => parseServer(url, server));
  const path = parsePath(url, rawPath);
  return credentials ? { servers: servers.join(','), path, credentials } : { servers: servers.join(','), path };
}

/** The URL back in its canonical form (credentials shown as `***` unless `withSecrets`). */
export function formatZkUrl(u: ZkUrl, withSecrets = false): string {
  const creds = u.credentials
    ? `${encodeURIComponent(u.credentials.username)}:${withSecrets ? encodeURIComponent(u.credentials.password) : '***'}@`
    : '';
  return `zk://${creds}${u.servers}${u.path}`;
}

function parseServer(url: string, server: string): string {
  const s = server.trim();
  if (!s) throw new ZkUrlError(url, 'empty server in the list (look for a stray comma)');
  let host: string;
  let portText: string | undefined;
  if (s.startsWith('[')) {
    const close = s.indexOf(']');
    if (close < 0) throw new ZkUrlError(url, `unclosed '[' in server '${s}'`);
    host = s.slice(1, close);
    const after = s.slice(close + 1);
    if (after && !after.startsWith(':')) throw new ZkUrlError(url, `unexpected '${after}' after ']' in '${s}'`);
    portText = after ? after.slice(1) : undefined;
    if (!IPV6.test(host) || !host.includes(':')) throw new ZkUrlError(url, `'${host}' is not an IPv6 address`);
    host = `[${host}]`;
  } else {
    const parts = s.split(':');
    if (parts.length > 2) throw new ZkUrlError(url, `server '${s}' has more than one ':' (write IPv6 as [addr]:port)`);
    host = parts[0];
    portText = parts.length === 2 ? parts[1] : undefined;
    if (!host) throw new ZkUrlError(url, `server '${s}' has no host`);
    if (!HOSTNAME.test(host)) throw new ZkUrlError(url, `'${host}' is not a valid host name or address`);
  }
  let port = DEFAULT_PORT;
  if (portText !== undefined) {
    if (!/^[0-9]{1,5}$/.test(portText)) throw new ZkUrlError(url, `port '${portText}' of '${s}' is not a number`);
    port = Number(portText);
    if (port < 1 || port > 65535) throw new ZkUrlError(url, `port '${port}' of '${s}' is out of range 1-65535`);
  }
  return `${host}:${port}`;
}

function parsePath(url: string, raw: string): string {
  if (/[?#]/.test(raw)) throw new ZkUrlError(url, 'query strings and fragments are not supported');
  let path = raw;
  while (path.length > 1 && path.endsWith('/')) path = path.slice(0, -1);
  if (path === '/') throw new ZkUrlError(url, "the path may not be '/': give Agora its own node, e.g. /agora");
  const segments = path.slice(1).split('/');
  for (const segment of segments) {
    if (!segment) throw new ZkUrlError(url, `empty segment in path '${raw}'`);
    if (segment === '.' || segment === '..') throw new ZkUrlError(url, `'${segment}' is not allowed in path '${raw}'`);
    if (segment.includes('@'))
      throw new ZkUrlError(url, "'@' in the path (in credentials, write / as %2F and @ as %40)");
    if (!PATH_SEGMENT.test(segment)) throw new ZkUrlError(url, `path segment '${segment}' has unsupported characters`);
    if (segment === 'zookeeper' && segments[0] === segment) throw new ZkUrlError(url, "'/zookeeper' is reserved");
  }
  return path;
}

function decode(url: string, s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    throw new ZkUrlError(url, 'bad %-escape in the credentials');
  }
}

/**
 * Hides the password of a `zk://` URL (or of any text holding one, such as a command line) before it
 * goes into an error message or a log line: everything from the user name's ':' to the LAST '@' of
 * the URL becomes `***`, so a raw '@' or '/' in the password is hidden too (paths may not hold '@').
 * The one redaction for ZooKeeper URLs: use it wherever a zk:// URL may be logged.
 */
export function redact(text: string): string {
  if (typeof text !== 'string') return text;
  // A whole URL (a flag's value): the last '@' anywhere ends the credentials, even after a space.
  if (isZkUrl(text)) return hideUserinfo(text);
  return text.replace(/zk:\/\/[^\s'"]*/gi, hideUserinfo);
}

function hideUserinfo(url: string): string {
  const start = url.toLowerCase().indexOf('zk://') + 'zk://'.length;
  const at = url.lastIndexOf('@');
  if (at < start) return url;
  const colon = url.indexOf(':', start);
  const user = colon >= 0 && colon < at ? `${url.slice(start, colon)}:` : '';
  return `${url.slice(0, start)}${user}***${url.slice(at)}`;
}
