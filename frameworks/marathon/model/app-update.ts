/**
 * Partial app updates (PUT with partial semantics, PATCH, and each element of PUT /v2/apps):
 * every field optional, read like an app; applying one to an app replaces the fields it names and
 * normalises the result again, so the same 422 rules hold for the outcome.
 */
import { type Static, Type } from 'typebox';
import { type NormalizeOptions, normalizeApp } from './normalize-app.js';
import { type App, AppSchema } from './schema-app.js';
import { coerceNumbers, INVALID_JSON, type Normalized, readsViolations, rejectOne, Violations } from './violations.js';

/** Marathon's AppUpdate: the App type with every field optional. */
export const AppUpdateSchema = Type.Partial(AppSchema);
export type AppUpdate = Static<typeof AppUpdateSchema>;

/** Reads a partial update (422 "Invalid JSON" when a field has the wrong type or bound). */
export function readAppUpdate(raw: unknown): Normalized<AppUpdate> {
  const input = coerceNumbers(AppUpdateSchema, raw);
  const reads = readsViolations(AppUpdateSchema, input);
  if (reads.length > 0) {
    const v = new Violations();
    v.addAll(reads);
    return v.reject(INVALID_JSON);
  }
  const u = input as AppUpdate;
  if (u.version !== undefined && Object.keys(u).some((k) => k !== 'version' && k !== 'id')) {
    return rejectOne('/', "The 'version' field may only be combined with the 'id' field.");
  }
  return { ok: true, value: u };
}

/**
 * Applies `update` to `current` (fields named replace; the id stays) and normalises the result.
 * With no `current`, the update must be a whole app (PUT creating an app).
 */
export function applyAppUpdate(
  current: App | undefined,
  update: AppUpdate,
  opts: NormalizeOptions = {},
): Normalized<App> {
  const base: Record<string, unknown> = current ? (structuredClone(current) as unknown as Record<string, unknown>) : {};
  for (const [k, v] of Object.entries(update)) {
    if (v !== undefined && k !== 'id') base[k] = v;
  }
  // A new command form replaces the other one, as Marathon's update does.
  if (update.cmd !== undefined && update.args === undefined) delete base.args;
  if (update.args !== undefined && update.cmd === undefined) delete base.cmd;
  // Deprecated forms in the update take over from the canonical fields they translate to.
  if (update.ports !== undefined) delete base.portDefinitions;
  if (update.uris !== undefined) delete base.fetch;
  if (update.ipAddress !== undefined || update.container?.docker?.network !== undefined) delete base.networks;
  base.id = current?.id ?? update.id;
  delete base.version;
  return normalizeApp(base, opts);
}
