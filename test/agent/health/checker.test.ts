import { promises as fs } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { HEALTH_CHECK_DEFAULTS, HealthChecker, type HealthCheckResult } from '../../../agent/health/index.js';
import type { HealthCheck } from '../../../sdk/protocol/types.js';
import { ManualClock, VirtualClock } from '../../../sdk/util/clock.js';

function listen(server: net.Server): Promise<number> {
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve((server.address() as net.AddressInfo).port)),
  );
}

async function closedPort(): Promise<number> {
  const s = net.createServer();
  const port = await listen(s);
  await new Promise((r) => s.close(r));
  return port;
}

describe('HealthChecker', () => {
  let httpServer: http.Server;
  let httpPort: number;
  let tcpServer: net.Server;
  let tcpPort: number;
  let sandbox: string;

  before(async () => {
    httpServer = http.createServer((req, res) => {
      const code = { '/ok': 200, '/moved': 302, '/broken': 500 }[req.url ?? ''] ?? 404;
      res.writeHead(code).end();
    });
    httpPort = await listen(httpServer);
    tcpServer = net.createServer((s) => s.end());
    tcpPort = await listen(tcpServer);
    sandbox = await fs.mkdtemp(path.join(os.tmpdir(), 'agora-health-'));
  });

  after(async () => {
    httpServer.closeAllConnections();
    await new Promise((r) => httpServer.close(r));
    await new Promise((r) => tcpServer.close(r));
    await fs.rm(sandbox, { recursive: true, force: true });
  });

  const checker = (check: HealthCheck, extra: Partial<ConstructorParameters<typeof HealthChecker>[0]> = {}) =>
    new HealthChecker({ check: { grace_period_seconds: 0, ...check }, sandbox, ...extra });

  it('has the Mesos defaults', () => {
    expect(HEALTH_CHECK_DEFAULTS).to.deep.equal({
      delay_seconds: 15,
      interval_seconds: 10,
      timeout_seconds: 20,
      consecutive_failures: 3,
      grace_period_seconds: 10,
    });
  });

  describe('HTTP', () => {
    it('is healthy for 2xx and 3xx, unhealthy otherwise', async () => {
      expect((await checker({ type: 'HTTP', http: { port: httpPort, path: '/ok' } }).runOnce()).healthy).to.equal(true);
      expect((await checker({ type: 'HTTP', http: { port: httpPort, path: '/moved' } }).runOnce()).healthy).to.equal(
        true,
      );
      const bad = await checker({ type: 'HTTP', http: { port: httpPort, path: '/broken' } }).runOnce();
      expect(bad.healthy).to.equal(false);
      expect(bad.message).to.match(/returned 500/);
    });

    it('takes the given statuses as healthy instead', async () => {
      const c = checker({ type: 'HTTP', http: { port: httpPort, path: '/broken', statuses: [500] } });
      expect((await c.runOnce()).healthy).to.equal(true);
      const d = checker({ type: 'HTTP', http: { port: httpPort, path: '/ok', statuses: [204] } });
      expect((await d.runOnce()).healthy).to.equal(false);
    });

    it('fails when nothing listens', async () => {
      const r = await checker({ type: 'HTTP', http: { port: await closedPort() } }).runOnce();
      expect(r.healthy).to.equal(false);
      expect(r.message).to.match(/ECONNREFUSED/);
    });
  });

  describe('TCP', () => {
    it('is healthy when the port accepts a connection', async () => {
      expect((await checker({ type: 'TCP', tcp: { port: tcpPort } }).runOnce()).healthy).to.equal(true);
      const r = await checker({ type: 'TCP', tcp: { port: await closedPort() } }).runOnce();
      expect(r.healthy).to.equal(false);
      expect(r.message).to.match(/TCP health check 127\.0\.0\.1:\d+ failed/);
    });
  });

  describe('COMMAND', () => {
    it('runs sh -c in the sandbox with the task env; exit 0 is healthy', async () => {
      await fs.writeFile(path.join(sandbox, 'marker'), '');
      const ok = checker(
        { type: 'COMMAND', command: { value: 'test -f marker && test "$COLOR" = blue' } },
        { env: { COLOR: 'blue' } },
      );
      expect((await ok.runOnce()).healthy).to.equal(true);
      const bad = checker({ type: 'COMMAND', command: { value: 'echo not today; exit 2' } });
      const r = await bad.runOnce();
      expect(r.healthy).to.equal(false);
      expect(r.message).to.equal("command health check 'echo not today; exit 2' exited with status 2: not today");
    });

    it('fails a command that outlives its timeout', async () => {
      const c = checker({ type: 'COMMAND', command: { value: 'sleep 30' }, timeout_seconds: 0.2 });
      const r = await c.runOnce();
      expect(r.healthy).to.equal(false);
      expect(r.message).to.match(/did not finish/);
    });

    it('uses an injected runner (e.g. docker exec for docker tasks)', async () => {
      const seen: string[] = [];
      const c = checker(
        { type: 'COMMAND', command: { value: 'curl -f localhost' } },
        {
          runCommand: async (cmd) => {
            seen.push(cmd.value ?? '');
            return { exitCode: 0 };
          },
        },
      );
      expect((await c.runOnce()).healthy).to.equal(true);
      expect(seen).to.deep.equal(['curl -f localhost']);
    });
  });

  describe('Mesos semantics', () => {
    const file = () => path.join(sandbox, 'up');
    const up = () => fs.writeFile(file(), '');
    const down = () => fs.rm(file(), { force: true });
    const events = (c: HealthChecker) => {
      const seen: string[] = [];
      for (const e of ['healthy', 'unhealthy', 'kill'] as const) c.on(e, () => seen.push(e));
      return seen;
    };

    it('ignores failures in the grace period before the first success, then counts to a kill', async () => {
      const clock = new ManualClock(1_000_000);
      const c = new HealthChecker({
        check: { type: 'COMMAND', command: { value: 'test -f up' }, grace_period_seconds: 10, delay_seconds: 0 },
        sandbox,
        clock,
      });
      const seen = events(c);
      await down();
      c.start();
      clock.advance(5_000);
      const r1 = await c.runOnce();
      expect(r1).to.include({ healthy: false, inGracePeriod: true, consecutiveFailures: 0 });
      expect(seen).to.deep.equal([]);
      expect(c.healthy).to.equal(undefined);

      clock.advance(6_000); // 11 s after start: grace over
      expect((await c.runOnce()).consecutiveFailures).to.equal(1);
      expect(seen).to.deep.equal(['unhealthy']);
      await c.runOnce();
      expect(seen).to.deep.equal(['unhealthy']);
      const third = await c.runOnce();
      expect(third.consecutiveFailures).to.equal(3);
      expect(seen).to.deep.equal(['unhealthy', 'kill']);
      await c.runOnce();
      expect(seen).to.deep.equal(['unhealthy', 'kill']);

      await up();
      expect((await c.runOnce()).healthy).to.equal(true);
      expect(c.consecutiveFailures).to.equal(0);
      expect(seen).to.deep.equal(['unhealthy', 'kill', 'healthy']);
      c.stop();
    });

    it('never asks for a kill when consecutive_failures is 0, but still reports health', async () => {
      const clock = new ManualClock(0);
      const c = new HealthChecker({
        check: {
          type: 'COMMAND',
          command: { value: 'test -f up' },
          grace_period_seconds: 0,
          delay_seconds: 0,
          consecutive_failures: 0,
        },
        sandbox,
        clock,
      });
      const seen = events(c);
      await down();
      c.start();
      for (let i = 0; i < 5; i++) await c.runOnce();
      expect(c.consecutiveFailures).to.equal(5);
      expect(seen).to.deep.equal(['unhealthy']);
      c.stop();
    });

    it('ends the grace period at the first success', async () => {
      const clock = new ManualClock(0);
      const c = new HealthChecker({
        check: {
          type: 'COMMAND',
          command: { value: 'test -f up' },
          grace_period_seconds: 100,
          consecutive_failures: 1,
        },
        sandbox,
        clock,
      });
      const seen = events(c);
      c.start();
      await up();
      await c.runOnce();
      await down();
      clock.advance(1_000);
      const r = await c.runOnce();
      expect(r).to.include({ healthy: false, consecutiveFailures: 1 });
      expect(seen).to.deep.equal(['healthy', 'unhealthy', 'kill']);
      c.stop();
    });

    it('emits only on changes of health', async () => {
      const c = checker({ type: 'TCP', tcp: { port: tcpPort } });
      const seen = events(c);
      const results: HealthCheckResult[] = [];
      c.on('result', (r) => results.push(r));
      await c.runOnce();
      await c.runOnce();
      expect(seen).to.deep.equal(['healthy']);
      expect(results).to.have.length(2);
    });

    it('waits delay_seconds for the first check, then interval_seconds after each', async () => {
      const clock = new VirtualClock(0);
      const c = new HealthChecker({ check: { type: 'TCP', tcp: { port: tcpPort } }, clock });
      const results: number[] = [];
      c.on('result', () => results.push(clock.now()));
      c.start();
      expect(clock.nextDue()).to.equal(15_000);
      clock.advance(14_999);
      expect(results).to.deep.equal([]);
      clock.advance(1);
      await new Promise((r) => c.once('result', r));
      await new Promise((r) => setImmediate(r));
      expect(results).to.deep.equal([15_000]);
      expect(clock.nextDue(), 'the next check interval_seconds after the last finished').to.equal(25_000);
      c.stop();
      expect(clock.pending()).to.equal(0);
    });

    it('runs on real timers with small intervals until stopped', async () => {
      const c = checker({
        type: 'HTTP',
        http: { port: httpPort, path: '/broken' },
        delay_seconds: 0,
        interval_seconds: 0.01,
      });
      const killed = new Promise<HealthCheckResult>((r) => c.once('kill', r));
      c.start();
      const r = await killed;
      c.stop();
      expect(r.consecutiveFailures).to.equal(3);
    });
  });
});
