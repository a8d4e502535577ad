/**
 * Codec benchmark (not a test): encode and decode throughput and frame size for three realistic
 * messages, our msgpack codec (decode includes the value/depth scan, the plain-data check and
 * validateMessage, i.e. the compiled TypeBox schemas) against
 * JSON, with the same validation and without. Median of 5 runs.
 *
 *   node dist/scripts/bench/codec.js            a table
 *   node dist/scripts/bench/codec.js --json     one JSON object per line
 *   --runs N --ms M                             runs per figure (5), milliseconds per run (200)
 *
 * Both formats go bytes ⇄ message: JSON encode is JSON.stringify + UTF-8 encoding, JSON decode is
 * UTF-8 decoding + JSON.parse, since a frame arrives as bytes either way.
 */
import { deepStrictEqual } from 'node:assert';
import { performance } from 'node:perf_hooks';
import { decode, encode } from '../../sdk/codec/index.js';
import type { AnyMessage, Direction, MessageOf } from '../../sdk/protocol/messages.js';
import type { Offer, TaskInfo } from '../../sdk/protocol/types.js';
import { validateMessage } from '../../sdk/protocol/validate.js';

interface Case {
  name: string;
  direction: Direction;
  message: AnyMessage;
}

function offer(i: number): Offer {
  return {
    id: `20240611-101500-16777343-5050-4242-O${1000 + i}`,
    framework_id: '20240611-101500-16777343-5050-4242-0003',
    agent_id: `20240611-101500-16777343-5050-4242-S${i}`,
    hostname: `agent-${i}.dc1.example.org`,
    resources: [
      { name: 'cpus', type: 'SCALAR', scalar: { value: 15.5 } },
      { name: 'mem', type: 'SCALAR', scalar: { value: 63_488 } },
      { name: 'disk', type: 'SCALAR', scalar: { value: 409_600 } },
      {
        name: 'ports',
        type: 'RANGES',
        ranges: {
          range: [
            { begin: 31000, end: 31999 },
            { begin: 33000, end: 33500 },
          ],
        },
      },
      { name: 'cpus', type: 'SCALAR', scalar: { value: 4 }, role: 'analytics' },
    ],
    attributes: { rack: `r${i % 16}`, zone: `zone-${i % 3}`, os: 'debian-12' },
    allocation_role: '*',
  };
}

function task(i: number): TaskInfo {
  return {
    name: `web-frontend.instance-${i}`,
    task_id: `web-frontend.${(0x7f3c9a2e + i).toString(16)}-1b4e-11ef-9a4c-0242ac120002`,
    agent_id: `20240611-101500-16777343-5050-4242-S${i}`,
    resources: [
      { name: 'cpus', type: 'SCALAR', scalar: { value: 0.5 } },
      { name: 'mem', type: 'SCALAR', scalar: { value: 512 } },
      { name: 'disk', type: 'SCALAR', scalar: { value: 1024 } },
      { name: 'ports', type: 'RANGES', ranges: { range: [{ begin: 31000 + i, end: 31000 + i }] } },
    ],
    command: {
      value: './bin/server --port $PORT0',
      environment: {
        variables: [
          { name: 'PORT0', value: String(31000 + i) },
          { name: 'MARATHON_APP_ID', value: '/web-frontend' },
          { name: 'MARATHON_APP_VERSION', value: '2024-06-11T10:15:00.000Z' },
        ],
      },
      uris: [{ value: 'https://artifacts.example.org/web-frontend-1.42.0.tgz', extract: true }],
    },
    container: {
      type: 'DOCKER',
      docker: {
        image: 'registry.example.org/web-frontend:1.42.0',
        network: 'BRIDGE',
        port_mappings: [{ host_port: 31000 + i, container_port: 8080, protocol: 'tcp' }],
      },
    },
    health_check: {
      type: 'HTTP',
      http: { port: 8080, path: '/health' },
      interval_seconds: 10,
      timeout_seconds: 2,
      consecutive_failures: 3,
      grace_period_seconds: 30,
    },
    labels: { labels: [{ key: 'team', value: 'web' }] },
  };
}

const cases: Case[] = [
  {
    name: 'OFFERS (100 offers)',
    direction: 'master_to_scheduler',
    message: { type: 'OFFERS', offers: { offers: Array.from({ length: 100 }, (_, i) => offer(i)) } },
  },
  {
    name: 'ACCEPT (50 LAUNCH tasks)',
    direction: 'scheduler_to_master',
    message: {
      type: 'ACCEPT',
      framework_id: '20240611-101500-16777343-5050-4242-0003',
      accept: {
        offer_ids: Array.from({ length: 50 }, (_, i) => offer(i).id),
        operations: [{ type: 'LAUNCH', launch: { task_infos: Array.from({ length: 50 }, (_, i) => task(i)) } }],
        filters: { refuse_seconds: 5 },
      },
    },
  },
  {
    name: 'STATUS_UPDATE',
    direction: 'agent_to_master',
    message: {
      type: 'STATUS_UPDATE',
      update: {
        framework_id: '20240611-101500-16777343-5050-4242-0003',
        status: {
          task_id: task(7).task_id,
          state: 'TASK_RUNNING',
          message: 'Container started',
          source: 'SOURCE_EXECUTOR',
          agent_id: task(7).agent_id,
          healthy: true,
          timestamp: 1718100923.417,
          uuid: '5e7b0c2e-33c5-4d62-9a56-cf0d8e9b3f11',
        },
      },
    },
  },
];

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}
if (process.argv.includes('--help') || process.argv.includes('-h')) {
  console.log(
    'Usage: npm run bench:codec -- [--json] [--runs N] [--ms M]\nEncode/decode throughput and frame size of three realistic messages.',
  );
  process.exit(0);
}
const asJson = process.argv.includes('--json');
const RUNS = arg('--runs', 5);
const RUN_MS = arg('--ms', 200);

