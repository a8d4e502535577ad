/**
 * Generated HTTP requests for every route of the table: hostile bodies (valid-looking and not),
 * query strings, paths (percent-encodings, dot segments), methods and headers (huge, many).
 * Placeholders (`$WORKDIR`, `$AGENT`) are filled in at send time, so an input replays on a new cluster.
 */
import fc from 'fast-check';
import { SUPPORTED_CALLS } from '../../master/http/operator.js';
import { ROUTES, type Route, routeName } from './routes.js';
import { type Bulk, bulk, jsonish, NASTY_STRINGS, nastyNumber, nastyString, pct, pctUnsafe } from './values.js';

export type Body =
  | { t: 'json'; value: unknown }
  | { t: 'text'; text: string; contentType?: string }
  | { t: 'bulk'; bulk: Bulk };

export interface HttpInput {
  kind: 'http';
  /** Which part of the request was made hostile: the summary counts inputs by it. */
  label: 'http-body' | 'http-query' | 'http-path' | 'http-header' | 'http-method' | 'http-raw';
  surface: 'master' | 'agent' | 'marathon' | 'chronos';
  /** The route the request was built from (its name), for signatures. */
  route: string;
  mutating: boolean;
  method: string;
  /** Request target: path and query, already encoded (may hold raw bytes when `raw`). */
  target: string;
  headers: [string, string][];
  body?: Body;
  /** Send over a bare socket, bypassing the client's own checks. */
  raw?: boolean;
}

const roleName = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom('web', 'analytics', 'a/b', 'batch/x/y', 'dev', '*') },
  { weight: 3, arbitrary: nastyString },
);

const quantity = fc.oneof(
  { weight: 3, arbitrary: fc.double({ min: 0, max: 16, noNaN: true }) },
  { weight: 4, arbitrary: nastyNumber },
);

/** Numbers written as JSON text that JSON.parse turns into Infinity, -0 or a lossy value. */
const numberText = fc.constantFrom('1e999', '-1e999', '-0', '1e308', '1e306', '0.1e-400', '9007199254740993', '1E+400');

const resourceList = fc.array(
  fc.record(
    {
      name: fc.oneof(fc.constantFrom('cpus', 'mem', 'disk', 'gpus', 'ports'), nastyString),
      type: fc.oneof(fc.constantFrom('SCALAR', 'RANGES', 'SET'), nastyString),
      scalar: fc.record({ value: quantity }),
      role: roleName,
    },
    { requiredKeys: ['name', 'type'] },
  ),
  { maxLength: 4 },
);

const scalarMap = fc.dictionary(fc.oneof(fc.constantFrom('cpus', 'mem', 'disk', 'gpus'), nastyString), quantity, {
  maxKeys: 4,
});

const weightsBody = fc.oneof(
  fc.array(fc.record({ role: roleName, weight: quantity }, { requiredKeys: [] }), { maxLength: 4 }),
  jsonish,
);

const quotaBody = fc.oneof(
  fc.record(
    {
      role: roleName,
      guarantees: fc.oneof(scalarMap, fc.constantFrom('cpus:1;mem:10', 'cpus:1e308', 'cpus:-1', 'cpus:1e999')),
      limits: scalarMap,
      guarantee: resourceList,
    },
    { requiredKeys: [] },
  ),
  jsonish,
);

const agentRef = fc.record({ value: fc.oneof(nastyString, fc.constantFrom('$FAKE_AGENT', '$AGENT')) });

/**
 * The operator calls of `POST /api/v1` (docs/mesos-operator-api.md) sent with hostile fields: every
 * read the master supports (from its own list, so a new call is fuzzed without an edit here), the
 * writes whose hostile forms must be refused, and one call Agora does not support.
 */
const OPERATOR_READS: readonly string[] = [
  ...SUPPORTED_CALLS.filter((c) => c.startsWith('GET_')),
  'SUBSCRIBE',
  'TEARDOWN',
  'START_MAINTENANCE',
];

