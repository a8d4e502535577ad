/**
 * Which user a task runs as (Mesos's rule) and how a user is read from passwd and group text; the
 * setpriv arguments and spawn options that put a process under that user. Pure, except the reader
 * test, which reads files it wrote.
 */
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { isOwnIdentity, runAs, setprivArgs } from '../../agent/containerizer/as-user.js';
import { UnknownUser } from '../../agent/errors.js';
import { resolveUser } from '../../agent/user-db.js';
import { lookupUser, taskUserName, userNameProblem } from '../../agent/users.js';
import { agentCommand, booleanFlag } from '../../cli/daemons.js';
import { parseFlags } from '../../cli/flags.js';

const PASSWD = [
  'root:x:0:0:root:/root:/bin/bash',
  '# a comment: not a user',
  'nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin',
  'alice:x:1001:1001::/home/alice:/bin/sh',
  'broken:x:uid:1002::/:/bin/sh',
  'short:x:1003',
  '+nis',
  'alice:x:2001:2001:a second alice is ignored:/:/bin/sh',
  '',
].join('\n');

const GROUP = [
  'root:x:0:',
  'alice:x:1001:',
  'docker:x:999:bob,alice',
  'audio:x:29:alice',
  'video:x:44:bob',
  'self:x:1001:alice',
  'bad:x:notanumber:alice',
  '',
].join('\n');

