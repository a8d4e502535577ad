/**
 * The HTTP routes under fuzz, one table per surface. Keep it in step with master/http/ and
 * agent/http/ (the fuzzer checks at start that each listed route answers something other than
 * 404, and reports the ones that do not, so a moved route shows up instead of going untested).
 * `mutating` routes may change state when they accept; refused input must change nothing.
 */
export interface Route {
  surface: 'master' | 'agent' | 'marathon' | 'chronos';
  method: 'GET' | 'PUT' | 'POST' | 'PATCH' | 'DELETE';
  /** `*` stands for a generated tail (a role name for `/quota/*`). */
  path: string;
  mutating: boolean;
  /** What the body should look like when valid-looking bodies are generated. */
  body?:
    | 'weights'
    | 'quota'
    | 'operator'
    | 'marathon-app'
    | 'marathon-group'
    | 'marathon-pod'
    | 'chronos-job'
    | 'metronome-job'
    | 'metronome-schedule';
  /** Query parameters the route reads. */
  query?: string[];
}

export const MASTER_ROUTES: Route[] = [
  { surface: 'master', method: 'GET', path: '/health', mutating: false },
  { surface: 'master', method: 'GET', path: '/master/redirect', mutating: false },
  { surface: 'master', method: 'GET', path: '/master/state', mutating: false },
  { surface: 'master', method: 'GET', path: '/state', mutating: false },
  { surface: 'master', method: 'GET', path: '/master/state.json', mutating: false },
  { surface: 'master', method: 'GET', path: '/metrics/snapshot', mutating: false },
  { surface: 'master', method: 'GET', path: '/master/metrics/snapshot', mutating: false },
  { surface: 'master', method: 'GET', path: '/roles', mutating: false },
  { surface: 'master', method: 'GET', path: '/weights', mutating: false },
  { surface: 'master', method: 'PUT', path: '/weights', mutating: true, body: 'weights' },
  { surface: 'master', method: 'GET', path: '/quota', mutating: false },
  { surface: 'master', method: 'POST', path: '/quota', mutating: true, body: 'quota' },
  { surface: 'master', method: 'DELETE', path: '/quota/*', mutating: true },
  { surface: 'master', method: 'POST', path: '/api/v1', mutating: true, body: 'operator' },
  // Classic endpoints of Mesos's operator surface (docs/mesos-operator-api.md).
  { surface: 'master', method: 'GET', path: '/master/flags', mutating: false },
  { surface: 'master', method: 'GET', path: '/version', mutating: false },
  { surface: 'master', method: 'GET', path: '/master/frameworks', mutating: false, query: ['framework_id'] },
  { surface: 'master', method: 'GET', path: '/master/slaves', mutating: false, query: ['slave_id'] },
  { surface: 'master', method: 'GET', path: '/master/maintenance/status', mutating: false },
];

export const AGENT_ROUTES: Route[] = [
  { surface: 'agent', method: 'GET', path: '/health', mutating: false },
  { surface: 'agent', method: 'GET', path: '/state', mutating: false },
  { surface: 'agent', method: 'GET', path: '/slave(1)/state', mutating: false },
  { surface: 'agent', method: 'GET', path: '/files/browse', mutating: false, query: ['path'] },
  { surface: 'agent', method: 'GET', path: '/files/read', mutating: false, query: ['path', 'offset', 'length'] },
  { surface: 'agent', method: 'GET', path: '/monitor/statistics', mutating: false },
  { surface: 'agent', method: 'GET', path: '/flags', mutating: false },
];

export const ROUTES: Route[] = [...MASTER_ROUTES, ...AGENT_ROUTES];

