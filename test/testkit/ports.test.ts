/**
 * The ports tests and benchmarks hand to daemons they start later lie outside the kernel's
 * ephemeral range: a port from it (what binding port 0 returns) can be taken by any outgoing
 * connection before the daemon binds it. The choice is tested pure, with injected ranges and
 * random sources; then freePort/freePortRun against this machine's own range.
 */
import { execFile } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { promisify } from 'node:util';
import { expect } from 'chai';
import {
  choosePortRun,
  FETCH_BLOCKED_PORTS,
  LOWEST_PORT,
  parseEphemeralRange,
  readEphemeralRange,
  TASK_PORTS,
  usableRanges,
} from '../../testkit/ports.js';
import { freePort, freePortRun, REPO_ROOT, tempDir } from '../../testkit/processes.js';

const LINUX = { low: 32768, high: 60999 };
const none = new Set<number>();
const inRange = (p: number, r: { low: number; high: number }) => p >= r.low && p <= r.high;

describe('testkit ports: chosen outside the ephemeral range', () => {
  it('parses ip_local_port_range, and refuses what is not a range', () => {
    expect(parseEphemeralRange('32768\t60999\n')).to.deep.equal(LINUX);
    expect(parseEphemeralRange('1024 65535')).to.deep.equal({ low: 1024, high: 65535 });
    expect(parseEphemeralRange('60999 32768')).to.equal(undefined);
    expect(parseEphemeralRange('garbage')).to.equal(undefined);
    expect(parseEphemeralRange('0 70000')).to.equal(undefined);
  });

  it('draws below the range, across the whole of it, never in it nor in the task ports', () => {
    expect(choosePortRun(LINUX, 1, none, () => 0)).to.equal(LOWEST_PORT);
    // The last port below the range (the task ports 31000-32000 lie below it too, and are skipped).
    expect(choosePortRun(LINUX, 1, none, () => 0.999999)).to.equal(LINUX.low - 1);
    for (let i = 0; i < 1000; i++) {
      const p = choosePortRun(LINUX, 1, none, () => i / 1000) as number;
      expect(p).to.be.at.least(LOWEST_PORT).and.below(LINUX.low);
      expect(inRange(p, TASK_PORTS), `${p} is a task port`).to.equal(false);
    }
  });

  it('follows the injected range: a range moved down moves the choice down with it', () => {
    const low = { low: 20000, high: 60999 };
    for (let i = 0; i < 100; i++) {
      const p = choosePortRun(low, 1, none, () => i / 100) as number;
      expect(p).to.be.at.least(LOWEST_PORT).and.below(20000);
    }
  });

  it('a run lies whole outside the range: its last port too', () => {
    const r = { low: 20000, high: 60999 };
    const base = choosePortRun(r, 64, none, () => 0.999999) as number;
    expect(base + 63).to.be.below(20000);
    expect(base + 63).to.equal(19999);
  });

  it('never hands out a port twice: skips the ports handed out, for a run any of its ports', () => {
    expect(choosePortRun(LINUX, 1, new Set([LOWEST_PORT]), () => 0)).to.equal(LOWEST_PORT + 1);
    expect(choosePortRun(LINUX, 3, new Set([LOWEST_PORT + 2]), () => 0)).to.equal(LOWEST_PORT + 3);
    // A side with one port left answers it, whatever the draw.
    const tight = { low: LOWEST_PORT + 3, high: 65535 };
    const handed = new Set([LOWEST_PORT, LOWEST_PORT + 2]);
    for (const x of [0, 0.3, 0.7, 0.99]) expect(choosePortRun(tight, 1, handed, () => x)).to.equal(LOWEST_PORT + 1);
  });

  it("never hands out a port Node's fetch refuses (10080, once drawn for an agent in CI), nor a run over one", async () => {
    // The premise, from Node itself: fetch() refuses the port before connecting.
    const refused = await fetch('http://127.0.0.1:10080/').then(
      () => 'answered',
      (e: Error & { cause?: Error }) => String(e.cause?.message ?? e.message),
    );
    expect(refused).to.match(/bad port/i);
    // Every draw of a single port over the whole side below the range, one per base.
    const total = TASK_PORTS.low - LOWEST_PORT + (LINUX.low - 1 - TASK_PORTS.high);
    for (let i = 0; i < total; i++) {
      const p = choosePortRun(LINUX, 1, none, () => i / total) as number;
      expect(FETCH_BLOCKED_PORTS.has(p), `drew ${p}`).to.equal(false);
    }
    // A draw aimed at 10080 moves on; a run of 3 drawn from 10078 would cover it and moves past it.
    expect(choosePortRun(LINUX, 1, none, () => 80 / total)).to.equal(10081);
    expect(choosePortRun(LINUX, 3, none, () => 78 / (total - 2 * 2))).to.equal(10081);
  });

  it('with nothing below the range, draws above it; with nothing either side, says so', () => {
    const wide = { low: 1024, high: 65000 };
    for (let i = 0; i < 100; i++) {
      const p = choosePortRun(wide, 1, none, () => i / 100) as number;
      expect(p).to.be.above(65000).and.at.most(65535);
    }
    expect(choosePortRun({ low: 1024, high: 65535 }, 1, none, () => 0.5)).to.equal(undefined);
    expect(choosePortRun(LINUX, 30_000, none, () => 0.5)).to.equal(undefined);
  });

  it('usable ranges: everything from LOWEST_PORT up, less the ephemeral range and the task ports', () => {
    expect(usableRanges(LINUX)).to.deep.equal([
      { low: LOWEST_PORT, high: TASK_PORTS.low - 1 },
      { low: TASK_PORTS.high + 1, high: LINUX.low - 1 },
      { low: LINUX.high + 1, high: 65535 },
    ]);
  });

  it("freePort and freePortRun: outside this machine's range, distinct, and free", async () => {
    const eph = readEphemeralRange();
    const seen = new Set<number>();
    for (let i = 0; i < 20; i++) {
      const p = await freePort();
      expect(inRange(p, eph), `${p} in the ephemeral range ${eph.low}-${eph.high}`).to.equal(false);
      expect(seen.has(p), `${p} handed out twice`).to.equal(false);
      seen.add(p);
    }
    const base = await freePortRun(8);
    for (let p = base; p < base + 8; p++) {
      expect(inRange(p, eph)).to.equal(false);
      expect(seen.has(p), `${p} handed out twice`).to.equal(false);
    }
  });

  it('two test processes sharing a claim directory (parallel workers) never hand out the same port', async function () {
    this.timeout(60_000);
    // Each draws 300 ports at random from ~22,000: without the claims two such draws share a port
    // almost always (the birthday bound gives 98%).
    const dir = tempDir('ports-claims');
    const script =
      `const { freePort } = await import(${JSON.stringify(`${REPO_ROOT}/dist/testkit/processes.js`)});` +
      'const out = []; for (let i = 0; i < 300; i++) out.push(await freePort()); console.log(JSON.stringify(out));';
    const run = () =>
      promisify(execFile)(process.execPath, ['--input-type=module', '-e', script], {
        env: { ...process.env, AGORA_TEST_PORTS_DIR: dir },
      });
    const [a, b] = await Promise.all([run(), run()]);
    const pa: number[] = JSON.parse(a.stdout);
    const pb: number[] = JSON.parse(b.stdout);
    expect(pa).to.have.length(300);
    expect(pb).to.have.length(300);
    const shared = pa.filter((p) => pb.includes(p));
    expect(shared, 'ports both processes handed out').to.deep.equal([]);
    // The claims on disk are exactly the ports handed out.
    const claimed = readdirSync(dir).map(Number);
    expect(claimed.sort((x, y) => x - y)).to.deep.equal([...pa, ...pb].sort((x, y) => x - y));
  });
});
