/** The protocol decisions the master will call (sdk/auth/protocol.ts): takeovers, mismatches, ACLs. */
import { expect } from 'chai';
import {
  type AclAction,
  aclAllows,
  agentRegisterRefusal,
  launchRefusal,
  type Permits,
  parseAcls,
  reservationRefusal,
  subscribeRefusal,
  teardownRefusal,
} from '../../../sdk/auth/index.js';

const acls = parseAcls(
  JSON.stringify({
    register_frameworks: [
      { principals: { values: ['marathon'] }, roles: { values: ['web'] } },
      { principals: { type: 'NONE' }, roles: { values: ['web'] } },
    ],
    run_tasks: [{ principals: { type: 'NONE' }, users: { values: ['root'] } }],
    teardown_frameworks: [
      { principals: { values: ['ops'] }, framework_principals: { type: 'ANY' } },
      { principals: { type: 'NONE' }, framework_principals: { type: 'ANY' } },
    ],
    reserve_resources: [{ principals: { values: ['marathon'] }, roles: { type: 'NONE' } }],
    unreserve_resources: [
      { principals: { type: 'ANY' }, reserver_principals: { values: ['marathon'] } },
      { principals: { type: 'ANY' }, reserver_principals: { type: 'NONE' } },
    ],
  }),
);
const permits: Permits = (p, a, o) => aclAllows(acls, a as AclAction, p, o);
const codeOf = (e: { code?: string } | undefined) => e?.code;

describe('sdk/auth: protocol decisions', () => {
  describe('SUBSCRIBE', () => {
    const auth = { mustAuthenticate: true };
    it('a new framework of an authenticated principal, in a role it may use: allowed', () => {
      expect(
        subscribeRefusal(
          { ...auth, connection: 'marathon', claimed: 'marathon' },
          undefined,
          undefined,
          ['web'],
          permits,
        ),
      ).to.equal(undefined);
    });
    it('no credentials when frameworks must authenticate: AGORA_AUTH_NOT_AUTHENTICATED', () => {
      expect(
        codeOf(subscribeRefusal({ ...auth, claimed: 'marathon' }, undefined, undefined, ['web'], permits)),
      ).to.equal('AGORA_AUTH_NOT_AUTHENTICATED');
    });
    it('claiming another principal than the connection proved: AGORA_AUTH_PRINCIPAL_MISMATCH', () => {
      expect(
        codeOf(
          subscribeRefusal({ ...auth, connection: 'eve', claimed: 'marathon' }, undefined, undefined, [], permits),
        ),
      ).to.equal('AGORA_AUTH_PRINCIPAL_MISMATCH');
    });
    it('re-subscribing with the id of a framework bound to another principal: AGORA_AUTH_ID_BOUND, naming no principal', () => {
      const e = subscribeRefusal({ ...auth, connection: 'eve' }, 'F1', 'marathon', ['*'], permits);
      expect(codeOf(e)).to.equal('AGORA_AUTH_ID_BOUND');
      expect(e?.message).not.to.contain('marathon');
      expect(subscribeRefusal({ ...auth, connection: 'marathon' }, 'F1', 'marathon', ['*'], permits)).to.equal(
        undefined,
      );
    });
    it('a role register_frameworks refuses: AGORA_AUTH_NOT_AUTHORIZED', () => {
      expect(codeOf(subscribeRefusal({ ...auth, connection: 'eve' }, undefined, undefined, ['web'], permits))).to.equal(
        'AGORA_AUTH_NOT_AUTHORIZED',
      );
      expect(subscribeRefusal({ ...auth, connection: 'eve' }, undefined, undefined, ['batch'], permits)).to.equal(
        undefined,
      );
    });
    it('without authentication the claimed principal is taken (and binds by it)', () => {
      const c = { mustAuthenticate: false, claimed: 'marathon' };
      expect(subscribeRefusal(c, 'F1', 'marathon', ['web'], permits)).to.equal(undefined);
      expect(codeOf(subscribeRefusal({ mustAuthenticate: false }, 'F1', 'marathon', [], permits))).to.equal(
        'AGORA_AUTH_ID_BOUND',
      );
    });
  });

  it('agent registration: an agent id bound to another principal is refused', () => {
    expect(agentRegisterRefusal({ mustAuthenticate: true, connection: 'agent-b' }, 'S1', 'agent-a')?.code).to.equal(
      'AGORA_AUTH_ID_BOUND',
    );
    expect(agentRegisterRefusal({ mustAuthenticate: true, connection: 'agent-a' }, 'S1', 'agent-a')).to.equal(
      undefined,
    );
    expect(agentRegisterRefusal({ mustAuthenticate: true }, undefined, undefined)?.code).to.equal(
      'AGORA_AUTH_NOT_AUTHENTICATED',
    );
  });

  it('run_tasks, teardown_frameworks, reserve and unreserve', () => {
    expect(launchRefusal('marathon', 'root', permits)?.code).to.equal('AGORA_AUTH_NOT_AUTHORIZED');
    expect(launchRefusal('marathon', 'nobody', permits)).to.equal(undefined);
    expect(teardownRefusal('ops', 'marathon', permits)).to.equal(undefined);
    expect(teardownRefusal('eve', 'marathon', permits)?.code).to.equal('AGORA_AUTH_NOT_AUTHORIZED');
    expect(reservationRefusal('marathon', 'reserve', 'web', permits)?.code).to.equal('AGORA_AUTH_NOT_AUTHORIZED');
    expect(reservationRefusal('ops', 'reserve', 'web', permits)).to.equal(undefined);
    expect(reservationRefusal('ops', 'unreserve', 'marathon', permits)).to.equal(undefined);
    expect(reservationRefusal('ops', 'unreserve', 'chronos', permits)?.code).to.equal('AGORA_AUTH_NOT_AUTHORIZED');
  });
});
