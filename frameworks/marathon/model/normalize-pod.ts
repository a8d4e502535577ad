/**
 * Pod definitions: read (422 "Invalid JSON" in Play's words), validate (422 "Object is not valid"
 * with Marathon's pod messages), fill in Marathon's defaults.
 */
import { constraintProblem, parseConstraint } from 'agora/sdk';
import { canonicalPathId, parsePathId, pathIdProblems } from './path-id.js';
import { type Pod, type PodInput, PodSchema } from './schema-pod.js';
import { coerceNumbers, INVALID_JSON, type Normalized, readsViolations, Violations } from './violations.js';

export interface PodNormalizeOptions {
  parentGroupId?: string;
  defaultRole?: string;
  pathPrefix?: string;
}

export function normalizePod(raw: unknown, opts: PodNormalizeOptions = {}): Normalized<Pod> {
  const at = opts.pathPrefix ?? '';
  const P = (p: string) => at + p || '/';
  const input = coerceNumbers(PodSchema, raw);
  const reads = readsViolations(PodSchema, input, at);
  if (reads.length > 0) {
    const v = new Violations();
    v.addAll(reads);
    return v.reject(INVALID_JSON);
  }
  const pod = input as PodInput;
  const base = opts.parentGroupId ?? '/';
  const v = new Violations();
  for (const e of pathIdProblems(pod.id, opts.parentGroupId !== undefined ? { base } : {})) v.add(P('/id'), e);
  const id = canonicalPathId(pod.id, base);
  if (parsePathId(id).segments.length === 0) v.add(P('/id'), 'Path must contain at least one path element');
  if (pod.containers.length === 0) v.add(P('/containers'), 'must not be empty');
  const names = pod.containers.map((c) => c.name);
  if (new Set(names).size !== names.length) v.add(P('/containers'), 'container names are unique');
  const endpointNames = pod.containers.flatMap((c) => (c.endpoints ?? []).map((e) => e.name));
  if (new Set(endpointNames).size !== endpointNames.length) v.add(P('/'), 'endpoint names are unique');
  const volumeNames = new Set((pod.volumes ?? []).map((x) => x.name));
  const networks = (pod.networks ?? []).map((n) => ({ ...n, mode: n.mode ?? 'container' }));
  const hostMode = networks.length === 0 || networks.some((n) => n.mode === 'host');
  pod.containers.forEach((c, i) => {
    (c.volumeMounts ?? []).forEach((m, j) => {
      if (!volumeNames.has(m.name))
        v.add(P(`/containers(${i})/volumeMounts(${j})/name`), 'is not one of the defined volumes');
    });
    (c.endpoints ?? []).forEach((e, j) => {
      if (!hostMode && e.containerPort === undefined) {
        v.add(P(`/containers(${i})/endpoints(${j})/containerPort`), 'is required when using container-mode networking');
      }
    });
    const hc = c.healthCheck;
    if (hc) {
      const kinds = [hc.http, hc.tcp, hc.exec].filter((x) => x !== undefined).length;
      if (kinds !== 1) v.add(P(`/containers(${i})/healthCheck`), 'only one of http, tcp, or exec may be specified');
      const ep = hc.http?.endpoint ?? hc.tcp?.endpoint;
      if (ep !== undefined && !(c.endpoints ?? []).some((e) => e.name === ep)) {
        v.add(P(`/containers(${i})/healthCheck`), 'health check endpoint must match an endpoint name');
      }
    }
    if ((c.resources.cpus ?? 1) <= 0 && (c.resources.mem ?? 128) <= 0)
      v.add(P(`/containers(${i})/resources`), 'must not be empty');
  });
  (pod.scheduling?.placement?.constraints ?? []).forEach((c, i) => {
    const parsed = parseConstraint(
      c.value === undefined ? [c.fieldName, c.operator] : [c.fieldName, c.operator, c.value],
    );
    const why = parsed.ok ? constraintProblem(parsed.constraint) : parsed.error;
    if (why) v.add(P(`/scheduling/placement/constraints(${i})`), why);
  });
  if (
    networks.filter((n) => n.mode === 'host').length > 1 ||
    (networks.some((n) => n.mode === 'host') && networks.length > 1)
  ) {
    v.add(
      P('/networks'),
      'Must specify either a single host network, single bridge network, or else 1-to-n container networks',
    );
  }
  if (!v.empty) return v.reject();

  const s = pod.scheduling ?? {};
  const out: Pod = {
    ...pod,
    id,
    role: pod.role ?? opts.defaultRole ?? '*',
    networks: networks.length === 0 ? [{ mode: 'host' }] : networks,
    containers: pod.containers.map((c) => ({
      ...c,
      resources: {
        cpus: c.resources.cpus ?? 1,
        mem: c.resources.mem ?? 128,
        disk: c.resources.disk ?? 0,
        gpus: c.resources.gpus ?? 0,
      },
    })),
    scaling: {
      kind: 'fixed',
      instances: pod.scaling?.instances ?? 1,
      ...(pod.scaling?.maxInstances !== undefined ? { maxInstances: pod.scaling.maxInstances } : {}),
    },
    scheduling: {
      backoff: { backoff: 1, backoffFactor: 1.15, maxLaunchDelay: 300, ...(s.backoff ?? {}) },
      upgrade: { minimumHealthCapacity: 1, maximumOverCapacity: 1, ...(s.upgrade ?? {}) },
      placement: {
        constraints: s.placement?.constraints ?? [],
        ...(s.placement?.acceptedResourceRoles ? { acceptedResourceRoles: s.placement.acceptedResourceRoles } : {}),
      },
      killSelection: s.killSelection ?? 'YOUNGEST_FIRST',
      unreachableStrategy:
        s.unreachableStrategy === undefined || s.unreachableStrategy === 'disabled'
          ? (s.unreachableStrategy ?? { inactiveAfterSeconds: 0, expungeAfterSeconds: 0 })
          : { inactiveAfterSeconds: 0, expungeAfterSeconds: 0, ...s.unreachableStrategy },
    },
    executorResources: { cpus: 0.1, mem: 32, disk: 10, ...(pod.executorResources ?? {}) },
  };
  return { ok: true, value: out };
}
