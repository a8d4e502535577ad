/**
 * Pods: a pod runs as the scheduler's run spec (its shadow app: summed resources, scaling,
 * placement, upgrade and backoff), each instance one task group launched with LAUNCH_GROUP (one
 * task per container, the DEFAULT executor), so that convergence, deployments and placement treat
 * apps and pods alike. Pure.
 */
import type { ExecutorInfo, Offer, Resource, TaskGroupInfo, TaskInfo } from 'agora/sdk';
import type { Pod as ModelPod } from '../model/index.js';
import type { AppDef, GroupDef, Json } from './spec.js';

export type PodDef = ModelPod & {
  version: string;
  versionInfo?: { lastScalingAt: string; lastConfigChangeAt: string };
};

export function allPods(g: GroupDef, out: PodDef[] = []): PodDef[] {
  out.push(...(g.pods as PodDef[]));
  for (const c of g.groups) allPods(c, out);
  return out;
}

/** The pod as a run spec the scheduler converges (the pod itself under `pod`). */
export function podShadow(pod: PodDef): AppDef {
  const sum = (k: 'cpus' | 'mem' | 'disk' | 'gpus') =>
    pod.containers.reduce((a, c) => a + (c.resources[k] ?? 0), 0) +
    (k === 'gpus' ? 0 : (pod.executorResources[k] ?? 0));
  const endpoints = pod.containers.flatMap((c) => (c.endpoints ?? []) as { name: string; hostPort?: number }[]);
  const host = pod.networks.every((n) => n.mode === 'host');
  const s = pod.scheduling;
  const version = pod.version;
  return {
    id: pod.id,
    env: {},
    instances: pod.scaling.instances,
    cpus: Math.round(sum('cpus') * 1000) / 1000,
    mem: sum('mem'),
    disk: sum('disk'),
    gpus: sum('gpus'),
    executor: '',
    constraints: s.placement.constraints.map((c) => [
      c.fieldName,
      c.operator,
      ...(c.value !== undefined ? [c.value] : []),
    ]),
    fetch: [],
    backoffSeconds: s.backoff.backoff,
    backoffFactor: s.backoff.backoffFactor,
    maxLaunchDelaySeconds: s.backoff.maxLaunchDelay,
    healthChecks: pod.containers.some((c) => c.healthCheck)
      ? [
          {
            protocol: 'COMMAND',
            gracePeriodSeconds: 300,
            intervalSeconds: 60,
            timeoutSeconds: 20,
            maxConsecutiveFailures: 3,
            delaySeconds: 15,
          },
        ]
      : [],
    readinessChecks: [],
    dependencies: [],
    upgradeStrategy: s.upgrade,
    labels: (pod.labels ?? {}) as Record<string, string>,
    ...(s.placement.acceptedResourceRoles ? { acceptedResourceRoles: s.placement.acceptedResourceRoles } : {}),
    role: pod.role,
    requirePorts: false,
    portDefinitions: host
      ? endpoints.filter((e) => e.hostPort !== undefined).map((e) => ({ port: e.hostPort ?? 0, name: e.name }))
      : [],
    networks: [{ mode: 'host' }],
    killSelection: s.killSelection,
    unreachableStrategy: s.unreachableStrategy,
    secrets: {},
    version,
    versionInfo: pod.versionInfo ?? { lastScalingAt: version, lastConfigChangeAt: version },
    pod,
  } as AppDef;
}

