/**
 * Making Agora's ZooKeeper nodes exist with the right ACL, and tightening the ones an earlier run
 * without credentials left open. Used by the election (its path, `acls.publicRead`) and the Store
 * (its root and everything under it, `acls.private`).
 *
 * A node is tightened only when it grants `world:anyone` more than wanted (created open); a node
 * with another custom ACL is left as the operator set it. Where the credentials may not read or
 * change a node, `ZkNotAuthorizedError` (AGORA_ZK_NOT_AUTHORIZED) says what to do.
 */
import type { Logger } from 'pino';
import { describeAcl, looserThan, type ZkAcl, ZkNotAuthorizedError } from './acl.js';
import { isZkError, joinPath, type ZkClient, ZkErrorCode } from './client.js';

/** At most this many nodes are tightened at once. */
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
  options: { subtree?: boolean; children?: (name: string) => boolean } = {},
): Promise<void> {
  await authorized(client, path, 'these credentials may not create it', () => client.mkdirp(path, acl));
  if (client.acls.open) {
    log.warn(
      { path },
      'ZooKeeper nodes are open: any ZooKeeper client may read and change them; give credentials (zk://user:password@...)',
    );
  } else {
    const { acl: current } = await authorized(client, path, 'these credentials may not read its ACL', () =>
      client.getAcl(path),
    );
    if (looserThan(current, acl)) {
      let count = 0;
      const walk = async (node: string, depth: number): Promise<void> => {
        if (++count > MAX_TIGHTEN_NODES) throw new RangeError(`more than ${MAX_TIGHTEN_NODES} nodes under ${path}`);
        const pick = options.subtree ? () => true : depth === 0 ? options.children : undefined;
        if (pick) {
          let names: string[] = [];
          try {
            names = await authorized(client, node, 'these credentials may not list it', () => client.getChildren(node));
          } catch (err) {
            if (!isZkError(err, ZkErrorCode.NO_NODE)) throw err;
          }
          names = names.filter(pick);
          for (let i = 0; i < names.length; i += PARALLEL)
            await Promise.all(names.slice(i, i + PARALLEL).map((n) => walk(joinPath(node, n), depth + 1)));
        }
        await tighten(client, node, acl, log);
      };
      await walk(path, 0);
      log.warn({ path, nodes: count, acl: describeAcl(acl) }, 'tightened the ACLs of ZooKeeper nodes created open');
    }
  }
  await authorized(client, path, 'these credentials may not read it', () => client.getChildren(path));
}

/** Sets `acl` on one node if it is looser than `acl` (checked against its ACL version). */
async function tighten(client: ZkClient, path: string, acl: ZkAcl, log: Logger): Promise<void> {
  for (let attempt = 0; attempt < 5; attempt++) {
    let current: { acl: ZkAcl; stat: { aversion: number } };
    try {
      current = await authorized(client, path, 'these credentials may not read its ACL', () => client.getAcl(path));
    } catch (err) {
      if (isZkError(err, ZkErrorCode.NO_NODE)) return;
      throw err;
    }
    if (!looserThan(current.acl, acl)) return;
    try {
      await authorized(client, path, `its ACL (${describeAcl(current.acl)}) may not be changed`, () =>
        client.setAcl(path, acl, current.stat.aversion),
      );
      log.debug({ path }, 'tightened a ZooKeeper node');
      return;
    } catch (err) {
      if (isZkError(err, ZkErrorCode.NO_NODE)) return;
      if (!isZkError(err, ZkErrorCode.BAD_VERSION)) throw err;
    }
  }
  throw notAuthorized(client, path, 'its ACL keeps changing under us');
}
