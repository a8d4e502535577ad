/**
 * Marathon 1.10's app, group and pod definitions: schemas with Marathon's defaults, legacy-field
 * normalisation, and validation answering in Marathon's 422 shape. Pure (no clock, no I/O).
 *
 * - `normalizeApp(raw, {parentGroupId})` → `{ok: true, value: App}` | `{ok: false, status, body}`
 * - `normalizeGroup(raw, {parentGroupId})` → canonical `Group` tree (apps, pods, groups, dependencies)
 * - `normalizePod(raw, {parentGroupId})` → canonical `Pod`
 * - path-id helpers (`canonicalPathId`, `parentPathId`, `isUnder`, `pathIdProblems`)
 *
 * See docs/marathon-apps.md.
 */

export { AppMessages } from './app-rules.js';
export { type AppUpdate, AppUpdateSchema, applyAppUpdate, readAppUpdate } from './app-update.js';
export * from './limits.js';
export { type NormalizeOptions, normalizeApp } from './normalize-app.js';
export { type GroupNormalizeOptions, normalizeGroup } from './normalize-group.js';
export { normalizePod, type PodNormalizeOptions } from './normalize-pod.js';
export * from './path-id.js';
export * from './schema-app.js';
export * from './schema-group.js';
export * from './schema-pod.js';
export * from './violations.js';
