/**
 * Bounds on every size, count and depth an app, group or pod definition may have. A definition
 * beyond them is refused with a 422 naming the path, before any other work is done on it.
 */

/** Longest `id` (a path of segments), in characters. */
export const MAX_ID_LENGTH = 512;
/** Most segments in one path id (nesting depth of groups plus one). */
export const MAX_ID_SEGMENTS = 32;
/** Deepest nesting of groups inside one posted group. */
export const MAX_GROUP_DEPTH = 16;
/** Most apps plus pods in one posted group tree. */
export const MAX_RUN_SPECS = 10_000;
/** Most groups in one posted group tree. */
export const MAX_GROUPS = 2_000;
/** Longest `cmd`, and longest text field of any other kind. */
export const MAX_CMD_LENGTH = 65_536;
export const MAX_TEXT_LENGTH = 4_096;
/** Most entries in `args`, `fetch`, `env`, `labels`, `secrets`, `dependencies`, `constraints` ... */
export const MAX_LIST_ITEMS = 1_024;
/** Most ports (port definitions or port mappings) of one app. */
export const MAX_PORTS = 256;
/** Most health checks, readiness checks, networks, volumes, containers of one pod. */
export const MAX_CHECKS = 32;
/** Largest instance count. */
export const MAX_INSTANCES = 100_000;
/** Largest resource scalar (cpus, mem, disk). */
export const MAX_RESOURCE = 1e9;
/** Largest number of seconds in any duration field. */
export const MAX_SECONDS = 2_147_483_647;
