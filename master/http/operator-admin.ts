/**
 * Operator calls beyond the reads: tearing a framework down (v1 TEARDOWN and the classic
 * `POST /master/teardown`, both under Mesos's `teardown_frameworks` ACL on the framework's
 * principal), and the small answers tools expect from a Mesos master: the maintenance schedule
 * and status (Agora has no maintenance: empty, well shaped), the logging level, and the master's
 * own log files (it logs to stdout and serves none: 404).
 */
import type { FastifyInstance } from 'fastify';
import { httpErrors } from '../../sdk/http/index.js';
import { InvalidOperatorCall, NoSuchFile } from '../errors.js';
import type { Master } from '../master.js';
import type { Json } from './operator-v1-json.js';

/**
 * Tears the framework down for `principal` once `teardown_frameworks` allows it on the
 * framework's principal; unknown ids are a 400 (as Mesos answers), a refusal a 403, nothing changed.
 */
export async function teardownFor(
  app: FastifyInstance,
  master: Master,
  principal: string | undefined,
  frameworkId: string,
): Promise<void> {
  const fw = master.frameworks.get(frameworkId);
  if (!fw) throw new InvalidOperatorCall(`no framework found with id '${frameworkId}'`);
  const permits = app.authorizer.permits?.bind(app.authorizer);
  const owner = fw.principal ?? fw.info.principal;
  if (permits && !permits(principal, 'teardown_frameworks', owner)) {
    throw new httpErrors.Forbidden(`not allowed to tear down framework '${frameworkId}'`);
  }
  if ((await master.teardownFramework(frameworkId)) === 'unknown') {
    throw new InvalidOperatorCall(`no framework found with id '${frameworkId}'`);
  }
}

export const maintenanceSchedule = (): Json => ({ schedule: { windows: [] } });
export const maintenanceStatus = (): Json => ({ status: { draining_machines: [], down_machines: [] } });

/** Mesos's logging level is glog's verbosity: 0 normally; Agora's pino debug and trace read as 1 and 2. */
export function loggingLevel(pinoLevel: string): Json {
  const level = pinoLevel === 'trace' ? 2 : pinoLevel === 'debug' ? 1 : 0;
  return { level };
}

/** LIST_FILES / READ_FILE on the master: it serves no files of its own. */
export function noMasterFile(path: string): never {
  throw new NoSuchFile(
    `no such file or directory: ${JSON.stringify(path.slice(0, 256))} (the master logs to stdout and serves no log files; task sandboxes are on the agents' /files/*)`,
  );
}
