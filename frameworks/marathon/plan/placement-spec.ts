/**
 * What one instance of an app or pod asks of an offer, for sdk/placement (`place`, `packOffer`):
 * resources, host ports, roles and constraints, as Marathon derives them.
 *
 * Host ports: with host networking, one per port definition (its number when `requirePorts`, else
 * any: 0); with BRIDGE or container networks, one per port mapping that has a `hostPort` (0 = any).
 * A pod asks for its containers' resources plus its executor's, and one host port per endpoint
 * with a `hostPort`.
 */
import { type Constraint, type PlacementSpec, parseConstraint } from 'agora/sdk';
import { fixed } from '../../../sdk/resources/index.js';
import type { App, Pod } from '../model/index.js';

function constraintsFrom(list: readonly (readonly string[])[]): Constraint[] {
  const out: Constraint[] = [];
  for (const raw of list) {
    const p = parseConstraint(raw);
    if (p.ok) out.push(p.constraint);
  }
  return out;
}

/** Host ports an app's instance needs (0 = any free port). */
export function hostPortsOf(app: App): number[] {
  const host = app.networks.every((n) => n.mode === 'host');
  if (host) return (app.portDefinitions ?? []).map((d) => (app.requirePorts ? d.port : 0));
  return (app.container?.portMappings ?? []).filter((m) => m.hostPort !== undefined).map((m) => m.hostPort as number);
}

export function placementSpecOfApp(app: App): PlacementSpec {
  return {
    cpus: app.cpus,
    mem: app.mem,
    disk: app.disk,
    gpus: app.gpus,
    ports: hostPortsOf(app),
    ...(app.acceptedResourceRoles ? { acceptedResourceRoles: app.acceptedResourceRoles } : {}),
    role: app.role,
    constraints: constraintsFrom(app.constraints),
    instances: app.instances,
  };
}

export function placementSpecOfPod(pod: Pod): PlacementSpec {
  const sum = (f: (c: Pod['containers'][number]) => number) => fixed(pod.containers.reduce((s, c) => s + f(c), 0));
  const ports = pod.containers.flatMap((c) =>
    (c.endpoints ?? []).filter((e) => e.hostPort !== undefined).map((e) => e.hostPort as number),
  );
  const placement = pod.scheduling.placement;
  return {
    cpus: fixed(sum((c) => c.resources.cpus) + pod.executorResources.cpus),
    mem: fixed(sum((c) => c.resources.mem) + pod.executorResources.mem),
    disk: fixed(sum((c) => c.resources.disk) + pod.executorResources.disk),
    gpus: sum((c) => c.resources.gpus),
    ports,
    ...(placement.acceptedResourceRoles && placement.acceptedResourceRoles.length > 0
      ? { acceptedResourceRoles: placement.acceptedResourceRoles }
      : {}),
    role: pod.role,
    constraints: constraintsFrom(
      placement.constraints.map((c) =>
        c.value === undefined ? [c.fieldName, c.operator] : [c.fieldName, c.operator, c.value],
      ),
    ),
    instances: pod.scaling.instances,
  };
}