const mesosResources = fc.array(
  fc.record(
    {
      name: fc.oneof(fc.constantFrom('cpus', 'mem', 'disk', 'ports'), nastyString),
      type: fc.oneof(fc.constantFrom('SCALAR', 'RANGES'), nastyString),
      scalar: fc.record({ value: quantity }),
      ranges: fc.record({ range: fc.array(fc.record({ begin: quantity, end: quantity }), { maxLength: 3 }) }),
      role: roleName,
      reservations: fc.array(
        fc.record({ type: fc.oneof(fc.constantFrom('DYNAMIC', 'STATIC'), nastyString), role: roleName }),
        { maxLength: 3 },
      ),
    },
    { requiredKeys: ['name'] },
  ),
  { maxLength: 4 },
);

const quotaConfig = fc.record(
  {
    role: roleName,
    guarantees: fc.dictionary(fc.oneof(fc.constantFrom('cpus', 'mem'), nastyString), fc.record({ value: quantity }), {
      maxKeys: 3,
    }),
    limits: fc.dictionary(fc.oneof(fc.constantFrom('cpus', 'mem'), nastyString), fc.record({ value: quantity }), {
      maxKeys: 3,
    }),
  },
  { requiredKeys: [] },
);

const operatorBody = fc.oneof(
  fc.record(
    {
      type: fc.oneof(fc.constant('MARK_AGENT_GONE'), nastyString),
      mark_agent_gone: fc.record({ agent_id: fc.record({ value: fc.oneof(nastyString, fc.constant('$FAKE_AGENT')) }) }),
    },
    { requiredKeys: [] },
  ),
  fc.tuple(fc.constantFrom(...OPERATOR_READS), fc.option(jsonish)).map(([type, extra]) => ({
    type,
    ...(extra !== null ? { [type.toLowerCase()]: extra } : {}),
  })),
  fc
    .record({ role: roleName, weight: quantity }, { requiredKeys: [] })
    .map((w) => ({ type: 'UPDATE_WEIGHTS', update_weights: { weight_infos: [w] } })),
  fc
    .tuple(fc.array(quotaConfig, { maxLength: 3 }), fc.option(fc.boolean()))
    .map(([configs, force]) => ({ type: 'UPDATE_QUOTA', update_quota: { force, quota_configs: configs } })),
  fc
    .tuple(fc.constantFrom('RESERVE_RESOURCES', 'UNRESERVE_RESOURCES'), agentRef, mesosResources)
    .map(([type, agent, res]) => ({ type, [type.toLowerCase()]: { agent_id: agent, resources: res } })),
  jsonish,
);

/** Marathon app ids: absolute paths, and the ones that must be refused. */
const appId = fc.oneof(
  fc.constantFrom('/fuzz/a', '/fuzz/b', 'fuzz-c', '/fuzz/g/d'),
  fc.constantFrom('/', '//', '/..', '/fuzz/../..', '/UPPER', '/a b', '/a_b', '/-a', '/a.', `/${'x'.repeat(300)}`),
  nastyString,
);

/**
 * A Marathon app that, when accepted, runs only `sleep 2` (the fuzzer never runs generated shell
 * text): hostile ids, numbers, instances, constraints, labels, env, ports, health checks.
 */
