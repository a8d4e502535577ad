/**
 * `agora local` runs every agent on one host. Agents offering the same ports there hand one port to
 * two tasks: the second fails to bind, and its agent's health check of 127.0.0.1:port, answered by
 * the first, calls it healthy (a Marathon rolling upgrade then kills an old instance for a task that
 * never served; docs/marathon.md). So each agent gets its own slice of the default port range unless
 * `--resources` names ports itself.
 */
import { Resources } from '../sdk/resources/resources.js';

/** The agents' default port range (agent/detect.ts, Mesos's default). */
export const DEFAULT_PORTS = { begin: 31000, end: 32000 } as const;

/** Agent `index` of `count`'s `--resources`: the flag as given, plus its own ports when it names none. */
export function localAgentResources(flag: string | undefined, index: number, count: number): string {
  if (
    flag &&
    Resources.parse(flag)
      .toList()
      .some((r) => r.name === 'ports')
  )
    return flag;
  const size = Math.floor((DEFAULT_PORTS.end - DEFAULT_PORTS.begin + 1) / Math.max(1, count));
  const begin = DEFAULT_PORTS.begin + index * size;
  const ports = `ports:[${begin}-${begin + size - 1}]`;
  return flag ? `${flag};${ports}` : ports;
}