/** Marathon's REST API (frameworks/marathon/http/, docs/marathon.md), on a `bin/agora marathon` of the lane. */
export const MARATHON_ROUTES: Route[] = [
  { surface: 'marathon', method: 'GET', path: '/v2/apps', mutating: false, query: ['cmd', 'id', 'label', 'embed'] },
  { surface: 'marathon', method: 'POST', path: '/v2/apps', mutating: true, body: 'marathon-app', query: ['force'] },
  { surface: 'marathon', method: 'PUT', path: '/v2/apps', mutating: true, body: 'marathon-app', query: ['force'] },
  { surface: 'marathon', method: 'PATCH', path: '/v2/apps', mutating: true, body: 'marathon-app', query: ['force'] },
  { surface: 'marathon', method: 'GET', path: '/v2/apps/*', mutating: false, query: ['embed'] },
  { surface: 'marathon', method: 'PUT', path: '/v2/apps/*', mutating: true, body: 'marathon-app', query: ['force'] },
  { surface: 'marathon', method: 'DELETE', path: '/v2/apps/*', mutating: true, query: ['force'] },
  { surface: 'marathon', method: 'GET', path: '/v2/groups', mutating: false, query: ['embed'] },
  { surface: 'marathon', method: 'POST', path: '/v2/groups', mutating: true, body: 'marathon-group', query: ['force'] },
  {
    surface: 'marathon',
    method: 'PUT',
    path: '/v2/groups',
    mutating: true,
    body: 'marathon-group',
    query: ['force', 'dryRun'],
  },
  { surface: 'marathon', method: 'GET', path: '/v2/groups/*', mutating: false },
  { surface: 'marathon', method: 'DELETE', path: '/v2/groups/*', mutating: true, query: ['force'] },
  { surface: 'marathon', method: 'GET', path: '/v2/pods', mutating: false },
  { surface: 'marathon', method: 'POST', path: '/v2/pods', mutating: true, body: 'marathon-pod', query: ['force'] },
  { surface: 'marathon', method: 'GET', path: '/v2/pods/*', mutating: false },
  { surface: 'marathon', method: 'DELETE', path: '/v2/pods/*', mutating: true, query: ['force'] },
  { surface: 'marathon', method: 'GET', path: '/v2/deployments', mutating: false },
  { surface: 'marathon', method: 'DELETE', path: '/v2/deployments/*', mutating: true, query: ['force'] },
  { surface: 'marathon', method: 'GET', path: '/v2/tasks', mutating: false, query: ['status'] },
  { surface: 'marathon', method: 'GET', path: '/v2/queue', mutating: false, query: ['embed'] },
  { surface: 'marathon', method: 'GET', path: '/v2/events', mutating: false, query: ['event_type', 'plan-format'] },
  { surface: 'marathon', method: 'GET', path: '/v2/info', mutating: false },
  { surface: 'marathon', method: 'PATCH', path: '/v2/apps/*', mutating: true, body: 'marathon-app', query: ['force'] },
  { surface: 'marathon', method: 'POST', path: '/v2/apps/*', mutating: true, query: ['force'] },
  {
    surface: 'marathon',
    method: 'POST',
    path: '/v2/groups/*',
    mutating: true,
    body: 'marathon-group',
    query: ['force'],
  },
  {
    surface: 'marathon',
    method: 'PUT',
    path: '/v2/groups/*',
    mutating: true,
    body: 'marathon-group',
    query: ['force'],
  },
  { surface: 'marathon', method: 'PATCH', path: '/v2/groups/*', mutating: true, body: 'marathon-group' },
  { surface: 'marathon', method: 'DELETE', path: '/v2/groups', mutating: true, query: ['force'] },
  { surface: 'marathon', method: 'PUT', path: '/v2/pods/*', mutating: true, body: 'marathon-pod', query: ['force'] },
  {
    surface: 'marathon',
    method: 'POST',
    path: '/v2/tasks/delete',
    mutating: true,
    body: 'marathon-app',
    query: ['scale', 'force'],
  },
  { surface: 'marathon', method: 'DELETE', path: '/v2/queue/*', mutating: true },
  { surface: 'marathon', method: 'GET', path: '/metrics', mutating: false },
  // Not /v2/leader: DELETE there is a legitimate abdication, which would end the lane's Marathon leadership.
  { surface: 'marathon', method: 'GET', path: '/ping', mutating: false },
];

/**
 * Chronos 3 (`/v1/scheduler/*`, and the older `/scheduler/*`) and Metronome (`/v1/jobs*`) on a
 * `bin/agora chronos` of the lane (frameworks/chronos/http/). Path parameters in the middle of a
 * path name the job `fuzz-job`; a trailing `*` is generated.
 */