const marathonApp = fc
  .record(
    {
      id: appId,
      cpus: quantity,
      mem: quantity,
      instances: fc.oneof(fc.constantFrom(0, 1), nastyNumber),
      constraints: fc.array(
        fc.array(fc.oneof(fc.constantFrom('hostname', 'UNIQUE', 'CLUSTER', 'LIKE'), nastyString), { maxLength: 4 }),
        { maxLength: 3 },
      ),
      labels: fc.dictionary(nastyString, fc.oneof(nastyString, nastyNumber.map(String)), { maxKeys: 3 }),
      env: fc.dictionary(nastyString, fc.oneof(nastyString, fc.record({ secret: nastyString })), { maxKeys: 3 }),
      portDefinitions: fc.array(
        fc.record({ port: fc.oneof(fc.constantFrom(0, 80), nastyNumber), name: nastyString }, { requiredKeys: [] }),
        { maxLength: 3 },
      ),
      healthChecks: fc.array(
        fc.record(
          {
            protocol: fc.oneof(fc.constantFrom('HTTP', 'TCP', 'COMMAND', 'MESOS_HTTP'), nastyString),
            path: nastyString,
            gracePeriodSeconds: nastyNumber,
            intervalSeconds: nastyNumber,
          },
          { requiredKeys: [] },
        ),
        { maxLength: 2 },
      ),
      upgradeStrategy: fc.record(
        { minimumHealthCapacity: nastyNumber, maximumOverCapacity: nastyNumber },
        { requiredKeys: [] },
      ),
      dependencies: fc.array(appId, { maxLength: 3 }),
      role: roleName,
      container: fc.oneof(fc.constant({ type: 'DOCKER', docker: { image: 'agora/busybox:latest' } }), jsonish),
      extra: jsonish,
    },
    { requiredKeys: ['id'] },
  )
  // Only ever `sleep 2`, whatever else the app says.
  .map((app) => ({ ...app, cmd: 'sleep 2' }));

const marathonGroup = fc.letrec((tie) => ({
  group: fc.record(
    {
      id: appId,
      apps: fc.array(marathonApp, { maxLength: 2 }),
      groups: fc.oneof({ depthSize: 'small' }, fc.constant([]), fc.array(tie('group'), { maxLength: 2 })),
      dependencies: fc.array(appId, { maxLength: 2 }),
    },
    { requiredKeys: ['id'] },
  ),
})).group;

const marathonPod = fc
  .record(
    {
      id: appId,
      scaling: fc.record({ kind: fc.constant('fixed'), instances: fc.oneof(fc.constant(1), nastyNumber) }),
      containers: fc.array(
        fc.record({
          name: fc.oneof(fc.constant('c1'), nastyString),
          resources: fc.record({ cpus: quantity, mem: quantity }, { requiredKeys: [] }),
        }),
        { maxLength: 3 },
      ),
      networks: fc.array(jsonish, { maxLength: 2 }),
    },
    { requiredKeys: ['id', 'containers'] },
  )
  // Containers run `sleep 2` only.
  .map((p) => ({ ...p, containers: p.containers.map((c) => ({ ...c, exec: { command: { shell: 'sleep 2' } } })) }));

/** Chronos job names and Metronome job ids, fine and hostile. */
const jobName = fc.oneof(fc.constantFrom('fuzz-job', 'fuzz-2', 'fuzz.child'), nastyString);

/** Chronos schedules: ISO 8601 repeats, and what a parser must survive. */
const schedule = fc.oneof(
  fc.constantFrom(
    'R/2030-01-01T00:00:00Z/PT1H',
    'R1//PT1M',
    'R/2026-11-30T00:00:00Z/P1D',
    'R0/2030-01-01T00:00:00Z/PT1S',
  ),
  fc.constantFrom(
    'R-1//PT1M',
    'R/9999-99-99T00:00:00Z/PT1M',
    'R//PT0S',
    'R/2030-01-01T00:00:00Z/P99999999999Y',
    'R/x/y',
    '*/1 * * * *',
    '',
  ),
  nastyString,
);

/** A Chronos job that, when it runs, runs only `sleep 2`. */
const chronosJob = fc
  .record(
    {
      name: jobName,
      schedule,
      scheduleTimeZone: fc.oneof(fc.constantFrom('UTC', 'Europe/Paris', 'Mars/Olympus'), nastyString),
      parents: fc.array(jobName, { maxLength: 3 }),
      epsilon: fc.oneof(fc.constantFrom('PT30S', 'P1Y'), nastyString),
      cpus: quantity,
      mem: quantity,
      disk: quantity,
      retries: nastyNumber,
      owner: nastyString,
      disabled: fc.boolean(),
      concurrent: fc.boolean(),
      constraints: fc.array(fc.array(nastyString, { maxLength: 3 }), { maxLength: 2 }),
      environmentVariables: fc.array(fc.record({ name: nastyString, value: nastyString }), { maxLength: 2 }),
      extra: jsonish,
    },
    { requiredKeys: ['name'] },
  )
  .map((j) => ({ ...j, command: 'sleep 2', shell: true }));

