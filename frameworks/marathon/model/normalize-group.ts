/**
 * Groups: read, then normalise every app, pod and sub-group with ids resolved against the enclosing
 * group (each must be its direct child), with violation paths `/apps(0)/cpus`,
 * `/groups(1)/apps(0)/id`. Bounded: depth {@link MAX_GROUP_DEPTH}, at most {@link MAX_RUN_SPECS} apps
 * plus pods and {@link MAX_GROUPS} groups per tree. Ids must be unique across the tree.
 */
import { MAX_GROUP_DEPTH, MAX_GROUPS, MAX_RUN_SPECS } from './limits.js';
import { type NormalizeOptions, normalizeApp } from './normalize-app.js';
import { normalizePod } from './normalize-pod.js';
import { canonicalPathId, pathIdProblems } from './path-id.js';
import { type Group, type GroupInput, GroupSchema } from './schema-group.js';
import { coerceNumbers, INVALID_JSON, type Normalized, readsViolations, Violations } from './violations.js';

export interface GroupNormalizeOptions extends Omit<NormalizeOptions, 'pathPrefix' | 'parentGroupId'> {
  /** Id of the group this one is posted into (`/` for the root or for PUT /v2/groups/{id}). */
  parentGroupId?: string;
}

interface Budget {
  runSpecs: number;
  groups: number;
}

export function normalizeGroup(raw: unknown, opts: GroupNormalizeOptions = {}): Normalized<Group> {
  const v = new Violations();
  const budget: Budget = { runSpecs: 0, groups: 0 };
  const g = walk(raw, opts.parentGroupId, '', 0, opts, v, budget, true);
  if (!g || !v.empty) {
    const invalidJson = v.list().every((d) => d.errors.every((e) => e.startsWith('error.')));
    return v.reject(invalidJson ? INVALID_JSON : undefined);
  }
  const seen = new Map<string, string>();
  const dup = new Violations();
  visit(g, (id, what) => {
    if (seen.has(id)) dup.add('/', `Groups and Applications may not have the same identifier: ${id}`);
    seen.set(id, what);
  });
  if (!dup.empty) return dup.reject();
  return { ok: true, value: g };
}

function visit(g: Group, f: (id: string, what: string) => void): void {
  for (const a of g.apps) f(a.id, 'app');
  for (const p of g.pods) f(p.id, 'pod');
  for (const s of g.groups) {
    f(s.id, 'group');
    visit(s, f);
  }
}

function walk(
  raw: unknown,
  parent: string | undefined,
  at: string,
  depth: number,
  opts: GroupNormalizeOptions,
  v: Violations,
  budget: Budget,
  top: boolean,
): Group | undefined {
  if (depth > MAX_GROUP_DEPTH) {
    v.add(at || '/', `groups may be nested at most ${MAX_GROUP_DEPTH} deep`);
    return undefined;
  }
  if (++budget.groups > MAX_GROUPS) {
    v.add(at || '/', `a group tree may hold at most ${MAX_GROUPS} groups`);
    return undefined;
  }
  const input = coerceNumbers(GroupSchema, raw);
  const reads = readsViolations(GroupSchema, input, at);
  if (reads.length > 0) {
    v.addAll(reads);
    return undefined;
  }
  const g = input as GroupInput;
  const base = parent ?? '/';
  let id: string;
  if (g.id === undefined) {
    if (!top) {
      v.add(`${at}/id`, 'error.path.missing');
      return undefined;
    }
    id = base;
  } else {
    id = canonicalPathId(g.id, base);
    // The posted group may sit anywhere below where it is posted (missing groups are created);
    // groups inside it must be direct children of their parent.
    const problems = pathIdProblems(g.id, parent !== undefined && !top ? { base } : {});
    for (const e of problems) v.add(`${at}/id`, e);
  }
  const apps = (g.apps ?? []).flatMap((a, i) => {
    if (++budget.runSpecs > MAX_RUN_SPECS) {
      if (budget.runSpecs === MAX_RUN_SPECS + 1)
        v.add(at || '/', `a group tree may hold at most ${MAX_RUN_SPECS} apps and pods`);
      return [];
    }
    const r = normalizeApp(a, { ...opts, parentGroupId: id, pathPrefix: `${at}/apps(${i})` });
    if (!r.ok) {
      v.addAll(r.body.details ?? [{ path: `${at}/apps(${i})`, errors: [r.body.message] }]);
      return [];
    }
    return [r.value];
  });
  const pods = (g.pods ?? []).flatMap((p, i) => {
    if (++budget.runSpecs > MAX_RUN_SPECS) return [];
    const r = normalizePod(p, { parentGroupId: id, defaultRole: opts.defaultRole, pathPrefix: `${at}/pods(${i})` });
    if (!r.ok) {
      v.addAll(r.body.details ?? [{ path: `${at}/pods(${i})`, errors: [r.body.message] }]);
      return [];
    }
    return [r.value];
  });
  const groups = (g.groups ?? []).flatMap((s, i) => {
    const r = walk(s, id, `${at}/groups(${i})`, depth + 1, opts, v, budget, false);
    return r ? [r] : [];
  });
  (g.dependencies ?? []).forEach((d, i) => {
    for (const e of pathIdProblems(d)) v.add(`${at}/dependencies(${i})`, e);
  });
  return {
    id,
    apps,
    pods,
    groups,
    dependencies: [...new Set((g.dependencies ?? []).map((d) => canonicalPathId(d, id)))],
    ...(g.version !== undefined ? { version: g.version } : {}),
    ...(g.enforceRole !== undefined ? { enforceRole: g.enforceRole } : {}),
  };
}