export const CHRONOS_ROUTES: Route[] = [
  { surface: 'chronos', method: 'POST', path: '/v1/scheduler/iso8601', mutating: true, body: 'chronos-job' },
  { surface: 'chronos', method: 'POST', path: '/v1/scheduler/dependency', mutating: true, body: 'chronos-job' },
  { surface: 'chronos', method: 'POST', path: '/scheduler/iso8601', mutating: true, body: 'chronos-job' },
  { surface: 'chronos', method: 'GET', path: '/v1/scheduler/jobs', mutating: false },
  {
    surface: 'chronos',
    method: 'GET',
    path: '/v1/scheduler/jobs/search',
    mutating: false,
    query: ['name', 'command', 'any', 'limit', 'offset'],
  },
  { surface: 'chronos', method: 'GET', path: '/v1/scheduler/jobs/summary', mutating: false },
  { surface: 'chronos', method: 'GET', path: '/v1/scheduler/job/*', mutating: false },
  { surface: 'chronos', method: 'PUT', path: '/v1/scheduler/job/*', mutating: true },
  { surface: 'chronos', method: 'DELETE', path: '/v1/scheduler/job/*', mutating: true },
  { surface: 'chronos', method: 'PUT', path: '/v1/scheduler/job/success/*', mutating: true },
  { surface: 'chronos', method: 'DELETE', path: '/v1/scheduler/task/kill/*', mutating: true },
  { surface: 'chronos', method: 'GET', path: '/v1/scheduler/job/stat/*', mutating: false },
  { surface: 'chronos', method: 'GET', path: '/v1/scheduler/stats/*', mutating: false },
  { surface: 'chronos', method: 'GET', path: '/v1/scheduler/graph/dot', mutating: false },
  { surface: 'chronos', method: 'GET', path: '/v1/scheduler/graph/csv', mutating: false },
  { surface: 'chronos', method: 'GET', path: '/v1/scheduler/leader', mutating: false },
  { surface: 'chronos', method: 'GET', path: '/v1/jobs', mutating: false, query: ['embed'] },
  { surface: 'chronos', method: 'POST', path: '/v1/jobs', mutating: true, body: 'metronome-job' },
  { surface: 'chronos', method: 'GET', path: '/v1/jobs/*', mutating: false, query: ['embed'] },
  { surface: 'chronos', method: 'PUT', path: '/v1/jobs/*', mutating: true, body: 'metronome-job' },
  { surface: 'chronos', method: 'DELETE', path: '/v1/jobs/*', mutating: true, query: ['stopCurrentJobRuns'] },
  { surface: 'chronos', method: 'GET', path: '/v1/jobs/fuzz-job/runs', mutating: false },
  { surface: 'chronos', method: 'POST', path: '/v1/jobs/fuzz-job/runs', mutating: true },
  { surface: 'chronos', method: 'GET', path: '/v1/jobs/fuzz-job/runs/*', mutating: false },
  { surface: 'chronos', method: 'GET', path: '/v1/jobs/fuzz-job/schedules', mutating: false },
  {
    surface: 'chronos',
    method: 'POST',
    path: '/v1/jobs/fuzz-job/schedules',
    mutating: true,
    body: 'metronome-schedule',
  },
  {
    surface: 'chronos',
    method: 'PUT',
    path: '/v1/jobs/fuzz-job/schedules/*',
    mutating: true,
    body: 'metronome-schedule',
  },
  { surface: 'chronos', method: 'DELETE', path: '/v1/jobs/fuzz-job/schedules/*', mutating: true },
  { surface: 'chronos', method: 'GET', path: '/ping', mutating: false },
];

/** The WebSocket endpoints on the master's port. */
export const WS_PATHS = { agent: '/api/v1/agent', scheduler: '/api/v1/scheduler/ws' } as const;

/** A route name for tables and finding signatures: `PUT master/weights`. */
export function routeName(r: Pick<Route, 'surface' | 'method' | 'path'>): string {
  return `${r.method} ${r.surface}${r.path}`;
}