const cron = fc.oneof(
  fc.constantFrom('*/5 * * * *', '0 0 * * *', '0 0 31 2 *', '* * * * * * *', '60 25 * * *', ''),
  nastyString,
);

const metronomeSchedule = fc.record(
  {
    id: jobName,
    cron,
    timezone: fc.oneof(fc.constantFrom('UTC', 'America/New_York', 'Nowhere/City'), nastyString),
    startingDeadlineSeconds: nastyNumber,
    concurrencyPolicy: fc.oneof(fc.constant('ALLOW'), nastyString),
    enabled: fc.boolean(),
  },
  { requiredKeys: ['id'] },
);

/** A Metronome job whose run is only `sleep 2`. */
const metronomeJob = fc
  .record(
    {
      id: jobName,
      description: nastyString,
      labels: fc.dictionary(nastyString, nastyString, { maxKeys: 3 }),
      run: fc.record(
        {
          cpus: quantity,
          mem: quantity,
          disk: quantity,
          maxLaunchDelay: nastyNumber,
          restart: fc.record(
            {
              policy: fc.oneof(fc.constantFrom('NEVER', 'ON_FAILURE'), nastyString),
              activeDeadlineSeconds: nastyNumber,
            },
            { requiredKeys: [] },
          ),
          env: fc.dictionary(nastyString, nastyString, { maxKeys: 2 }),
          placement: fc.record({ constraints: fc.array(jsonish, { maxLength: 2 }) }),
        },
        { requiredKeys: [] },
      ),
      schedules: fc.array(metronomeSchedule, { maxLength: 2 }),
    },
    { requiredKeys: ['id'] },
  )
  .map((j) => ({ ...j, run: { ...j.run, cmd: 'sleep 2' } }));

