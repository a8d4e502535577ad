/**
 * A probe to preload into a benchmarked process (`node --import …/loop-delay-probe.js`, e.g.
 * `AGORA_BENCH_MASTER_NODE_ARGS="--import $PWD/dist/scripts/bench/loop-delay-probe.js"`): once a
 * second it prints to stderr the event loop's worst delay in that second when it passed 1 s, with
 * the process's pid and RSS. It shows when timers (the ZooKeeper client's pings among them) waited
 * behind other work.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';

const histogram = monitorEventLoopDelay({ resolution: 20 });
histogram.enable();
let last = Date.now();
setInterval(() => {
  const now = Date.now();
  const gap = now - last;
  last = now;
  const maxMs = histogram.max / 1e6;
  if (maxMs > 1000 || gap > 2000) {
    const rss = (process.memoryUsage().rss / 1048576).toFixed(0);
    process.stderr.write(
      `loop-delay pid=${process.pid} ${new Date(now).toISOString()} max=${maxMs.toFixed(0)}ms tick-gap=${gap}ms rss=${rss}MiB\n`,
    );
  }
  histogram.reset();
}, 1000).unref();