let sink = 0; // keeps results alive so the work is not optimised away

/** Operations per second of `fn`, median of RUNS runs of about RUN_MS each. */
function opsPerSecond(fn: () => unknown): number {
  // Warm up and size a batch to about 1/20 of a run.
  let batch = 1;
  for (;;) {
    const t = performance.now();
    for (let i = 0; i < batch; i++) fn();
    if (performance.now() - t > RUN_MS / 20) break;
    batch *= 2;
  }
  const rates: number[] = [];
  for (let r = 0; r < RUNS; r++) {
    let n = 0;
    const start = performance.now();
    let elapsed = 0;
    while (elapsed < RUN_MS) {
      for (let i = 0; i < batch; i++) {
        const out = fn();
        if (out) sink++;
      }
      n += batch;
      elapsed = performance.now() - start;
    }
    rates.push((n / elapsed) * 1000);
  }
  rates.sort((a, b) => a - b);
  return rates[Math.floor(rates.length / 2)];
}

interface Row {
  message: string;
  format: 'msgpack' | 'json';
  op: 'encode' | 'decode' | 'decode_validated';
  ops_per_sec: number;
  bytes: number;
}

const rows: Row[] = [];
for (const c of cases) {
  const frame = encode(c.message);
  const jsonFrame = Buffer.from(JSON.stringify(c.message));
  // The codec must give back what it was given, or the figures mean nothing.
  deepStrictEqual(decode(c.direction, frame), c.message);
  deepStrictEqual(validateMessage(c.direction, JSON.parse(jsonFrame.toString('utf8'))), c.message);

  const emit = (row: Row) => {
    rows.push(row);
    if (asJson) console.log(JSON.stringify(row));
  };
  const d = c.direction;
  emit({
    message: c.name,
    format: 'msgpack',
    op: 'encode',
    ops_per_sec: opsPerSecond(() => encode(c.message)),
    bytes: frame.length,
  });
  emit({
    message: c.name,
    format: 'msgpack',
    op: 'decode_validated',
    ops_per_sec: opsPerSecond(() => decode(d, frame)),
    bytes: frame.length,
  });
  emit({
    message: c.name,
    format: 'json',
    op: 'encode',
    ops_per_sec: opsPerSecond(() => Buffer.from(JSON.stringify(c.message))),
    bytes: jsonFrame.length,
  });
  emit({
    message: c.name,
    format: 'json',
    op: 'decode_validated',
    ops_per_sec: opsPerSecond((): MessageOf<Direction> => validateMessage(d, JSON.parse(jsonFrame.toString('utf8')))),
    bytes: jsonFrame.length,
  });
  emit({
    message: c.name,
    format: 'json',
    op: 'decode',
    ops_per_sec: opsPerSecond(() => JSON.parse(jsonFrame.toString('utf8'))),
    bytes: jsonFrame.length,
  });
}

if (!asJson) {
  const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
  const get = (message: string, format: Row['format'], op: Row['op']) =>
    rows.find((r) => r.message === message && r.format === format && r.op === op)!;
  const header = [
    'message',
    'bytes msgpack',
    'bytes JSON',
    'encode msgpack/s',
    'encode JSON/s',
    'decode msgpack+valid./s',
    'decode JSON+valid./s',
    'decode JSON (no valid.)/s',
  ];
  const table = cases.map((c) => [
    c.name,
    fmt(get(c.name, 'msgpack', 'encode').bytes),
    fmt(get(c.name, 'json', 'encode').bytes),
    fmt(get(c.name, 'msgpack', 'encode').ops_per_sec),
    fmt(get(c.name, 'json', 'encode').ops_per_sec),
    fmt(get(c.name, 'msgpack', 'decode_validated').ops_per_sec),
    fmt(get(c.name, 'json', 'decode_validated').ops_per_sec),
    fmt(get(c.name, 'json', 'decode').ops_per_sec),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...table.map((r) => r[i].length)));
  const line = (cells: string[]) =>
    `| ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join(' | ')} |`;
  console.log(`codec benchmark: median of ${RUNS} runs of ${RUN_MS} ms, node ${process.version}`);
  console.log(line(header));
  console.log(`|${widths.map((w, i) => (i === 0 ? ':' : '-') + '-'.repeat(w) + (i === 0 ? '-' : ':')).join('|')}|`);
  for (const r of table) console.log(line(r));
}
if (sink < 0) console.log(sink);
