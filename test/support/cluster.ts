/**
 * Real processes for integration tests: re-exported from the shared `testkit/` (which the
 * benchmarks use too), under the names the tests have always imported.
 */
export {
  AGORA_BIN,
  type AgentProc,
  agora,
  type DaemonOptions,
  dumpProcessLogs,
  freePort,
  freePortRun,
  getJson,
  haMasterFlags,
  killProcessesMentioning,
  killTasksUnder,
  leaderOf,
  type MasterProc,
  PROCESS_START_MS,
  Proc,
  REPO_ROOT,
  type SpawnOptions,
  sleep,
  startAgentProc,
  startMasterProc,
  stopAll,
  tempDir,
  waitFor,
  within,
} from '../../testkit/processes.js';
