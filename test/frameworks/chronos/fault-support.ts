/**
 * What the Chronos fault tests share: starting a Chronos instance as a real process, asking whether
 * it leads, posting jobs that write `<job> <due> <start>` to a log outside Agora, and the
 * exactly-once check over that log (every due time in a window has exactly one line, started within
 * [due, due + epsilon + slack], and no due time has two). The due times are computed here from the
 * schedule posted, not read from Chronos.
 */
import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import {
  agora,
  freePort,
  getJson,
  PROCESS_START_MS,
  type Proc,
  sleep,
  tempDir,
  waitFor,
} from '../../support/cluster.js';

export interface ChronosProc {
  proc: Proc;
  port: number;
  url: string;
}

/** `agora chronos` on a free port; `extra` flags after the usual ones. */
export async function startChronosProc(
  zk: string,
  master: string,
  name: string,
  extra: string[] = [],
  port?: number,
): Promise<ChronosProc> {
  const httpPort = port ?? (await freePort());
  const proc = agora(name, [
    'chronos',
    '--master',
    master,
    '--zk',
    zk,
    '--zk_session_timeout',
    '4secs',
    '--http_port',
    String(httpPort),
    '--work_dir',
    tempDir('chronos'),
    ...extra,
  ]);
  const url = `http://127.0.0.1:${httpPort}`;
  // Generous: on a loaded machine a node process takes a while to load its modules and connect.
  await waitFor(
    () => `${name} to answer /ping (output: ${proc.text().slice(-500)})`,
    async () => {
      if (proc.exited) throw new Error(`${name} exited: ${proc.text().slice(-2000)}`);
      return (await fetch(`${url}/ping`)).ok;
    },
    PROCESS_START_MS,
  );
  return { proc, port: httpPort, url };
}

export async function chronosLeading(c: ChronosProc): Promise<boolean> {
  if (c.proc.exited) return false;
  try {
    return (await getJson(`${c.url}/metrics`)).leading === 1;
  } catch {
    return false;
  }
}

export interface LoggedJobs {
  jobs: string[];
  /** The first due time (ms). */
  start: number;
  periodS: number;
  epsilonS: number;
  log: string;
}

/** Posts `jobs` (through `via`, leader or not) repeating every `periodS` from about 3 s from now. */
export async function postLoggedJobs(
  via: ChronosProc,
  jobs: string[],
  log: string,
  periodS: number,
  epsilonS: number,
): Promise<LoggedJobs> {
  // A leader just elected answers 503 (AGORA_CHRONOS_NOT_READY) until its state is loaded.
  await waitFor(
    () => `${via.url} to list the jobs (the leader's state loaded)`,
    async () => (await fetch(`${via.url}/scheduler/jobs`)).ok,
    PROCESS_START_MS,
  );
  const start = Math.ceil((Date.now() + 3_000) / 1000) * 1000;
  for (const name of jobs) {
    const r = await fetch(`${via.url}/scheduler/iso8601`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        name,
        command: `echo "$CHRONOS_JOB_NAME $CHRONOS_DUE $(date +%s%3N)" >> ${log}`,
        schedule: `R/${new Date(start).toISOString()}/PT${periodS}S`,
        epsilon: `PT${epsilonS}S`,
        cpus: 0.05,
        mem: 16,
        disk: 0,
        retries: 0,
        // A run whose end is not yet confirmed (its update held up by a fault) must not make the
        // next due time skip (FORBID would, and record it so).
        concurrent: true,
      }),
    });
    expect(r.status, await r.text()).to.equal(204);
  }
  return { jobs, start, periodS, epsilonS, log };
}

export interface ExactlyOnceResult {
  problems: string[];
  expected: number;
  lines: number;
  maxLatenessMs: number;
}

/**
 * Every due time in [start, end] of every job must have exactly one line in the log, started within
 * [due, due + epsilon + slackMs]; no due time (in the window or not) may have two.
 */
