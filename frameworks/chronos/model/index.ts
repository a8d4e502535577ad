/**
 * The pure parts of Agora's Chronos/Metronome framework: job models of both faces and their mapping
 * to one internal {@link Job}; schedules (ISO 8601 repeating intervals and cron) with due-time
 * arithmetic; the runner's decisions (missed runs, deadlines, concurrency, retries, run ids); the
 * dependency graph; history statistics. Nothing here does I/O or reads the clock: `now` is passed in.
 * docs/chronos-jobs.md describes the rules.
 *
 * This file is the public face: the service imports only from here.
 */
export type { ChronosParseOptions, ChronosRoute, ScheduleProgress } from './chronos.js';
export { jobFromChronos, jobToChronos, parseEpsilon } from './chronos.js';
export type { ChronosJobInput } from './chronos-schema.js';
export { CHRONOS_NAME_PATTERN, ChronosContainerSchema, ChronosJobSchema, UNLIMITED_RETRIES } from './chronos-schema.js';
export type { CronSchedule } from './cron.js';
export { parseCron } from './cron.js';
export type { Classified } from './documents.js';
export { classifyDocument } from './documents.js';
export type { ChildChange, DependencyState, GraphJob, ReadyChild } from './graph.js';
export {
  childrenAfterDelete,
  childrenOf,
  clearMarks,
  dependencyProblem,
  emptyDependencyState,
  findCycle,
  forgetJob,
  recordParentFinished,
  renderCsv,
  renderDot,
  waitingFor,
} from './graph.js';
export type { IsoSchedule, Parsed } from './iso8601.js';
export { formatIso8601, instantOfWallTime, isoRemaining, parseIso8601, parsePeriod } from './iso8601.js';
export type {
  Checked,
  Constraint,
  Container,
  EnvValue,
  FetchUri,
  Job,
  JobCounters,
  JobNetwork,
  Problem,
  Volume,
} from './job.js';
export { ConcurrencyPolicy, emptyCounters, JOB_DEFAULTS, MissedRunPolicy, RestartPolicy } from './job.js';
export type { Face } from './merge.js';
export { mergeUpdate } from './merge.js';
export type { ScheduleFields } from './metronome.js';
export { jobFromMetronome, jobToMetronome, scheduleFromMetronome, scheduleToMetronome } from './metronome.js';
export type { MetronomeJobInput, MetronomeScheduleInput } from './metronome-schema.js';
export {
  METRONOME_ID_PATTERN,
  MetronomeJobSchema,
  MetronomeRunSchema,
  MetronomeScheduleSchema,
} from './metronome-schema.js';
export type { DueDecision, Plan, PlanInput, RetryDecision } from './policy.js';
export {
  completionDeadline,
  dependentRun,
  launchExpired,
  manualStartBy,
  planDueTimes,
  retryDecision,
  SkipReason,
} from './policy.js';
export { describeProblems, schemaProblems } from './problems.js';
export { dependentRunIdFor, manualRunIdFor, parseTaskId, runIdFor, taskIdFor } from './run-id.js';
export type { Schedule } from './schedule.js';
export {
  clearScheduleCaches,
  DEFAULT_MAX_DUE_TIMES,
  dueAfter,
  dueAtOrAfter,
  dueTimesBetween,
  nextDue,
  parseSchedule,
  scheduleProgress,
} from './schedule.js';
export type { SearchQuery } from './search.js';
export { searchJobs, withRunArguments } from './search.js';
export type { Histogram, RunRecord, StatName } from './stats.js';
export {
  chronosCounters,
  chronosJobStat,
  chronosStatsList,
  chronosSummary,
  currentState,
  histogram,
  isFinished,
  lastState,
  metronomeHistory,
  metronomeHistorySummary,
  metronomeRunStatus,
  metronomeRunView,
  PERCENTILES,
  quantile,
  RunState,
  STAT_NAMES,
  trimHistory,
} from './stats.js';
export { DEFAULT_ZONE, zoneProblem } from './timezone.js';
