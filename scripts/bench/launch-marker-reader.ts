/**
 * The launch benchmark's marker reader, a tiny process of its own (only `node:fs`): every task, on
 * both sides of the comparison, writes one line `<task id>` into a FIFO as the first thing its
 * command does; this reads the FIFO in a blocking loop and writes `<task id> <CLOCK_MONOTONIC ns>`
 * per line to stdout, stamped the moment the line arrives. It does nothing else, so the stamp is not
 * delayed by the benchmark's own event loop. It opens the FIFO read-write so that it never sees EOF
 * between writers. Runs until killed.
 *
 *   node dist/scripts/bench/launch-marker-reader.js FIFO
 */
import { openSync, readSync, writeSync } from 'node:fs';

const fifo = process.argv[2];
if (!fifo) {
  process.stderr.write('usage: launch-marker-reader.js FIFO\n');
  process.exit(2);
}
const fd = openSync(fifo, 'r+');
const buf = Buffer.alloc(65536);
let rest = '';
writeSync(1, 'ready\n');
for (;;) {
  const n = readSync(fd, buf, 0, buf.length, null);
  const at = process.hrtime.bigint();
  const text = rest + buf.toString('utf8', 0, n);
  const lines = text.split('\n');
  rest = lines.pop() ?? '';
  let out = '';
  for (const l of lines) if (l) out += `${l.trim()} ${at}\n`;
  if (out) writeSync(1, out);
}
