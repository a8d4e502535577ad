/**
 * Bounds of the wire protocol: every string, array and number in a message has one. Exported so
 * that senders can cut what they send to fit (e.g. a task status message to MAX_TEXT_LENGTH).
 */

/** Names, users, principals, hostnames, keys: short human strings. */
export const MAX_NAME_LENGTH = 1_024;
/** Free text: status messages, error messages, label and parameter values. */
export const MAX_TEXT_LENGTH = 65_536;
/** A command line, one argument, one environment value. */
export const MAX_COMMAND_LENGTH = 131_072;
/** Paths, URLs, URIs, docker images. */
export const MAX_PATH_LENGTH = 4_096;
/** Short tokens: enum-like strings (reasons, codes, capability types, versions, uuids). */
export const MAX_TOKEN_LENGTH = 256;

/** Entries of small lists (labels, env variables, arguments, uris, volumes, port mappings, parameters, capabilities). */
export const MAX_LIST_ENTRIES = 1_024;
/** Roles of one framework (and of one REVIVE/SUPPRESS). */
export const MAX_ROLES = 64;
/** Offer ids of one ACCEPT/DECLINE, operations of one ACCEPT, tasks of one LAUNCH. */
export const MAX_BATCH = 10_000;
/** Tasks of one task group (LAUNCH_GROUP). */
export const MAX_GROUP_TASKS = 256;
/** Offers of one OFFERS event, tasks of one RECONCILE or REREGISTER. */
export const MAX_LARGE_BATCH = 100_000;
/** Frameworks of one REREGISTER. */
export const MAX_FRAMEWORKS = 10_000;
/** Attributes of one agent. */
export const MAX_ATTRIBUTES = 256;

/** Seconds (timeouts, intervals, refuse_seconds, failover_timeout): 0 ≤ s ≤ this (about 31 years). */
export const MAX_SECONDS = 1e9;
/** Timestamps in seconds since the epoch: 0 ≤ t ≤ this (year 2286). */
export const MAX_TIMESTAMP = 1e10;
/** Sequence numbers of PING/PONG. */
export const MAX_SEQ = Number.MAX_SAFE_INTEGER;