describe('task users', () => {
  describe("which user a task runs as (Mesos's --switch_user rule)", () => {
    const on = { switchUser: true, agentIsRoot: true };
    const cases: [string, { user?: string }, { user?: string } | undefined, typeof on, string | undefined][] = [
      ["command.user wins over the framework's", { user: 'fwuser' }, { user: 'cmduser' }, on, 'cmduser'],
      ["the framework's user when the command names none", { user: 'fwuser' }, {}, on, 'fwuser'],
      ["the framework's user when the command has no CommandInfo", { user: 'fwuser' }, undefined, on, 'fwuser'],
      ['an empty command.user counts as unset', { user: 'fwuser' }, { user: '' }, on, 'fwuser'],
      ["neither: the agent's user", {}, {}, on, undefined],
      ["empty framework user: the agent's user", { user: '' }, {}, on, undefined],
      [
        "--switch_user=false: the agent's user",
        { user: 'fwuser' },
        { user: 'cmduser' },
        { ...on, switchUser: false },
        undefined,
      ],
      [
        "agent not root: the agent's user",
        { user: 'fwuser' },
        { user: 'cmduser' },
        { ...on, agentIsRoot: false },
        undefined,
      ],
    ];
    for (const [what, framework, command, opts, expected] of cases) {
      it(what, () => {
        const task = command === undefined ? {} : { command: { value: 'true', ...command } };
        expect(taskUserName(framework, task, opts)).to.equal(expected);
      });
    }
  });

  describe('passwd and group text', () => {
    it('reads uid, gid and the supplementary groups that list the user (primary group left out, sorted)', () => {
      expect(lookupUser(PASSWD, GROUP, 'alice')).to.deep.equal({
        name: 'alice',
        uid: 1001,
        gid: 1001,
        groups: [29, 999],
      });
      expect(lookupUser(PASSWD, GROUP, 'nobody')).to.deep.equal({ name: 'nobody', uid: 65534, gid: 65534, groups: [] });
      expect(lookupUser(PASSWD, GROUP, 'root')).to.deep.equal({ name: 'root', uid: 0, gid: 0, groups: [] });
    });

    it('finds no user for a missing name, a comment, an NIS line, or a malformed entry', () => {
      for (const name of ['bob', '# a comment', '+nis', 'broken', 'short', 'ali', '']) {
        expect(lookupUser(PASSWD, GROUP, name), name).to.equal(undefined);
      }
    });

    it('refuses names that cannot be users (separators, whitespace, control characters, oversize)', () => {
      for (const bad of ['', 'a:b', 'a/b', 'a b', 'a,b', 'a\nb', 'a\u0000b', 'x'.repeat(257), 42]) {
        expect(userNameProblem(bad), String(bad)).to.be.a('string');
      }
      for (const good of ['nobody', 'www-data', '_apt', 'user.name', 'x'.repeat(256)]) {
        expect(userNameProblem(good), good).to.equal(undefined);
      }
    });
  });

  describe('resolveUser (files)', () => {
    let dir: string;
    before(() => {
      dir = mkdtempSync(join(tmpdir(), 'agora-users-'));
      writeFileSync(join(dir, 'passwd'), PASSWD);
      writeFileSync(join(dir, 'group'), GROUP);
    });
    after(() => rmSync(dir, { recursive: true, force: true }));
    const files = () => ({ passwd: join(dir, 'passwd'), group: join(dir, 'group') });

    it('resolves a user from the given files', () => {
      expect(resolveUser('alice', files())).to.deep.equal({ name: 'alice', uid: 1001, gid: 1001, groups: [29, 999] });
    });

    it('throws UnknownUser naming a user the files lack, and one whose name cannot be a user', () => {
      expect(() => resolveUser('mallory', files()))
        .to.throw(UnknownUser, /user 'mallory' does not exist on this agent/)
        .with.property('code', 'AGORA_AGENT_UNKNOWN_USER');
      expect(() => resolveUser('a:0:0', files())).to.throw(UnknownUser, /must not contain/);
    });

    it('keeps only the primary group when there is no group file, and refuses when there is no passwd file', () => {
      expect(resolveUser('alice', { ...files(), group: join(dir, 'none') }).groups).to.deep.equal([]);
      expect(() => resolveUser('alice', { ...files(), passwd: join(dir, 'none') })).to.throw(
        UnknownUser,
        /cannot look up user 'alice'/,
      );
    });

    it("sees a change to either file at the next lookup (cached by the files' versions, not for a time)", () => {
      const f = { passwd: join(dir, 'passwd2'), group: join(dir, 'group2') };
      writeFileSync(f.passwd, PASSWD);
      writeFileSync(f.group, GROUP);
      expect(resolveUser('alice', f).uid).to.equal(1001);
      // Same size, same second: only the content (and the inode's ctime/mtime) differ.
      writeFileSync(f.passwd, PASSWD.replace('alice:x:1001:', 'alice:x:1002:'));
      expect(resolveUser('alice', f).uid).to.equal(1002);
      // Replaced by a new file (a new inode), as useradd does.
      renameSync(f.passwd, `${f.passwd}.old`);
      writeFileSync(f.passwd, PASSWD.replace('alice:x:1001:', 'alice:x:1003:'));
      expect(resolveUser('alice', f).uid).to.equal(1003);
      writeFileSync(f.group, GROUP.replace(/,?alice/g, ''));
      expect(resolveUser('alice', f).groups).to.deep.equal([]);
      rmSync(f.passwd);
      expect(() => resolveUser('alice', f)).to.throw(UnknownUser, /cannot look up user 'alice'/);
    });

    it('hands out a copy: changing a returned user does not change the next answer', () => {
      const a = resolveUser('alice', files());
      a.groups.push(1);
      a.uid = 0;
      expect(resolveUser('alice', files())).to.deep.equal({ name: 'alice', uid: 1001, gid: 1001, groups: [29, 999] });
    });
  });

  describe('whether a user is who the agent already is (no switch needed)', () => {
    const root = { name: 'root', uid: 0, gid: 0, groups: [] };
    it('is when uid, primary gid and supplementary groups all match (the primary group listed or not)', () => {
      expect(isOwnIdentity(root, { uid: 0, gid: 0, groups: [0] })).to.equal(true);
      expect(isOwnIdentity(root, { uid: 0, gid: 0, groups: [] })).to.equal(true);
      expect(isOwnIdentity({ ...root, groups: [29, 999] }, { uid: 0, gid: 0, groups: [999, 0, 29] })).to.equal(true);
    });
    it('is not when any of them differs, or the own ids are unknown', () => {
      expect(isOwnIdentity({ ...root, uid: 1001 }, { uid: 0, gid: 0, groups: [] })).to.equal(false);
      expect(isOwnIdentity({ ...root, gid: 1001 }, { uid: 0, gid: 0, groups: [] })).to.equal(false);
      expect(isOwnIdentity({ ...root, groups: [29] }, { uid: 0, gid: 0, groups: [0] })).to.equal(false);
      expect(isOwnIdentity(root, { uid: 0, gid: 0, groups: [0, 27] })).to.equal(false);
      expect(isOwnIdentity(root, { uid: undefined, gid: undefined, groups: [] })).to.equal(false);
    });
  });

  describe('how the launcher runs a process as the user', () => {
    const nobody = { name: 'nobody', uid: 65534, gid: 65534, groups: [] };
    const alice = { name: 'alice', uid: 1001, gid: 1001, groups: [29, 999] };
    const cmd = { file: '/bin/sh', args: ['-c', 'id'] };

    it("without a user: the command as given, the launcher's user", () => {
      expect(runAs(cmd, undefined, '/usr/bin/setpriv')).to.deep.equal(cmd);
    });

    it("without supplementary groups: the spawn's uid and gid", () => {
      expect(runAs(cmd, nobody, '/usr/bin/setpriv')).to.deep.equal({ ...cmd, as: { uid: 65534, gid: 65534 } });
    });

    it('with supplementary groups: through setpriv, which sets groups, gid and uid, then execs', () => {
      expect(runAs(cmd, alice, '/usr/bin/setpriv')).to.deep.equal({
        file: '/usr/bin/setpriv',
        args: ['--reuid=1001', '--regid=1001', '--groups=29,999', '--', '/bin/sh', '-c', 'id'],
      });
      expect(setprivArgs(nobody)).to.deep.equal(['--reuid=65534', '--regid=65534', '--clear-groups', '--']);
    });

    it("with supplementary groups but no setpriv: the spawn's uid and gid (groups dropped)", () => {
      expect(runAs(cmd, alice, null)).to.deep.equal({ ...cmd, as: { uid: 1001, gid: 1001 } });
    });
  });

  describe('agent flag --switch_user', () => {
    it('defaults to true, takes true and false, and refuses anything else', () => {
      expect(booleanFlag(parseFlags(agentCommand, []), 'switch_user', false)).to.equal(true);
      expect(booleanFlag(parseFlags(agentCommand, ['--switch_user=false']), 'switch_user', true)).to.equal(false);
      expect(booleanFlag(parseFlags(agentCommand, ['--switch_user']), 'switch_user', false)).to.equal(true);
      expect(() => booleanFlag(parseFlags(agentCommand, ['--switch_user=no']), 'switch_user', true)).to.throw(
        /--switch_user must be true or false, got 'no'/,
      );
    });
  });
});