function bodyFor(r: Route): fc.Arbitrary<Body> {
  if (r.body === 'chronos-job' || r.body === 'metronome-job' || r.body === 'metronome-schedule') {
    const v: fc.Arbitrary<unknown> =
      r.body === 'chronos-job' ? chronosJob : r.body === 'metronome-job' ? metronomeJob : metronomeSchedule;
    return fc.oneof(
      { weight: 6, arbitrary: v.map((value): Body => ({ t: 'json', value })) },
      { weight: 1, arbitrary: jsonish.map((value): Body => ({ t: 'json', value })) },
      { weight: 1, arbitrary: bulk.map((b): Body => ({ t: 'bulk', bulk: b })) },
      {
        weight: 2,
        arbitrary: fc
          .tuple(
            fc.constantFrom(
              '{',
              '{"name":"fuzz-job","command":"sleep 2","schedule":"R/2030-01-01T00:00:00Z/PT1H","cpus":1e999}',
              '{"name":"fuzz-job","command":"sleep 2","parents":["fuzz-job"]}',
              '{"id":"fuzz-job","run":{"cmd":"sleep 2","cpus":-0,"mem":1e308,"disk":0}}',
              '{"__proto__":{"name":"p"},"name":"fuzz-p","command":"sleep 2","schedule":"R1//PT1M"}',
            ),
            fc.constantFrom('application/json', 'text/plain', 'application/json; charset=utf-16'),
          )
          .map(([text, contentType]): Body => ({ t: 'text', text, contentType })),
      },
    );
  }
  if (r.body === 'marathon-app' || r.body === 'marathon-group' || r.body === 'marathon-pod') {
    const v =
      r.body === 'marathon-app'
        ? r.path === '/v2/apps' && r.method !== 'POST'
          ? fc.array(marathonApp, { maxLength: 3 })
          : marathonApp
        : r.body === 'marathon-group'
          ? marathonGroup
          : marathonPod;
    return fc.oneof(
      { weight: 6, arbitrary: (v as fc.Arbitrary<unknown>).map((value): Body => ({ t: 'json', value })) },
      { weight: 1, arbitrary: jsonish.map((value): Body => ({ t: 'json', value })) },
      { weight: 1, arbitrary: bulk.map((b): Body => ({ t: 'bulk', bulk: b })) },
      {
        weight: 2,
        arbitrary: fc
          .tuple(
            fc.constantFrom(
              '{',
              '[',
              '{"id":',
              '{"id":"/a","cpus":1e999,"cmd":"sleep 2"}',
              '{"id":"/a","instances":-0,"cmd":"sleep 2"}',
              '{"id":"/a","instances":9007199254740993,"cmd":"sleep 2"}',
              '{"__proto__":{"id":"/p"},"id":"/fuzz/p","cmd":"sleep 2"}',
              '{"id":"/fuzz/dup","id":"/other","cmd":"sleep 2"}',
            ),
            fc.constantFrom(
              'application/json',
              'text/plain',
              'application/x-www-form-urlencoded',
              'application/json; charset=utf-16',
            ),
          )
          .map(([text, contentType]): Body => ({ t: 'text', text, contentType })),
      },
    );
  }
  const valid =
    r.body === 'weights'
      ? weightsBody
      : r.body === 'quota'
        ? quotaBody
        : r.body === 'operator'
          ? operatorBody
          : jsonish;
  return fc.oneof(
    { weight: 6, arbitrary: valid.map((value): Body => ({ t: 'json', value })) },
    {
      weight: 2,
      arbitrary: fc.tuple(fc.constantFrom('cpus', 'weight', 'limits'), numberText, roleName).map(
        ([field, num, role]): Body => ({
          t: 'text',
          text:
            r.body === 'weights'
              ? `[{"role":${JSON.stringify(role)},"weight":${num}}]`
              : r.body === 'quota'
                ? `{"role":${JSON.stringify(role)},"guarantees":{"${field === 'weight' ? 'mem' : 'cpus'}":${num}}}`
                : `{"type":"MARK_AGENT_GONE","mark_agent_gone":{"agent_id":{"value":${num}}}}`,
        }),
      ),
    },
    { weight: 2, arbitrary: bulk.map((b): Body => ({ t: 'bulk', bulk: b })) },
    {
      weight: 2,
      arbitrary: fc
        .tuple(
          fc.oneof(
            fc.string({ maxLength: 60 }),
            fc.constantFrom('{', '[', '{"a":', 'null', '""', '{"__proto__":{"x":1}}'),
          ),
          fc.constantFrom(
            'application/json',
            'text/plain',
            'application/x-www-form-urlencoded',
            'application/json; charset=utf-16',
            'multipart/form-data',
          ),
        )
        .map(([text, contentType]): Body => ({ t: 'text', text, contentType })),
    },
  );
}

/** A path segment, encoded in one of several ways. */
const segment = fc.oneof(
  fc.constantFrom(...NASTY_STRINGS.slice(0, 40)).map((s) => pct(s)),
  nastyString.map((s) => pct(s)),
  nastyString.map((s) => pct(pct(s))),
  fc.constantFrom(
    '%',
    '%zz',
    '%E0%A4%A',
    '%C0%AE%C0%AE',
    '%c0%af',
    '%ff',
    '..',
    '.',
    '%2e',
    '%2e%2e',
    '%2F',
    '%00',
    'web',
    'a%2Fb',
  ),
);

const filesPath = fc.oneof(
  fc.constantFrom(
    '/',
    '/etc/passwd',
    '/proc/self/environ',
    '$WORKDIR',
    '$WORKDIR/sandboxes',
    '$WORKDIR/sandboxes/..',
    '$WORKDIR/sandboxes/../meta',
    '$SANDBOX',
    '$SANDBOX/stdout',
    '$SANDBOX/../..',
    '$MASTER_WORKDIR/store',
    'sandboxes',
    '.',
    '..',
    '../../..',
    'x/../../..',
    '/nonexistent/x',
    '/tmp',
    '/root/.ssh',
  ),
  nastyString,
);

