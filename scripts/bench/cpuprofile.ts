/**
 * Sums a V8 `.cpuprofile` (node --cpu-prof) by function and by file: self time, and optionally
 * inclusive time and who calls a given function. A window on the monotonic clock (the failover
 * benchmark prints its own) keeps only the samples taken inside it.
 *
 *   node dist/scripts/bench/cpuprofile.js <file.cpuprofile> [--from-us T] [--to-us T] [--top N]
 *        [--inclusive] [--callers NAME] [--depth N] [--timeline]
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

const HELP = `Sums a V8 CPU profile (node --cpu-prof) by function and by file.

Options:
  --from-us T     keep samples at or after T (µs, monotonic clock, as the profile's timestamps)
  --to-us T       keep samples at or before T
  --top N         rows per table (default 40)
  --inclusive     also a table of inclusive time (each function with everything it called)
  --callers NAME  the call chains (innermost first) of samples whose function name contains NAME
  --depth N       frames per chain for --callers (default 6)
  --timeline      busy milliseconds per 100 ms of the window
  --help          this text
`;

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

function where(f: CallFrame): string {
  return f.url
    .replace(/^file:\/\//, '')
    .replace(/.*node_modules\//, '')
    .replace(/.*\/dist\//, '');
}

function label(f: CallFrame): string {
  return `${f.functionName || '(anonymous)'} ${where(f)}:${f.lineNumber + 1}`;
}

function add<K>(m: Map<K, number>, k: K, v: number): void {
  m.set(k, (m.get(k) ?? 0) + v);
}

function main(): void {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      'from-us': { type: 'string' },
      'to-us': { type: 'string' },
      top: { type: 'string' },
      inclusive: { type: 'boolean' },
      callers: { type: 'string' },
      depth: { type: 'string' },
      timeline: { type: 'boolean' },
      help: { type: 'boolean' },
    },
  });
  if (values.help || positionals.length !== 1) {
    process.stdout.write(HELP);
    return;
  }
  const p = JSON.parse(readFileSync(positionals[0], 'utf8')) as Profile;
  const from = Number(values['from-us'] ?? Number.NEGATIVE_INFINITY);
  const to = Number(values['to-us'] ?? Number.POSITIVE_INFINITY);
  const top = Number(values.top ?? 40);
  const depth = Number(values.depth ?? 6);
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);

  const self = new Map<string, number>();
  const byFile = new Map<string, number>();
  const inclusive = new Map<string, number>();
  const callers = new Map<string, number>();
  const timeline = new Map<number, number>();
  let busy = 0;
  let idle = 0;
  let t = p.startTime;
  let first = Number.POSITIVE_INFINITY;
  for (let i = 0; i < p.samples.length; i++) {
    t += p.timeDeltas[i];
    // A sample stands for the time until the next one.
    const dt = p.timeDeltas[i + 1] ?? 0;
    if (t < from || t > to) continue;
    first = Math.min(first, t);
    const node = byId.get(p.samples[i]);
    if (!node) continue;
    const f = node.callFrame;
    if (f.functionName === '(idle)') {
      idle += dt;
      continue;
    }
    busy += dt;
    add(self, label(f), dt);
    add(byFile, where(f) || f.functionName, dt);
    add(timeline, Math.floor((t - first) / 100_000), dt);
    if (values.inclusive) {
      const seen = new Set<string>();
      for (let id: number | undefined = node.id; id !== undefined; id = parent.get(id)) {
        const k = label((byId.get(id) as ProfileNode).callFrame);
        if (!seen.has(k)) {
          seen.add(k);
          add(inclusive, k, dt);
        }
      }
    }
    if (values.callers && (f.functionName || '(anonymous)').includes(values.callers)) {
      const chain: string[] = [];
      for (let id = parent.get(node.id); id !== undefined && chain.length < depth; id = parent.get(id)) {
        chain.push(label((byId.get(id) as ProfileNode).callFrame));
      }
      add(callers, chain.join(' < '), dt);
    }
  }
  const ms = (us: number) => (us / 1000).toFixed(0).padStart(7);
  const table = (title: string, m: Map<string, number>) => {
    process.stdout.write(`--- ${title}\n`);
    for (const [k, v] of [...m].sort((a, b) => b[1] - a[1]).slice(0, top)) process.stdout.write(`${ms(v)}  ${k}\n`);
  };
  process.stdout.write(`busy ${ms(busy).trim()} ms, idle ${ms(idle).trim()} ms in the window\n`);
  if (values.timeline) {
    const keys = [...timeline.keys()].sort((a, b) => a - b);
    process.stdout.write(
      `${keys.map((k) => `${(k / 10).toFixed(1)}s:${ms(timeline.get(k) ?? 0).trim()}`).join(' ')}\n`,
    );
  }
  table('self time by file (ms)', byFile);
  table('self time by function (ms)', self);
  if (values.inclusive) table('inclusive time by function (ms)', inclusive);
  if (values.callers) table(`callers of ${values.callers} (ms)`, callers);
}

main();