export function checkExactlyOnce(j: LoggedJobs, end: number, slackMs: number): ExactlyOnceResult {
  const lines = loggedLines(j);
  const seen = new Map<string, number[]>();
  for (const line of lines) {
    const [job, due, started] = line.split(' ');
    const key = `${job} ${due}`;
    seen.set(key, [...(seen.get(key) ?? []), Number(started)]);
  }
  const problems: string[] = [];
  let expected = 0;
  for (const job of j.jobs) {
    for (let due = j.start; due <= end; due += j.periodS * 1000) {
      expected++;
      const starts = seen.get(`${job} ${due}`) ?? [];
      if (starts.length !== 1) problems.push(`${job} due ${new Date(due).toISOString()}: ${starts.length} runs`);
      for (const s of starts) {
        if (s < due || s > due + j.epsilonS * 1000 + slackMs)
          problems.push(`${job} due ${new Date(due).toISOString()} started ${s - due} ms after its due time`);
      }
    }
  }
  for (const [key, starts] of seen) if (starts.length > 1) problems.push(`${key}: ${starts.length} runs (doubled)`);
  const late = [...seen.entries()].map(([k, s]) => (s[0] as number) - Number(k.split(' ')[1]));
  return { problems, expected, lines: lines.length, maxLatenessMs: late.length > 0 ? Math.max(...late) : 0 };
}

/** The log's lines, `<job> <due> <start>` each; none while no run has written one. */
function loggedLines(j: LoggedJobs): string[] {
  try {
    return readFileSync(j.log, 'utf8').trim().split('\n').filter(Boolean);
  } catch {
    return [];
  }
}

/**
 * Waits until every job has a run logged for its first due time at or after `t` (ms), and returns
 * that due time: the jobs are being run (by whoever leads, through whichever master) from then on.
 * What a test waits for instead of a fixed sleep that was meant to let some runs happen.
 */
export async function waitRunsFrom(j: LoggedJobs, t: number, what: string, timeoutMs = 60_000): Promise<number> {
  const periodMs = j.periodS * 1000;
  const due = j.start + Math.max(0, Math.ceil((t - j.start) / periodMs)) * periodMs;
  await waitFor(
    () => `${what}: a run of every job due ${new Date(due).toISOString()} in the log`,
    () => {
      const logged = new Set(loggedLines(j).map((l) => l.split(' ').slice(0, 2).join(' ')));
      return j.jobs.every((job) => logged.has(`${job} ${due}`));
    },
    timeoutMs,
    200,
  );
  return due;
}

/**
 * `checkExactlyOnce` once every due time up to `end` has a run in the log, or once none of them may
 * still legitimately start (epsilon and the slack after `end` have passed). A run may start up to
 * epsilon late, so a run due shortly before `end` that has not started yet is not missing: reading
 * the log at a fixed moment counted such runs (late after a failover on a loaded machine) as 0 runs.
 */
export async function checkExactlyOnceSettled(j: LoggedJobs, end: number, slackMs: number): Promise<ExactlyOnceResult> {
  const missing = () => checkExactlyOnce(j, end, slackMs).problems.filter((p) => p.endsWith(': 0 runs'));
  const last = end + j.epsilonS * 1000 + slackMs;
  while (missing().length > 0 && Date.now() < last) await sleep(500);
  return checkExactlyOnce(j, end, slackMs);
}

/** Chronos's own records of the due times a problem names (printed when the check fails). */
export async function recordsOf(via: ChronosProc, job: string, problems: string[]): Promise<string> {
  const h = await getJson(`${via.url}/scheduler/job/${job}/runs`);
  const bad = new Set(problems.map((p) => Date.parse((p.split(' ')[2] as string).replace(/:$/, ''))));
  return JSON.stringify([...h.history, ...h.active].filter((r: { due: number }) => bad.has(r.due)));
}