const queryValue = fc.oneof(
  nastyString,
  nastyNumber.map(String),
  fc.constantFrom(
    '',
    '-1',
    '0',
    'abc',
    '1e3',
    '0x10',
    '4194305',
    '99999999999999999999',
    '1.5',
    ' 1',
    'NaN',
    'Infinity',
  ),
);

/** `?jsonp=` callback names: plain and dotted identifiers, and names that would inject script if echoed. */
export const jsonpName = fc.oneof(
  fc.constantFrom('cb', 'angular.callbacks._0', '$x', '_', 'a'.repeat(128), 'a'.repeat(129)),
  fc.constantFrom(
    'alert(1)',
    'cb;alert(1)//',
    '</script><script>alert(1)</script>',
    'a.b.',
    '.a',
    'a..b',
    '1abc',
    'cb\u2028',
    'cb\u2028',
    'a-b',
    '',
    'constructor',
    '__proto__',
    'a\nb',
  ),
  nastyString,
);

function queryFor(r: Route): fc.Arbitrary<string> {
  const keys = r.method === 'GET' ? [...(r.query ?? []), 'jsonp'] : (r.query ?? []);
  const pair = fc
    .tuple(
      fc.oneof(...(keys.length > 0 ? [fc.constantFrom(...keys)] : []), nastyString),
      r.query?.includes('path') ? fc.oneof(filesPath, queryValue) : queryValue,
      fc.boolean(),
    )
    .map(([k, v, enc]) => `${pct(k)}=${enc ? pct(v) : pctUnsafe(v)}`);
  return fc.oneof(
    fc.array(pair, { minLength: 1, maxLength: 5 }).map((ps) => `?${ps.join('&')}`),
    ...(r.method === 'GET'
      ? [
          fc
            .tuple(jsonpName, fc.boolean(), fc.boolean())
            .map(([n, enc, twice]) => `?jsonp=${enc ? pct(n) : pctUnsafe(n)}${twice ? '&jsonp=cb' : ''}`),
        ]
      : []),
    fc.constantFrom('?', '?&&&', '?a', '?a[b]=1', '?path', '?path=', '?path=%', '?a=1&a=2&a=3', '?%=%'),
    fc.integer({ min: 1000, max: 2000 }).map((n) => `?path=${'a'.repeat(n * 10)}`),
    fc.integer({ min: 100, max: 3000 }).map((n) => `?${Array.from({ length: n }, (_, i) => `k${i}=${i}`).join('&')}`),
  );
}