/** The executor and task group of one pod instance on `offer`; `resources` and `ports` as placement took them. */
export function buildTaskGroup(
  pod: PodDef,
  offer: Offer,
  instanceId: string,
  resources: Resource[],
  ports: number[],
  version: string,
): { executor: ExecutorInfo; group: TaskGroupInfo; taskIds: string[] } {
  // Split what placement took: each container its own scalars, the executor its, ports to endpoints.
  const role = resources.find((r) => r.role)?.role;
  const scalar = (name: string, value: number): Resource[] =>
    value > 0 ? [{ name, type: 'SCALAR', scalar: { value }, ...(role ? { role } : {}) }] : [];
  let portAt = 0;
  const env = (pod.environment ?? {}) as Record<string, Json>;
  const tasks: TaskInfo[] = pod.containers.map((c) => {
    const endpoints = (c.endpoints ?? []) as { name: string; hostPort?: number; containerPort?: number }[];
    const mine: { name: string; port: number }[] = [];
    for (const e of endpoints) if (e.hostPort !== undefined) mine.push({ name: e.name, port: ports[portAt++] });
    const variables = [
      ...Object.entries({ ...env, ...((c.environment ?? {}) as Record<string, Json>) })
        .filter(([, v]) => typeof v === 'string')
        .map(([name, value]) => ({ name, value: value as string })),
      ...mine.map((e) => ({
        name: `ENDPOINT_${e.name.toUpperCase().replace(/[^A-Z0-9]/g, '_')}`,
        value: String(e.port),
      })),
      { name: 'MARATHON_APP_ID', value: pod.id },
      { name: 'MARATHON_APP_VERSION', value: version },
      { name: 'MESOS_TASK_ID', value: `${instanceId}.${c.name}` },
    ];
    const cmd = (c.exec as { command?: { shell?: string } } | undefined)?.command?.shell;
    const mounts = volumeLinks(pod, c);
    const shell = cmd && mounts ? `${mounts} && ${cmd}` : cmd;
    const image = c.image as { kind?: string; id?: string } | undefined;
    const task: TaskInfo = {
      name: c.name,
      task_id: `${instanceId}.${c.name}`,
      agent_id: offer.agent_id,
      resources: [
        ...scalar('cpus', c.resources.cpus),
        ...scalar('mem', c.resources.mem),
        ...scalar('disk', c.resources.disk ?? 0),
        ...mine.map((e) => ({
          name: 'ports',
          type: 'RANGES' as const,
          ranges: { range: [{ begin: e.port, end: e.port }] },
          ...(role ? { role } : {}),
        })),
      ],
      command: { ...(shell ? { value: shell, shell: true } : { shell: false }), environment: { variables } },
    };
    if (image?.id && image.kind !== 'APPC') {
      task.container = { type: 'DOCKER', containerizer: 'docker', docker: { image: image.id, network: 'HOST' } };
    }
    const hc = c.healthCheck as
      | {
          http?: { endpoint: string; path?: string };
          tcp?: { endpoint: string };
          exec?: { command: { shell: string } };
        }
      | undefined;
    const portOf = (name: string) => mine.find((e) => e.name === name)?.port;
    if (hc?.http && portOf(hc.http.endpoint))
      task.health_check = {
        type: 'HTTP',
        http: { port: portOf(hc.http.endpoint) as number, path: hc.http.path ?? '/' },
      };
    else if (hc?.tcp && portOf(hc.tcp.endpoint))
      task.health_check = { type: 'TCP', tcp: { port: portOf(hc.tcp.endpoint) as number } };
    else if (hc?.exec) task.health_check = { type: 'COMMAND', command: { value: hc.exec.command.shell, shell: true } };
    return task;
  });
  const executor: ExecutorInfo = {
    executor_id: instanceId,
    type: 'DEFAULT',
    name: pod.id,
    resources: [
      ...scalar('cpus', pod.executorResources.cpus),
      ...scalar('mem', pod.executorResources.mem),
      ...scalar('disk', pod.executorResources.disk),
    ],
  };
  return { executor, group: { tasks }, taskIds: tasks.map((t) => t.task_id) };
}

/** Quotes a word for sh. */
function q(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/**
 * A container's volume mounts as shell steps run before its command: an ephemeral pod volume
 * (no `host`, `secret` or `persistent`) is a directory in the task group's shared directory
 * (`$MESOS_SANDBOX/shared`, the same for every task of the group: docs/task-groups.md), a `host`
 * volume that host path; each is linked at the mount path (relative paths in the sandbox).
 * Undefined when the container mounts nothing.
 */
export function volumeLinks(pod: PodDef, c: PodDef['containers'][number]): string | undefined {
  const volumes = (pod.volumes ?? []) as { name: string; host?: string; secret?: string; persistent?: object }[];
  const steps: string[] = [];
  for (const m of (c.volumeMounts ?? []) as { name: string; mountPath: string }[]) {
    const v = volumes.find((x) => x.name === m.name);
    if (!v || v.secret !== undefined || v.persistent !== undefined) continue;
    const source = v.host !== undefined ? q(v.host) : `"$MESOS_SANDBOX/shared/"${q(v.name)}`;
    const target = m.mountPath.startsWith('/') ? q(m.mountPath) : `"$MESOS_SANDBOX/"${q(m.mountPath)}`;
    if (v.host === undefined) steps.push(`mkdir -p ${source}`);
    steps.push(`mkdir -p "$(dirname ${target})"`, `ln -sfn ${source} ${target}`);
  }
  return steps.length > 0 ? steps.join(' && ') : undefined;
}

/** An instance's state from its tasks': a terminal one ends it; all running: running. */
export function groupState(states: string[]): string {
  const terminal = states.find((s) =>
    ['TASK_FAILED', 'TASK_ERROR', 'TASK_LOST', 'TASK_DROPPED', 'TASK_GONE', 'TASK_KILLED', 'TASK_FINISHED'].includes(s),
  );
  if (terminal) return terminal;
  if (states.includes('TASK_UNREACHABLE')) return 'TASK_UNREACHABLE';
  if (states.length > 0 && states.every((s) => s === 'TASK_RUNNING')) return 'TASK_RUNNING';
  if (states.includes('TASK_KILLING')) return 'TASK_KILLING';
  return states.includes('TASK_STARTING') || states.includes('TASK_RUNNING') ? 'TASK_STARTING' : 'TASK_STAGING';
}
