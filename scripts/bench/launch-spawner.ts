/**
 * The launch benchmark's raw spawner, a tiny process of its own (only `node:child_process`): the raw
 * baseline must not be slowed by the heavy benchmark process (forking a large process copies its
 * page tables). It reads one JSON array of shell commands per stdin line, stamps CLOCK_MONOTONIC,
 * starts each as `spawn('/bin/sh', ['-c', cmd], {detached: true})` and answers one JSON line
 * `{"t0": <ns>, "pids": [...]}` once every 'spawn' event has come (or `{"error": ...}`). The tasks'
 * own markers (see launch-marker-reader.ts) end the measured window, not this answer.
 *
 *   node dist/scripts/bench/launch-spawner.js     (driven by scripts/bench/launch-raw.ts)
 */
import { spawn } from 'node:child_process';

let buffered = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (d: string) => {
  buffered += d;
  let i = buffered.indexOf('\n');
  while (i >= 0) {
    const line = buffered.slice(0, i);
    buffered = buffered.slice(i + 1);
    if (line) run(JSON.parse(line) as string[]);
    i = buffered.indexOf('\n');
  }
});
process.stdin.on('end', () => process.exit(0));

function run(cmds: string[]): void {
  const t0 = process.hrtime.bigint();
  const pids: number[] = [];
  let pending = cmds.length;
  let failed = false;
  for (const cmd of cmds) {
    const c = spawn('/bin/sh', ['-c', cmd], { detached: true, stdio: 'ignore' });
    c.unref();
    c.once('error', (e) => {
      if (failed) return;
      failed = true;
      process.stdout.write(`${JSON.stringify({ error: e.message })}\n`);
    });
    c.once('spawn', () => {
      pids.push(c.pid ?? 0);
      if (--pending === 0 && !failed) process.stdout.write(`${JSON.stringify({ t0: String(t0), pids })}\n`);
    });
  }
}