/** Ways to disguise a route's path: trailing slash, doubled slashes, dot segments, case, encodings. */
function pathVariant(r: Route): fc.Arbitrary<string> {
  const base = r.path.replace('*', '');
  return fc.oneof(
    fc.constant(`${base}/`),
    fc.constant(`/${base}`),
    fc.constant(base.toUpperCase()),
    fc.constant(`${base}/..`),
    fc.constant(`/x/..${base}`),
    fc.constant(`${base}%2F`),
    fc.constant(base.replace(/\//g, '%2F')),
    fc.constant(base.replace(/[a-z]/, (c) => `%${c.charCodeAt(0).toString(16)}`)),
    segment.map((s) => `${base.replace(/\/$/, '')}/${s}`),
    fc.array(segment, { minLength: 1, maxLength: 4 }).map((ss) => `/${ss.join('/')}`),
    fc.integer({ min: 1, max: 100 }).map((n) => `${base}${'/x'.repeat(n * 50)}`),
  );
}

const hugeHeaders = fc.oneof(
  fc.integer({ min: 1, max: 80 }).map((k): [string, string][] => [['x-fuzz', 'a'.repeat(k * 1000)]]),
  fc
    .integer({ min: 10, max: 3000 })
    .map((n): [string, string][] => Array.from({ length: n }, (_, i) => [`x-h${i}`, 'v'])),
  fc.constantFrom<[string, string][]>(
    [['content-type', 'application/json; charset=utf-16']],
    [['content-type', 'x/'.repeat(2000)]],
    [['accept', '*/*;q=NaN']],
    [['x-forwarded-for', '1.2.3.4']],
    [['host', 'evil.example']],
    [['authorization', 'Basic Og==']],
    [['content-encoding', 'gzip']],
    [['expect', '100-continue']],
    [['transfer-encoding', 'chunked']],
  ),
);

/** Raw request lines the HTTP client would not send: bytes a parser must survive. */
const rawTarget = fc.oneof(
  fc.constantFrom(
    '/health\u0000',
    '/quota/\u0000',
    '/files/read?path=\u0000',
    '/master/state#x',
    '*',
    'http://127.0.0.1/health',
    '//health',
    '/%',
    '/\u00ff\u00fe',
    '/quota/%25',
    '/quota/%2525',
    '/quota/%',
    '/quota/%E0%A4%A',
  ),
  fc.string({ unit: 'binary-ascii', minLength: 1, maxLength: 40 }).map((s) => `/${s}`),
);

function inputFor(r: Route): fc.Arbitrary<HttpInput> {
  const base = { kind: 'http' as const, surface: r.surface, route: routeName(r), mutating: r.mutating };
  const pathOf = (tail: string) => (r.path.endsWith('*') ? r.path.slice(0, -1) + tail : r.path);
  const tail = r.path.endsWith('*')
    ? fc.oneof(segment, fc.constantFrom('web', 'a/b', 'a%2Fb', '%2A', '*'))
    : fc.constant('');
  const otherMethod = fc
    .constantFrom('GET', 'PUT', 'POST', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD', 'TRACE', 'FUZZ')
    .filter((m) => m !== r.method);
  const hasBody = r.method !== 'GET' && r.method !== 'DELETE';
  const variants: fc.Arbitrary<HttpInput>[] = [
    fc.tuple(tail, queryFor(r)).map(([t, q]) => ({
      ...base,
      label: 'http-query' as const,
      method: r.method,
      target: pathOf(t) + q,
      headers: [],
    })),
    fc.tuple(pathVariant(r), fc.option(queryFor(r), { nil: '' })).map(([p, q]) => ({
      ...base,
      label: 'http-path' as const,
      method: r.method,
      target: p + q,
      headers: [],
    })),
    fc.tuple(tail, otherMethod, bodyFor(r)).map(([t, m, b]) => ({
      ...base,
      label: 'http-method' as const,
      mutating: true,
      method: m,
      target: pathOf(t),
      headers: [],
      body: m === 'GET' || m === 'HEAD' ? undefined : b,
    })),
    fc
      .tuple(tail, hugeHeaders, hasBody ? fc.option(bodyFor(r), { nil: undefined }) : fc.constant(undefined))
      .map(([t, h, b]) => ({
        ...base,
        label: 'http-header' as const,
        method: r.method,
        target: pathOf(t),
        headers: h,
        body: b,
      })),
    fc.tuple(rawTarget, fc.constantFrom(r.method, 'GET', 'DELETE')).map(([t, m]) => ({
      ...base,
      label: 'http-raw' as const,
      mutating: true,
      method: m,
      target: t,
      headers: [],
      raw: true,
    })),
  ];
  if (hasBody || r.path.endsWith('*')) {
    variants.unshift(
      fc.tuple(tail, hasBody ? bodyFor(r) : fc.constant(undefined)).map(([t, b]) => ({
        ...base,
        label: 'http-body' as const,
        method: r.method,
        target: pathOf(t),
        headers: [],
        body: b,
      })),
    );
  }
  return fc.oneof(...variants.map((arbitrary, i) => ({ weight: i === 0 && (hasBody || r.query) ? 4 : 1, arbitrary })));
}

/** One generated request for any route of `routes`, mutating routes and routes with inputs weighted up. */
export function httpInputFor(routes: Route[]): fc.Arbitrary<HttpInput> {
  return fc.oneof(...routes.map((r) => ({ weight: r.mutating || r.query ? 4 : 1, arbitrary: inputFor(r) })));
}

export const httpInput: fc.Arbitrary<HttpInput> = httpInputFor(ROUTES);
