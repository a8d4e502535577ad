/** Real Marathon processes (`agora marathon`) for the integration tests. */
import { agora, freePort, getJson, PROCESS_START_MS, type Proc, tempDir, waitFor } from '../support/cluster.js';

export interface MarathonProc {
  proc: Proc;
  port: number;
  url: string;
}

export async function startMarathonProc(
  master: string,
  extra: string[] = [],
  waitLeader = true,
): Promise<MarathonProc> {
  const port = await freePort();
  const proc = agora(`marathon:${port}`, [
    'marathon',
    '--master',
    master,
    '--http_port',
    String(port),
    ...(extra.includes('--zk') ? [] : ['--work_dir', tempDir('marathon')]),
    ...extra,
  ]);
  const url = `http://127.0.0.1:${port}`;
  await waitFor(
    () => `marathon on ${port} to answer /ping (output: ${proc.text().slice(-500)})`,
    async () => {
      if (proc.exited) throw new Error(`marathon exited: ${proc.text().slice(-2000)}`);
      return (await fetch(`${url}/ping`)).ok;
    },
    PROCESS_START_MS,
  );
  if (waitLeader)
    await waitFor('marathon to subscribe', async () => (await getJson(`${url}/v2/info`)).frameworkId !== null, 30_000);
  return { proc, port, url };
}

export async function send(
  url: string,
  method: string,
  path: string,
  body?: unknown,
  // biome-ignore lint/suspicious/noExplicitAny: JSON answers read field by field in the tests
): Promise<{ status: number; body: any }> {
  const r = await fetch(`${url}${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await r.text();
  return { status: r.status, body: text ? JSON.parse(text) : undefined };
}

/** A posix app serving HTTP on its port, checked by the agent (MESOS_HTTP), quick to become healthy. */
export function httpApp(id: string, instances: number, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id,
    cmd: 'exec python3 -m http.server $PORT0 --bind 127.0.0.1',
    cpus: 0.05,
    mem: 32,
    instances,
    healthChecks: [
      {
        protocol: 'MESOS_HTTP',
        portIndex: 0,
        path: '/',
        gracePeriodSeconds: 15,
        intervalSeconds: 1,
        timeoutSeconds: 2,
        delaySeconds: 0,
        maxConsecutiveFailures: 3,
      },
    ],
    ...extra,
  };
}
