/**
 * ZooKeeper ACLs for the nodes Agora creates.
 *
 * Without credentials every node is open (`world:anyone` may do anything), as before. With digest
 * credentials (`zk://user:password@...`) there are two ACLs, both granting everything to the digest
 * identity of those credentials:
 *
 * - `publicRead`: plus READ for `world:anyone`. For the election path and its `json.info_*` nodes, so
 *   that any client can find the leader (as Mesos does), but nobody else can write there.
 * - `private`: nothing for anybody else. For the Store (`<path>/state/**`: the registrar, secrets).
 *
 * The identity is written out (`digest:user:base64(sha1(user:password))`, what the server derives
 * from `addAuth('digest', 'user:password')`) rather than as the `auth` scheme, so that an existing
 * node's ACL can be compared with the wanted one.
 */
import { createHash } from 'node:crypto';
import { defineError } from '../errors.js';
import type { ZkCredentials } from './url.js';

export const ZkPerm = { READ: 1, WRITE: 2, CREATE: 4, DELETE: 8, ADMIN: 16, ALL: 31 } as const;

export interface ZkAclEntry {
  /** A bit set of `ZkPerm`. */
  perms: number;
  scheme: string;
  id: string;
}
export type ZkAcl = readonly ZkAclEntry[];

export const WORLD = { scheme: 'world', id: 'anyone' } as const;
export const OPEN_ACL: ZkAcl = [{ perms: ZkPerm.ALL, ...WORLD }];

export interface ZkAclPolicy {
  /** True when no credentials were given: every node is open to every client. */
  readonly open: boolean;
  /** For the election path and its nodes: others may read. */
  readonly publicRead: ZkAcl;
  /** For the Store: others may do nothing. */
  readonly private: ZkAcl;
}

/** Raised when Agora's nodes are protected against the credentials it was given (or it has none). */
export const ZkNotAuthorizedError = defineError('AGORA_ZK_NOT_AUTHORIZED', 500, 'ZkNotAuthorizedError');

/** The digest scheme's id for `user:password`: `user:base64(sha1('user:password'))`. */
export function digestId(credentials: ZkCredentials): string {
  const hash = createHash('sha1').update(`${credentials.username}:${credentials.password}`, 'utf8').digest('base64');
  return `${credentials.username}:${hash}`;
}

export function aclPolicy(credentials?: ZkCredentials): ZkAclPolicy {
  if (!credentials) return { open: true, publicRead: OPEN_ACL, private: OPEN_ACL };
  const owner: ZkAclEntry = { perms: ZkPerm.ALL, scheme: 'digest', id: digestId(credentials) };
  return { open: false, publicRead: [owner, { perms: ZkPerm.READ, ...WORLD }], private: [owner] };
}

/** The permissions an ACL grants to `world:anyone` (0 if none). */
export function worldPerms(acl: ZkAcl): number {
  let perms = 0;
  for (const e of acl) if (e.scheme === WORLD.scheme && e.id === WORLD.id) perms |= e.perms;
  return perms;
}

/** Same entries, in any order. */
export function sameAcl(a: ZkAcl, b: ZkAcl): boolean {
  const key = (e: ZkAclEntry) => `${e.perms}|${e.scheme}|${e.id}`;
  const left = a.map(key).sort();
  const right = b.map(key).sort();
  return left.length === right.length && left.every((k, i) => k === right[i]);
}

/** An ACL for logs and error messages: schemes, user names and permissions, never a digest hash. */
export function describeAcl(acl: ZkAcl): string {
  const letters = (p: number) =>
    (['r', 'w', 'c', 'd', 'a'] as const).filter((_, i) => (p & (1 << i)) !== 0).join('') || '-';
  return acl
    .map((e) => `${e.scheme}:${e.scheme === 'digest' ? e.id.split(':')[0] : e.id}=${letters(e.perms)}`)
    .join(',');
}
