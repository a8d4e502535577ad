/** The root group as a tree: lookups, replacing an app or a group, removing, listing every app. */
import { type AppDef, type GroupDef, parentOf } from './spec.js';

export function emptyRoot(version: string): GroupDef {
  return { id: '/', apps: [], pods: [], groups: [], dependencies: [], version };
}

/** Every app in the tree, depth first. */
export function allApps(g: GroupDef, out: AppDef[] = []): AppDef[] {
  out.push(...g.apps);
  for (const c of g.groups) allApps(c, out);
  return out;
}

export function allGroups(g: GroupDef, out: GroupDef[] = []): GroupDef[] {
  out.push(g);
  for (const c of g.groups) allGroups(c, out);
  return out;
}

export function findGroup(root: GroupDef, id: string): GroupDef | undefined {
  if (root.id === id) return root;
  for (const c of root.groups) if (id === c.id || id.startsWith(`${c.id}/`)) return findGroup(c, id);
  return undefined;
}

export function findApp(root: GroupDef, id: string): AppDef | undefined {
  return findGroup(root, parentOf(id))?.apps.find((a) => a.id === id);
}

/** A copy of the tree with the group at `id` replaced by `fn(group)` (created, with parents, if missing). */
export function updateGroup(
  root: GroupDef,
  id: string,
  fn: (g: GroupDef) => GroupDef | undefined,
  version: string,
): GroupDef {
  const walk = (g: GroupDef): GroupDef | undefined => {
    if (g.id === id) return fn(g);
    const child = g.groups.find((c) => id === c.id || id.startsWith(`${c.id}/`));
    if (child) {
      const next = walk(child);
      const groups = g.groups.filter((c) => c !== child);
      if (next) groups.push(next);
      groups.sort((a, b) => a.id.localeCompare(b.id));
      return { ...g, groups, version };
    }
    // Create the path down to `id`.
    const rest = id.slice(g.id === '/' ? 1 : g.id.length + 1).split('/');
    const childId = g.id === '/' ? `/${rest[0]}` : `${g.id}/${rest[0]}`;
    const created = walk({ id: childId, apps: [], pods: [], groups: [], dependencies: [], version });
    if (!created) return g;
    return { ...g, groups: [...g.groups, created].sort((a, b) => a.id.localeCompare(b.id)), version };
  };
  return walk(root) ?? emptyRoot(version);
}

export function putApp(root: GroupDef, app: AppDef, version: string): GroupDef {
  return updateGroup(
    root,
    parentOf(app.id),
    (g) => ({
      ...g,
      apps: [...g.apps.filter((a) => a.id !== app.id), app].sort((x, y) => x.id.localeCompare(y.id)),
      version,
    }),
    version,
  );
}

export function removeApp(root: GroupDef, id: string, version: string): GroupDef {
  return updateGroup(root, parentOf(id), (g) => ({ ...g, apps: g.apps.filter((a) => a.id !== id), version }), version);
}

export function removeGroup(root: GroupDef, id: string, version: string): GroupDef {
  if (id === '/') return { ...emptyRoot(version) };
  return updateGroup(
    root,
    parentOf(id),
    (g) => ({ ...g, groups: g.groups.filter((c) => c.id !== id), version }),
    version,
  );
}

/** Every app id under a group (itself and its subgroups). */
export function appIdsUnder(root: GroupDef, id: string): string[] {
  const g = findGroup(root, id);
  return g ? allApps(g).map((a) => a.id) : [];
}

/** The effective dependencies of an app: its own and those of every enclosing group, as app ids. */
export function appDependencies(root: GroupDef, app: AppDef): string[] {
  const out = new Set<string>();
  const add = (dep: string) => {
    if (findApp(root, dep)) out.add(dep);
    else for (const a of appIdsUnder(root, dep)) out.add(a);
  };
  for (const d of app.dependencies) add(d);
  let gid = parentOf(app.id);
  for (;;) {
    const g = findGroup(root, gid);
    if (g) for (const d of g.dependencies) add(d);
    if (gid === '/') break;
    gid = parentOf(gid);
  }
  out.delete(app.id);
  return [...out];
}
