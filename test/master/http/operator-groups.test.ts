/**
 * Task groups in the master's state answers (harness: real master logic, fake agent and
 * scheduler, the HTTP plugins through inject): one DEFAULT executor per group with the group's
 * executor id and resources, its tasks naming it, in /master/state, GET_STATE and GET_EXECUTORS;
 * a task launched alone keeps the command executor model.
 */
import { expect } from 'chai';
import { pino } from 'pino';
import { buildMasterHttp } from '../../../master/http/index.js';
import { MasterHarness } from '../../../master/testing/index.js';
import type { ExecutorInfo, TaskInfo } from '../../../sdk/protocol/types.js';
import { Resources } from '../../../sdk/resources/resources.js';

const silent = pino({ level: 'silent' });

function task(id: string, agentId: string, resources: string): TaskInfo {
  return {
    name: id,
    task_id: id,
    agent_id: agentId,
    resources: Resources.parse(resources).toList(),
    command: { value: 'sleep 100' },
  };
}

const executor: ExecutorInfo = {
  executor_id: 'pod-e',
  type: 'DEFAULT',
  name: 'pod executor',
  resources: Resources.parse('cpus:0.1;mem:32').toList(),
};

// biome-ignore lint/suspicious/noExplicitAny: answers are loosely typed JSON
type AnyJson = Record<string, any>;

describe('task groups in the master state answers (MasterHarness)', () => {
  it('/master/state, GET_STATE, GET_TASKS and GET_EXECUTORS show one DEFAULT executor for the group, its tasks under it', async () => {
    const h = await MasterHarness.start();
    const agent = await h.addAgent({ resources: 'cpus:4;mem:1024' });
    const f = await h.subscribe({ name: 'fw' });
    const [offer] = f.offers();
    const aid = offer.agent_id;
    f.accept(
      [offer.id],
      [
        {
          type: 'LAUNCH_GROUP',
          launch_group: {
            executor,
            task_group: { tasks: [task('web', aid, 'cpus:0.5;mem:64'), task('side', aid, 'cpus:0.25;mem:32')] },
          },
        },
        { type: 'LAUNCH', launch: { task_infos: [task('alone', aid, 'cpus:0.5;mem:32')] } },
      ],
      0,
    );
    await h.settle();
    const fid = f.frameworkId as string;
    for (const t of ['web', 'side', 'alone']) agent.update(fid, { task_id: t, state: 'TASK_RUNNING' });
    await h.settle();
    const app = buildMasterHttp({ logger: silent, current: () => h.master, leader: () => h.master.info });
    await app.ready();
    try {
      const state = (await app.inject({ method: 'GET', url: '/master/state' })).json() as AnyJson;
      const fw = state.frameworks.find((x: AnyJson) => x.id === fid);
      expect(fw.executors).to.have.length(1);
      expect(fw.executors[0]).to.include({ executor_id: 'pod-e', type: 'DEFAULT', framework_id: fid, slave_id: aid });
      expect(fw.executors[0].resources).to.include({ cpus: 0.1, mem: 32 });
      const execOf = Object.fromEntries(fw.tasks.map((t: AnyJson) => [t.id, t.executor_id]));
      expect(execOf).to.deep.equal({ web: 'pod-e', side: 'pod-e', alone: 'alone' });

      const v1 = async (type: string) =>
        (
          await app.inject({
            method: 'POST',
            url: '/api/v1',
            headers: { 'content-type': 'application/json' },
            payload: { type },
          })
        ).json() as AnyJson;
      const ex = (await v1('GET_EXECUTORS')).get_executors.executors;
      expect(ex).to.have.length(1);
      expect(ex[0].agent_id).to.deep.equal({ value: aid });
      expect(ex[0].executor_info).to.deep.include({
        executor_id: { value: 'pod-e' },
        framework_id: { value: fid },
        type: 'DEFAULT',
        name: 'pod executor',
      });
      const cpus = ex[0].executor_info.resources.find((r: AnyJson) => r.name === 'cpus');
      expect(cpus.scalar.value).to.equal(0.1);
      const gs = (await v1('GET_STATE')).get_state;
      expect(gs.get_executors.executors).to.deep.equal(ex);
      const v1Exec = Object.fromEntries(
        gs.get_tasks.tasks.map((t: AnyJson) => [t.task_id.value, t.executor_id?.value]),
      );
      expect(v1Exec).to.deep.equal({ web: 'pod-e', side: 'pod-e', alone: undefined });

      // The group ends: its executor is no longer listed.
      for (const t of ['web', 'side']) agent.update(fid, { task_id: t, state: 'TASK_FINISHED' });
      await h.settle();
      expect((await v1('GET_EXECUTORS')).get_executors.executors).to.deep.equal([]);
      const after = (await app.inject({ method: 'GET', url: '/master/state' })).json() as AnyJson;
      expect(after.frameworks.find((x: AnyJson) => x.id === fid).executors).to.deep.equal([]);
    } finally {
      await app.close();
      h.master.stop();
    }
  });
});
