/** The master's state machine: events in, effects out. */
export type { AgentConn, Counters, MasterConfig, SchedulerConn } from './core.js';
export { type ConnRef, type Effect, failoverTimer, type LogLevel, Timers } from './effects.js';
export { rolesFromRecord, rolesToRecord } from './leadership.js';
export { type MasterEvent, MasterState } from './master-state.js';
export { ALLOW_ALL, type ProtocolSecurity, REASON_TASK_UNAUTHORIZED } from './security.js';
export { isStale } from './tasks.js';
