/**
 * Runs a command inside a task's container (`docker exec`), for COMMAND health checks of Docker
 * tasks: the check must see the container's filesystem and network, not the host's.
 */
import type Docker from 'dockerode';
import type { CommandInfo } from '../../../sdk/protocol/types.js';
import type { Clock } from '../../../sdk/util/clock.js';
import type { CommandRunResult } from '../../health/index.js';

const MAX_OUTPUT = 4096;

export async function execInContainer(
  docker: Docker,
  clock: Clock,
  containerId: string,
  command: CommandInfo,
  opts: { env: Record<string, string>; timeoutMs: number },
): Promise<CommandRunResult> {
  const cmd =
    command.shell === false
      ? [command.value ?? '', ...(command.arguments ?? [])]
      : ['/bin/sh', '-c', command.value ?? ''];
  const env = { ...opts.env };
  for (const v of command.environment?.variables ?? []) env[v.name] = v.value ?? '';
  const run = async (): Promise<CommandRunResult> => {
    const exec = await docker.getContainer(containerId).exec({
      Cmd: cmd,
      Env: Object.entries(env).map(([k, v]) => `${k}=${v}`),
      AttachStdout: true,
      AttachStderr: true,
    });
    const stream = await exec.start({ hijack: true, stdin: false });
    let output = '';
    stream.on('data', (b: Buffer) => {
      if (output.length < MAX_OUTPUT) output += b.toString('utf8');
    });
    await new Promise<void>((resolve) => {
      stream.on('end', resolve);
      stream.on('close', resolve);
      stream.on('error', () => resolve());
    });
    const info = await exec.inspect();
    return { exitCode: info.ExitCode ?? null, output: output.slice(0, MAX_OUTPUT) };
  };
  let timer: { cancel(): void } | undefined;
  const timeout = new Promise<CommandRunResult>((resolve) => {
    timer = clock
      .setTimeout(() => resolve({ exitCode: null, output: `timed out after ${opts.timeoutMs} ms` }), opts.timeoutMs)
      .unref();
  });
  try {
    return await Promise.race([run().catch((e: Error) => ({ exitCode: null, output: e.message })), timeout]);
  } finally {
    timer?.cancel();
  }
}
