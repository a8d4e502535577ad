import { execFileSync, spawnSync } from 'node:child_process';
import { expect } from 'chai';
import { DockerContainerizer } from '../../agent/containerizer/docker.js';
import {
  dumpProcessLogs,
  freePortRun,
  getJson,
  type MasterProc,
  startAgentProc,
  startMasterProc,
  stopAll,
  waitFor,
} from '../support/cluster.js';
import { requireReal } from '../support/require-real.js';
import { type MarathonProc, send, startMarathonProc } from './marathon-support.js';

const IMAGE = 'agora/busybox:latest';

/** StartedAt of each running container whose name starts with `prefix`, from docker itself. */
function startedAt(prefix: string): number[] {
  const ids = execFileSync('docker', ['ps', '-q', '--no-trunc', '--filter', `name=^agora-${prefix}`], {
    encoding: 'utf8',
  })
    .trim()
    .split('\n')
    .filter(Boolean);
  if (ids.length === 0) return [];
  const out = execFileSync('docker', ['inspect', '--format', '{{.State.StartedAt}}', ...ids], { encoding: 'utf8' });
  return out
    .trim()
    .split('\n')
    .map((s) => Date.parse(s));
}

describe('marathon: a group of Docker apps with BRIDGE port mappings and dependencies @integration', function () {
  this.timeout(120_000);
  let master: MasterProc;
  let marathon: MarathonProc;
  let agentId = 'none';

  before(async function () {
    requireReal(this, 'Docker', await new DockerContainerizer().available());
    requireReal(this, `the image ${IMAGE}`, {
      ok: spawnSync('docker', ['image', 'inspect', IMAGE]).status === 0,
      reason: 'run scripts/docker.sh image',
    });
    master = await startMasterProc(['--allocation_interval', '200ms']);
    // Ports no other test run on this host is handed at the same time (a fixed range was shared).
    const ports = await freePortRun(64);
    const agent = await startAgentProc(master.address, [
      '--containerizers',
      'docker,posix',
      '--resources',
      `cpus:4;mem:4096;ports:[${ports}-${ports + 63}]`,
    ]);
    agentId = (await getJson(`${agent.url}/state`)).id;
    marathon = await startMarathonProc(master.address);
  });
  afterEach(function () {
    if (this.currentTest?.state === 'failed') dumpProcessLogs();
  });
  after(async () => {
    await stopAll();
    spawnSync('sh', ['-c', `docker ps -aq --filter label=agora.agent_id=${agentId} | xargs -r docker rm -f`]);
  });

  it('starts the apps in dependency order (db healthy before web starts), each reachable through its mapped host port', async () => {
    const docker = () => ({
      type: 'DOCKER',
      docker: { image: IMAGE },
      portMappings: [{ containerPort: 80, hostPort: 0, protocol: 'tcp', name: 'http' }],
    });
    const app = (id: string, page: string, deps: string[] = []) => ({
      id,
      cmd: `mkdir -p /www && echo ${page} > /www/index.html && exec httpd -f -p 80 -h /www`,
      cpus: 0.1,
      mem: 32,
      instances: 2,
      container: docker(),
      networks: [{ mode: 'container/bridge' }],
      dependencies: deps,
      healthChecks: [
        {
          protocol: 'MESOS_HTTP',
          portIndex: 0,
          path: '/',
          gracePeriodSeconds: 20,
          intervalSeconds: 1,
          timeoutSeconds: 2,
          delaySeconds: 0,
        },
      ],
    });
    const group = {
      id: '/dg',
      groups: [
        { id: 'db', apps: [app('/dg/db/store', 'db')] },
        { id: 'web', dependencies: ['/dg/db'], apps: [app('/dg/web/front', 'web')] },
      ],
    };
    const created = await send(marathon.url, 'POST', '/v2/groups', group);
    expect(created.status, JSON.stringify(created.body)).to.equal(201);
    await waitFor(
      'both apps healthy',
      async () => (await getJson(`${marathon.url}/v2/deployments`)).length === 0,
      90_000,
    );
    for (const [id, page] of [
      ['/dg/db/store', 'db'],
      ['/dg/web/front', 'web'],
    ]) {
      const a = (await getJson(`${marathon.url}/v2/apps${id}`)).app;
      expect(a.tasksHealthy).to.equal(2);
      for (const t of a.tasks)
        expect((await (await fetch(`http://127.0.0.1:${t.ports[0]}/`)).text()).trim()).to.equal(page);
    }
    // Docker's own record: every web container started after every db container.
    const db = startedAt('dg_db_store');
    const web = startedAt('dg_web_front');
    expect(db).to.have.length(2);
    expect(web).to.have.length(2);
    expect(Math.min(...web)).to.be.greaterThan(Math.max(...db));
  });
});
