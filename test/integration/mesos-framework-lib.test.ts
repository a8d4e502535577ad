/**
 * A Mesos framework library written by other people, unmodified, against Agora: the npm package
 * `mesos-framework` (a JavaScript client of Mesos's v1 scheduler HTTP API) subscribes to a real
 * master, launches a command task on a real agent, receives and acknowledges its updates, and
 * tears down. It runs in a child process of its own (it keeps its own timers and loggers), with
 * the configuration its README shows; evidence of the task comes from the file the task writes.
 *
 * The package is looked up from the repository (a devDependency) or from MESOS_FRAMEWORK_DIR (a
 * directory whose node_modules holds it, e.g. `cd /tmp/mesosfw && npm install mesos-framework`).
 */
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { expect } from 'chai';
import {
  dumpProcessLogs,
  getJson,
  REPO_ROOT,
  startAgentProc,
  startMasterProc,
  stopAll,
  tempDir,
  waitFor,
} from '../support/cluster.js';
import { requireReal } from '../support/require-real.js';

/** The directory holding `mesos-framework` (its node_modules parent), or undefined. */
function libraryHome(): string | undefined {
  const candidates = [join(REPO_ROOT, 'package.json')];
  if (process.env.MESOS_FRAMEWORK_DIR) candidates.unshift(join(process.env.MESOS_FRAMEWORK_DIR, 'package.json'));
  for (const c of candidates) {
    try {
      const entry = createRequire(c).resolve('mesos-framework');
      return dirname(dirname(dirname(entry)));
    } catch {
      // not there
    }
  }
  return undefined;
}

/** The framework: the library's commandScheduler example, with this test's master, task and logging. */
function frameworkScript(port: number, evidence: string, logs: string): string {
  return `"use strict";
var Scheduler = require("mesos-framework").Scheduler;
var Mesos = require("mesos-framework").Mesos.getMesos();
function out(o) { process.stdout.write(JSON.stringify(o) + "\\n"); }
var scheduler = new Scheduler({
  masterUrl: "127.0.0.1",
  port: ${port},
  frameworkName: "mesos-framework-lib",
  logging: { path: ${JSON.stringify(logs)}, fileName: "fw.log", level: "debug" },
  restartStates: [],
  tasks: {
    writer: {
      priority: 1,
      instances: 1,
      commandInfo: new Mesos.CommandInfo(null, null, true, "echo ran-by-mesos-framework > ${evidence}/ran", null, null),
      resources: { cpus: 0.1, mem: 32, ports: 1, disk: 0 }
    }
  }
});
scheduler.on("subscribed", function (o) { out({ event: "subscribed", frameworkId: o.frameworkId, streamId: o.mesosStreamId }); });
scheduler.on("update", function (u) { var s = u.status || {}; out({ event: "update", state: s.state, taskId: s.task_id && s.task_id.value, uuid: s.uuid }); });
scheduler.on("sent_acknowledge", function () { out({ event: "sent_acknowledge" }); });
scheduler.on("sent_teardown", function () { out({ event: "sent_teardown" }); });
scheduler.on("error", function (e) { out({ event: "error", message: e && e.message ? e.message : String(e) }); });
process.stdin.on("data", function () { scheduler.teardown(); });
scheduler.on("ready", function () { scheduler.subscribe(); });
`;
}

describe('an unmodified third-party Mesos framework library (npm mesos-framework) @integration', function () {
  this.timeout(90_000);
  afterEach(async function () {
    if (this.currentTest?.state === 'failed') dumpProcessLogs();
    await stopAll();
  });

  it('subscribes, launches a command task on a real agent, acknowledges its updates, tears down', async function () {
    const home = libraryHome();
    requireReal(
      this,
      'the npm package mesos-framework',
      home
        ? { ok: true }
        : { ok: false, reason: 'mesos-framework is not installed (devDependency, or MESOS_FRAMEWORK_DIR)' },
    );
    const master = await startMasterProc(['--allocation_interval', '200ms']);
    await waitFor('the master to lead', async () => (await getJson(`${master.url}/health`)).leading);
    await startAgentProc(master.address, ['--resources', 'cpus:2;mem:1024;disk:1000;ports:[31000-31100]']);
    const dir = tempDir('mesos-framework-lib');
    const script = join(dir, 'framework.cjs');
    writeFileSync(script, frameworkScript(master.port, dir, dir));
    const child = spawn(process.execPath, [script], {
      cwd: dir,
      env: { ...process.env, NODE_PATH: join(home as string, 'node_modules') },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const events: Record<string, string>[] = [];
    let text = '';
    child.stdout.on('data', (c: Buffer) => {
      text += c.toString();
      const lines = text.split('\n');
      text = lines.pop() ?? '';
      for (const l of lines) {
        try {
          events.push(JSON.parse(l));
        } catch {
          // the library's own console lines
        }
      }
    });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => {
      stderr += c.toString();
    });
    try {
      // (The stderr goes into the message when it times out, not when the wait begins, when it is empty.)
      const sub = await waitFor('SUBSCRIBED', async () => events.find((e) => e.event === 'subscribed'), 30_000).catch(
        (e: Error) => {
          throw new Error(
            `${e.message}; events: ${JSON.stringify(events).slice(0, 1500)}; stderr: ${stderr.slice(-500)}`,
          );
        },
      );
      expect(sub.streamId).to.have.length.above(0);
      await waitFor(
        'TASK_FINISHED',
        async () => events.some((e) => e.event === 'update' && e.state === 'TASK_FINISHED'),
        45_000,
      ).catch((e: Error) => {
        throw new Error(
          `${e.message}; events: ${JSON.stringify(events).slice(0, 1500)}; stderr: ${stderr.slice(-500)}`,
        );
      });
      const states = events.filter((e) => e.event === 'update').map((e) => e.state);
      expect(states).to.include.members(['TASK_STARTING', 'TASK_RUNNING', 'TASK_FINISHED']);
      expect(
        events.filter((e) => e.event === 'error'),
        'no error reported by the library',
      ).to.deep.equal([]);
      // The task ran: it wrote its file (evidence from outside Agora).
      expect(readFileSync(join(dir, 'ran'), 'utf8').trim()).to.equal('ran-by-mesos-framework');
      // Every update with a uuid was acknowledged through the API: the agent has nothing left to retry.
      // (The library reports an acknowledgement once its POST is answered: after TASK_FINISHED is seen.)
      await waitFor(
        'three acknowledgements sent',
        async () => events.filter((e) => e.event === 'sent_acknowledge').length >= 3,
        30_000,
      ).catch((e: Error) => {
        throw new Error(`${e.message}; events: ${JSON.stringify(events).slice(0, 1500)}`);
      });
      const state = await getJson(`${master.url}/master/state`);
      const fw = state.frameworks.find((f: { id: string }) => f.id === sub.frameworkId);
      expect(fw?.name).to.equal('mesos-framework-lib');
      // TEARDOWN from the library: the framework is completed.
      child.stdin.write('teardown\n');
      await waitFor('the framework to be torn down', async () => {
        const j = await getJson(`${master.url}/master/state`);
        return j.completed_frameworks.some((f: { id: string }) => f.id === sub.frameworkId);
      });
    } finally {
      child.kill('SIGKILL');
    }
  });
});
