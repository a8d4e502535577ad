/**
 * What an agent refuses in RUN_TASK, creating and recording nothing. Defect 5 (agent side):
 * framework and task ids must never move a sandbox out of `<work_dir>/sandboxes` (`..`/`..` wrote
 * into the agent's parent directory, task `meta` into the checkpoint directory); and health checks
 * that cannot run. Evidence comes from the file system around the work dir.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { pino } from 'pino';
import { Agent } from '../../agent/agent.js';
import type { Containerizer, LaunchSpec, RunningContainer } from '../../agent/containerizer/types.js';
import { InvalidId } from '../../agent/errors.js';
import { idProblem, isInside, sandboxPath } from '../../agent/sandbox.js';
import type { AgentMessage } from '../../sdk/protocol/messages.js';
import type { FrameworkInfo, TaskInfo } from '../../sdk/protocol/types.js';
import { Resources } from '../../sdk/resources/resources.js';
import { VirtualClock } from '../../sdk/util/clock.js';

const refused: [string, string][] = [
  ['', 'empty'],
  ['.', 'dot'],
  ['..', 'dot-dot'],
  ['a/b', 'a slash'],
  ['../x', 'a parent step'],
  ['a\\b', 'a backslash'],
  ['a\u0000b', 'NUL'],
  ['line\nbreak', 'a newline'],
  ['x'.repeat(256), '256 bytes'],
  ['é'.repeat(128), '256 bytes of UTF-8'],
];
const accepted = ['meta', 'sandboxes', '...', '.hidden', 'a b', 'web.1', 'ü', 'x'.repeat(255), '%2e%2e'];

describe('refused RUN_TASKs: unsafe ids (defect 5, agent side) and checks that cannot run', () => {
  for (const [id, what] of refused) {
    it(`refuses an id with ${what}`, () => {
      expect(idProblem(id)).to.be.a('string');
      expect(() => sandboxPath('/w', id, 't'))
        .to.throw(InvalidId)
        .with.property('code', 'AGORA_AGENT_INVALID_ID');
      expect(() => sandboxPath('/w', 'f', id)).to.throw(InvalidId);
    });
  }

  it('accepts ordinary ids, and each lands inside <work_dir>/sandboxes', () => {
    for (const id of accepted) {
      expect(idProblem(id), id).to.equal(undefined);
      const p = sandboxPath('/w', id, id);
      expect(isInside('/w/sandboxes', p), p).to.equal(true);
    }
    expect(sandboxPath('/w', 'fw', 'meta')).to.equal('/w/sandboxes/fw/meta');
  });

  describe('an agent sent RUN_TASK with such fields', () => {
    let parent: string;
    let workDir: string;
    let agent: Agent;
    let sent: AgentMessage[];
    let launched: LaunchSpec[];

    /** Makes the sandbox and writes into it, as the real containerizers do. */
    const writer: Containerizer = {
      name: 'posix',
      available: async () => ({ ok: true }),
      canLaunch: () => true,
      launch: async (spec) => {
        launched.push(spec);
        mkdirSync(spec.sandbox, { recursive: true });
        writeFileSync(join(spec.sandbox, 'stdout'), 'task output\n');
        const never = new Promise<never>(() => undefined);
        return {
          handle: { containerizer: 'posix', id: spec.task.task_id },
          wait: () => never,
          kill: async () => undefined,
        } satisfies RunningContainer;
      },
      recover: async () => ({ gone: true, exit: { exitCode: 0, signal: null, killed: false } }),
      usage: async () => undefined,
    };

    const framework = (id: string): FrameworkInfo & { id: string } => ({ id, name: 'f' }) as never;
    const task = (id: string, extra: Partial<TaskInfo> = {}): TaskInfo => ({
      name: id,
      task_id: id,
      agent_id: 'a1',
      resources: [],
      command: { value: 'true' },
      ...extra,
    });
    const run = (fw: string, t: string, extra: Partial<TaskInfo> = {}) =>
      (agent as unknown as { onMessage(m: unknown): void }).onMessage({
        type: 'RUN_TASK',
        framework: framework(fw),
        task: task(t, extra),
      });
    const statuses = () => sent.flatMap((m) => (m.type === 'STATUS_UPDATE' ? [m.update.status] : []));
    /**
     * Waits until `cond` holds (the agent's handling of RUN_TASK is asynchronous: it resolves the
     * user, checkpoints and launches), instead of a fixed 50 ms that a loaded machine outlasts.
     */
    const until = async (what: string, cond: () => boolean, ms = 10_000) => {
      const deadline = Date.now() + ms;
      while (!cond()) {
        if (Date.now() > deadline)
          throw new Error(`timed out after ${ms} ms waiting for ${what}; statuses: ${JSON.stringify(statuses())}`);
        await new Promise((r) => setTimeout(r, 5));
      }
    };

    beforeEach(() => {
      parent = mkdtempSync(join(tmpdir(), 'agora-sandbox-test-'));
      workDir = join(parent, 'work');
      sent = [];
      launched = [];
      agent = new Agent({
        masterUrl: () => undefined,
        workDir,
        port: 0,
        resources: Resources.empty(),
        attributes: {},
        containerizers: [writer],
        logger: pino({ level: 'silent' }),
        clock: new VirtualClock(1_000_000),
      });
      (agent as unknown as { sendToMaster(m: AgentMessage): boolean }).sendToMaster = (m) => {
        sent.push(m);
        return true;
      };
    });

    afterEach(async () => {
      // Closes the checkpoint journal: left open, Node closed it on GC with a warning.
      await agent.stop();
      rmSync(parent, { recursive: true, force: true });
    });

    it('refuses framework .. with task .. with TASK_ERROR, launches nothing, writes nothing beside the work dir', async () => {
      expect(() => agent.sandboxOf('..', '..')).to.throw(InvalidId);
      run('..', '..');
      await until('the refusal', () => statuses().some((st) => st.task_id === '..'));
      expect(launched).to.deep.equal([]);
      expect(readdirSync(parent), 'the parent of the work dir').to.deep.equal(['work']);
      expect(agent.tasks.size).to.equal(0);
      expect(agent.frameworks.size).to.equal(0);
      const update = sent.find((m) => m.type === 'STATUS_UPDATE');
      expect(update).to.deep.include({ type: 'STATUS_UPDATE' });
      const status = (update as Extract<AgentMessage, { type: 'STATUS_UPDATE' }>).update.status;
      expect(status).to.include({ task_id: '..', state: 'TASK_ERROR', reason: 'REASON_TASK_INVALID' });
      expect(status.message).to.match(/framework id "\.\." .*not allowed/);
    });

    it('keeps a task named meta (framework ..: refused; framework fw: in its sandbox) out of the checkpoint dir', async () => {
      const metaBefore = readdirSync(join(workDir, 'meta')).sort();
      run('..', 'meta');
      run('fw', 'meta');
      await until(
        "the refusal of framework .., and fw's task launched and checkpointed",
        () =>
          statuses().some((st) => st.task_id === 'meta' && st.state === 'TASK_ERROR') &&
          launched.length === 1 &&
          existsSync(join(workDir, 'sandboxes', 'fw', 'meta', 'stdout')) &&
          existsSync(join(workDir, 'meta', 'tasks.journal')), // checkpointed once launched
      );
      expect(launched.map((s) => s.sandbox)).to.deep.equal([join(workDir, 'sandboxes', 'fw', 'meta')]);
      expect(readdirSync(join(workDir, 'meta')).sort(), 'the checkpoint dir holds no task output').to.deep.equal(
        metaBefore.concat(metaBefore.includes('tasks.journal') ? [] : ['tasks.journal']).sort(),
      );
      expect(readdirSync(join(workDir, 'sandboxes', 'fw', 'meta'))).to.deep.equal(['stdout']);
    });

    it('refuses a health check that cannot run (the wire lets it through) with TASK_ERROR, before launching', async () => {
      const bad: [string, NonNullable<TaskInfo['health_check']>][] = [
        ['no command', { type: 'COMMAND' }],
        ['no port', { type: 'TCP', tcp: { port: 0 } }],
        ['an interval past what a timer can arm', { type: 'TCP', tcp: { port: 80 }, interval_seconds: 1e10 }],
        ['a zero interval (checks back to back)', { type: 'TCP', tcp: { port: 80 }, interval_seconds: 0 }],
        ['a fractional failure count', { type: 'TCP', tcp: { port: 80 }, consecutive_failures: 1.5 }],
      ];
      for (const [i, [, check]] of bad.entries()) run('fw', `bad-check-${i}`, { health_check: check });
      await until(`${bad.length} refusals`, () => statuses().length >= bad.length);
      expect(launched).to.deep.equal([]);
      expect(agent.tasks.size).to.equal(0);
      expect(statuses().map((s) => [s.task_id, s.state, s.reason])).to.deep.equal(
        bad.map((_, i) => [`bad-check-${i}`, 'TASK_ERROR', 'REASON_TASK_INVALID']),
      );
      for (const s of statuses()) expect(s.message).to.match(/^invalid health check: /);
    });
  });
});
