/**
 * The roles as `/roles`, `/quota` and the metrics show them: every role that has a weight, quota,
 * reservation, framework, task or offer, with its allocated and offered resources and dominant share.
 */
import { DEFAULT_ROLE, Resources } from '../../sdk/resources/resources.js';
import type { Master } from '../master.js';
import { dominantShare } from '../roles.js';

export interface RoleView {
  name: string;
  weight: number;
  frameworks: string[];
  allocated: Resources;
  offered: Resources;
  reserved: Resources;
  dominantShare: number;
  quota?: { guarantee?: Resources; limit?: Resources };
}

/** Every role that has a weight, quota, reservation, framework, task or offer. */
export function roleViews(master: Master): RoleView[] {
  const views = new Map<string, RoleView>();
  const view = (name: string): RoleView => {
    let v = views.get(name);
    if (!v) {
      const r = master.roles.get(name);
      v = {
        name,
        weight: r?.weight ?? 1,
        frameworks: [],
        allocated: Resources.empty(),
        offered: Resources.empty(),
        reserved: Resources.empty(),
        dominantShare: 0,
        quota: r?.quota,
      };
      views.set(name, v);
    }
    return v;
  };
  view(DEFAULT_ROLE);
  for (const r of master.roles.keys()) view(r);
  let total = Resources.empty();
  for (const a of master.agents.values()) {
    if (a.state === 'unreachable' || a.state === 'gone') continue;
    total = total.plus(a.total);
    for (const role of a.total.roles())
      if (role !== DEFAULT_ROLE) {
        const v = view(role);
        v.reserved = v.reserved.plus(a.total.reservedFor(role));
      }
  }
  for (const f of master.frameworks.values()) for (const role of f.roles) view(role).frameworks.push(f.id);
  for (const t of master.tasks.values()) {
    const v = view(t.role);
    v.allocated = v.allocated.plus(t.resources);
  }
  for (const o of master.offers.values()) {
    const v = view(o.role);
    v.offered = v.offered.plus(o.resources);
  }
  const totals = total.scalarTotals();
  for (const v of views.values()) v.dominantShare = dominantShare(v.allocated.plus(v.offered), totals);
  return [...views.values()].sort((a, b) => a.name.localeCompare(b.name));
}

export function quotaJson(role: string, q: { guarantee?: Resources; limit?: Resources }, consumed?: Resources) {
  return {
    role,
    guarantee: q.guarantee?.toList() ?? [],
    guarantees: q.guarantee?.scalarTotals() ?? {},
    limits: q.limit?.scalarTotals() ?? {},
    ...(consumed ? { consumed: consumed.scalarTotals() } : {}),
  };
}
