/**
 * Making Agora's ZooKeeper nodes exist with the right ACL, and tightening the ones an earlier run
 * without credentials left open. Used by the election (its path, `acls.publicRead`) and the Store
 * (its root and everything under it, `acls.private`).
 *
 * A node is tightened only when its ACL was never set (ACL version 0: created open, by a run without
 * credentials); a node whose ACL someone set is left as it is. Where the credentials may not read or
 * change a node, `ZkNotAuthorizedError` (AGORA_ZK_NOT_AUTHORIZED) says what to do.
 */
import type { Logger } from 'pino';
import { describeAcl, type ZkAcl, ZkNotAuthorizedError } from './acl.js';
import { isZkError, joinPath, type ZkClient, ZkErrorCode } from './client.js';

/** At most this many requests of a walk are in flight at once. */
const PARALLEL = 8;
/** A walk stops (with an error) beyond this many nodes: far more than a registrar holds. */
export const MAX_TIGHTEN_NODES = 1_000_000;

function notAuthorized(client: ZkClient, path: string, what: string): Error {
  const fix = client.acls.open
    ? 'give the credentials it was created with in the zk:// URL (zk://user:password@host:2181/path)'
    : 'give the credentials it was created with in the zk:// URL, or have a ZooKeeper admin change its ACL ' +
      '(zkCli.sh: setAcl -R) or delete the tree';
  return new ZkNotAuthorizedError(`ZooKeeper node ${path}: ${what}; ${fix}`);
}

/** Rethrows NO_AUTH as ZkNotAuthorizedError naming the node. */
async function authorized<T>(client: ZkClient, path: string, what: string, op: () => Promise<T>): Promise<T> {
  try {
    return await op();
  } catch (err) {
    if (isZkError(err, ZkErrorCode.NO_AUTH)) throw notAuthorized(client, path, what);
    throw err;
  }
}

/**
 * Creates `path` (and missing ancestors) with `acl`, tightens it if it is looser (and, with
 * `subtree`, everything under it, children first, so a tight root means a tight tree), and checks
 * that this client may read it. Without credentials: logs a warning that the nodes are open.
 */
export async function ensureProtected(
  client: ZkClient,
  path: string,
  acl: ZkAcl,
  log: Logger,
  options: { subtree?: boolean; children?: (name: string) => boolean; quiet?: boolean } = {},
): Promise<void> {
  await authorized(client, path, 'these credentials may not create it', () => client.mkdirp(path, acl));
  if (client.acls.open) {
    if (!options.quiet)
      log.warn(
        { path },
        'ZooKeeper nodes are open: any ZooKeeper client may read and change them; give credentials (zk://user:password@...)',
      );
  } else {
    // Every start checks the whole tree (one exists() per node): a node left open by a crash between
    // its creation and its ACL must not stay open under a tight parent.
    let count = 0;
    let changed = 0;
    const limit = limiter(PARALLEL);
    const walk = async (node: string, depth: number): Promise<void> => {
      if (++count > MAX_TIGHTEN_NODES) throw new RangeError(`more than ${MAX_TIGHTEN_NODES} nodes under ${path}`);
      const pick = options.subtree ? () => true : depth === 0 ? options.children : undefined;
      if (pick) {
        let names: string[] = [];
        try {
          names = await limit(() =>
            authorized(client, node, 'these credentials may not list it', () => client.getChildren(node)),
          );
        } catch (err) {
          if (!isZkError(err, ZkErrorCode.NO_NODE)) throw err;
        }
        names = names.filter(pick);
        await Promise.all(names.map((n) => walk(joinPath(node, n), depth + 1)));
      }
      if (await limit(() => tighten(client, node, acl))) changed++;
    };
    await walk(path, 0);
    if (changed > 0)
      log.warn({ path, nodes: changed, acl: describeAcl(acl) }, 'set the ACLs of ZooKeeper nodes created open');
  }
  await authorized(client, path, 'these credentials may not read it', () => client.getChildren(path));
}

/**
 * Sets `acl` on one node that never had its ACL set (ACL version 0: created open, which is all the
 * addon can create). Its ACL is not read: the addon crashes on a getACL that fails.
 */
async function tighten(client: ZkClient, path: string, acl: ZkAcl): Promise<boolean> {
  const stat = await client.exists(path);
  if (stat?.aversion !== 0) return false;
  try {
    await authorized(client, path, 'its ACL may not be changed', () => client.setAcl(path, acl, 0));
    return true;
  } catch (err) {
    // Gone, or set meanwhile (by another master tightening the same tree): fine either way.
    if (!isZkError(err, ZkErrorCode.NO_NODE) && !isZkError(err, ZkErrorCode.BAD_VERSION)) throw err;
    return false;
  }
}

/** Runs at most `n` of the given calls at once. */
function limiter(n: number): <T>(fn: () => Promise<T>) => Promise<T> {
  let active = 0;
  const queue: Array<() => void> = [];
  return async (fn) => {
    while (active >= n) await new Promise<void>((resolve) => queue.push(resolve));
    active++;
    try {
      return await fn();
    } finally {
      active--;
      queue.shift()?.();
    }
  };
}
