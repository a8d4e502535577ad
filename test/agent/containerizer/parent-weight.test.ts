import { existsSync, promises as fs, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { Cgroups, clampShares, detectLayout, sharesToWeightLinear } from '../../../agent/containerizer/cgroups.js';
import { LinuxContainerizer } from '../../../agent/containerizer/linux.js';
import { decideParentWeight, type ParentWeightFacts } from '../../../agent/containerizer/parent-weight.js';
import { parentCpuSharesFlag } from '../../../cli/daemons.js';
import { startAgentProc, startMasterProc, stopAll, tempDir } from '../../../testkit/processes.js';
import { requireReal } from '../../support/require-real.js';

describe("the linux tasks' parent cgroup weight", () => {
  it('converts shares to cgroup v2 cpu.weight linearly, as the kernel equates them (1024 ↔ 100)', () => {
    expect(sharesToWeightLinear(1024)).to.equal(100);
    expect(sharesToWeightLinear(2048)).to.equal(200);
    expect(sharesToWeightLinear(64 * 1024)).to.equal(6400);
    expect(sharesToWeightLinear(512)).to.equal(50);
    expect(sharesToWeightLinear(2)).to.equal(1);
    expect(sharesToWeightLinear(262_144)).to.equal(10_000);
    expect(clampShares(1)).to.equal(2);
    expect(clampShares(10 ** 9)).to.equal(262_144);
  });

  it('names the parent weight file and value per cgroup version (v2: cpu.weight, linear)', () => {
    const v2 = new Cgroups({ layout: { version: 2, own: { unified: '/cg/svc' } } });
    expect(v2.rootCpuWeight(2048)).to.deep.equal({ file: '/cg/svc/agora/cpu.weight', value: 200, defaultValue: 100 });
    const v1 = new Cgroups({ root: 'r', layout: { version: 1, own: { cpu: '/cg/cpu/svc', memory: '/cg/mem/svc' } } });
    expect(v1.rootCpuWeight(2048)).to.deep.equal({ file: '/cg/cpu/svc/r/cpu.shares', value: 2048, defaultValue: 1024 });
  });

  it('reads --cgroups_parent_cpu_shares: by resources (default), a number, none; refuses the rest', () => {
    expect(parentCpuSharesFlag({}, 2.5, 4)).to.deep.equal({ mode: 'resources', shares: 2560 });
    // Capped at the host's CPUs (an agent offering 64 on 2 cores weighs like 2).
    expect(parentCpuSharesFlag({}, 64, 2)).to.deep.equal({ mode: 'resources', shares: 2048 });
    expect(parentCpuSharesFlag({ cgroups_parent_cpu_shares: 'resources' }, 0)).to.deep.equal({ mode: 'none' });
    expect(parentCpuSharesFlag({ cgroups_parent_cpu_shares: '4096' }, 2)).to.deep.equal({
      mode: 'explicit',
      shares: 4096,
    });
    expect(parentCpuSharesFlag({ cgroups_parent_cpu_shares: 'none' }, 2)).to.deep.equal({ mode: 'none' });
    for (const bad of ['1', '262145', '1.5', 'lots', '-3'])
      expect(() => parentCpuSharesFlag({ cgroups_parent_cpu_shares: bad }, 2)).to.throw(/cgroups_parent_cpu_shares/);
  });

  it("keeps an operator's weight, re-applies its own, takes the default or a new parent", () => {
    const base: ParentWeightFacts = {
      want: { file: '/cg/agora/cpu.shares', value: 4096, defaultValue: 1024 },
      explicit: false,
      preexisted: true,
      current: 1024,
      recorded: undefined,
    };
    expect(decideParentWeight(base).write).to.equal(true); // kernel default
    expect(decideParentWeight({ ...base, current: 700 }).write).to.equal(false); // an operator's
    expect(decideParentWeight({ ...base, current: 700, preexisted: false }).write).to.equal(true);
    expect(decideParentWeight({ ...base, current: 700, explicit: true }).write).to.equal(true);
    const mine = { file: '/cg/agora/cpu.shares', value: 700 };
    expect(decideParentWeight({ ...base, current: 700, recorded: mine }).write).to.equal(true);
    expect(decideParentWeight({ ...base, current: 700, recorded: { ...mine, file: '/elsewhere' } }).write).to.equal(
      false,
    );
    expect(decideParentWeight({ ...base, current: 4096 }).write).to.equal(true);
  });
});

/**
 * The real thing on cgroup v1: agents (real processes) started inside a cgroup of the test's own
 * (so that no other agent on the host shares their `agora` parent), and the parent's cpu.shares
 * read after each start.
 */
describe('the parent cgroup weight of a real agent (cgroup v1) @integration', function () {
  this.timeout(60_000);
  const name = `agora-pw-test-${process.pid}`;
  const dirs: string[] = [];
  let shares = '';
  let master = '';
  let workDir = '';
  let preload = '';

  before(async function () {
    requireReal(
      this,
      'Linux namespaces and cgroups (root, util-linux unshare)',
      await new LinuxContainerizer().available(),
    );
    const layout = detectLayout();
    if (layout.version !== 1) {
      // Not a missing part: this host has cgroup v2, whose file and conversion are unit-tested
      // above; the real-agent check of v2 is not written yet (said in docs/containerizers.md).
      console.warn('\n!! SKIPPING the real-agent parent weight test: it is written for cgroup v1; this host has v2\n');
      this.skip();
    }
    // One cgroup per v1 hierarchy the agent uses (cpu and cpuacct may be mounted apart).
    const roots = new Set<string>();
    for (const c of ['memory', 'cpu', 'cpuacct']) {
      const m = readFileSync('/proc/self/mountinfo', 'utf8')
        .split('\n')
        .map((l) => l.split(' '))
        .find((f) => f[f.indexOf('-') + 1] === 'cgroup' && f[f.indexOf('-') + 3]?.split(',').includes(c));
      if (m) roots.add(m[4]);
    }
    for (const r of roots) {
      const d = path.join(r, name);
      mkdirSync(d, { recursive: true });
      dirs.push(d);
    }
    const cpuRoot = [...roots].find((r) => existsSync(path.join(r, 'cpu.shares')));
    shares = path.join(cpuRoot as string, name, 'agora', 'cpu.shares');
    // Node joins the test cgroups before bin/agora runs, so the agent's own cgroup is the test's.
    const procs = dirs.map((d) => path.join(d, 'cgroup.procs'));
    preload = `data:text/javascript,${encodeURIComponent(
      `import fs from 'node:fs'; for (const f of ${JSON.stringify(procs)}) fs.writeFileSync(f, String(process.pid));`,
    )}`;
    master = (await startMasterProc()).address;
    workDir = tempDir('parent-weight');
  });

  after(async () => {
    await stopAll();
    for (const d of dirs) {
      for (const sub of ['agora/+launcher', 'agora', '']) {
        try {
          rmdirSync(path.join(d, sub));
        } catch {
          // not there, or still busy
        }
      }
    }
  });

  async function agent(resources: string, extra: string[] = []): Promise<string> {
    const a = await startAgentProc(master, ['--containerizers', 'linux', '--resources', resources, ...extra], workDir, {
      nodeArgs: ['--import', preload],
    });
    const value = (await fs.readFile(shares, 'utf8')).trim();
    await a.proc.kill('SIGTERM');
    return value;
  }

  it('is cpus × 1024 from the start, follows the resources on restart, keeps an operator weight, obeys the flag', async () => {
    // (cpus at most the host's: this machine may have 2)
    const host = Math.min(os.availableParallelism(), 5);
    expect(await agent('cpus:1.5;mem:1024')).to.equal('1536');
    // Restart (recovery) with other resources: the weight it set itself follows them.
    expect(await agent('cpus:5;mem:1024')).to.equal(String(host * 1024));
    // An operator's weight is kept...
    writeFileSync(shares, '700');
    expect(await agent('cpus:5;mem:1024')).to.equal('700');
    // ...unless a number is given.
    expect(await agent('cpus:5;mem:1024', ['--cgroups_parent_cpu_shares', '1500'])).to.equal('1500');
    expect(await agent('cpus:5;mem:1024', ['--cgroups_parent_cpu_shares', 'none'])).to.equal('1500');
  });
});
