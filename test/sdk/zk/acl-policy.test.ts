/** The ACL policy and its helpers (pure). */
import { expect } from 'chai';
import { aclPolicy, describeAcl, digestId, OPEN_ACL, sameAcl, WORLD, worldPerms, ZkPerm } from '../../../sdk/zk/acl.js';

const CREDS = { scheme: 'digest', username: 'agora', password: 'correct horse' } as const;

describe('sdk/zk/acl', () => {
  it('without credentials every node is open', () => {
    const p = aclPolicy();
    expect(p.open).to.equal(true);
    expect(worldPerms(p.private)).to.equal(ZkPerm.ALL);
    expect(worldPerms(p.publicRead)).to.equal(ZkPerm.ALL);
  });

  it('with credentials the Store is private and the election readable by all, writable by the owner only', () => {
    const p = aclPolicy(CREDS);
    expect(p.open).to.equal(false);
    expect(worldPerms(p.private)).to.equal(0);
    expect(worldPerms(p.publicRead)).to.equal(ZkPerm.READ);
    for (const acl of [p.private, p.publicRead])
      expect(acl).to.deep.include({ perms: ZkPerm.ALL, scheme: 'digest', id: digestId(CREDS) });
    expect(sameAcl(p.private, OPEN_ACL)).to.equal(false);
  });

  it('the digest id is user:base64(sha1(user:password)), never the password', () => {
    const id = digestId(CREDS);
    expect(id).to.match(/^agora:[A-Za-z0-9+/]{27}=$/);
    expect(id).to.not.include('horse');
    expect(digestId({ ...CREDS, password: 'other' })).to.not.equal(id);
  });

  it('compares ACLs in any order', () => {
    const a = aclPolicy(CREDS).publicRead;
    expect(sameAcl(a, [...a].reverse())).to.equal(true);
    expect(sameAcl(a, a.slice(1))).to.equal(false);
    expect(sameAcl(a, [{ ...a[0], perms: ZkPerm.READ }, a[1]])).to.equal(false);
  });

  it('describes an ACL without the digest hash', () => {
    const text = describeAcl(aclPolicy(CREDS).publicRead);
    expect(text).to.equal(`digest:agora=rwcda,${WORLD.scheme}:${WORLD.id}=r`);
    expect(text).to.not.include(digestId(CREDS).split(':')[1]);
  });
});
