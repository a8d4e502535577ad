/**
 * Where to connect, for anything that talks to the leading master (agents, the scheduler driver,
 * the CLI): `--master host:port` is fixed; `--master zk://host:2181/agora` follows the election.
 *
 * A master that is not the leader answers with a LEADER hint naming the leader it knows of. A
 * hint is tried for one connection attempt only, then our own detector decides again: after a
 * ZooKeeper restart a detector can name a stale leader (its ephemeral node outlives it by a
 * session timeout) while the masters already know better, but a master's view can be stale too.
 */
import type { Logger } from 'pino';
import type { MasterInfo } from '../protocol/types.js';
import { createDetector, type MasterDetector, sameMaster } from './detector.js';

export interface LeaderEndpoint {
  /** The WebSocket URL of the leader now, or undefined while none is known. */
  url: () => string | undefined;
  current: () => MasterInfo | undefined;
  /** Takes a master's LEADER hint; true when it changes where we connect (reconnect now). */
  hint: (leader: MasterInfo | undefined) => boolean;
  detector: MasterDetector;
  close(): Promise<void>;
}

export function followLeader(
  masterFlag: string,
  wsPath: string,
  opts: { logger?: Logger; onChange?: (leader: MasterInfo | undefined) => void; sessionTimeoutMs?: number } = {},
): LeaderEndpoint {
  const detector = createDetector(masterFlag, { logger: opts.logger, sessionTimeoutMs: opts.sessionTimeoutMs });
  let hinted: MasterInfo | undefined;
  const current = () => hinted ?? detector.current();
  detector.on('leader', (leader) => {
    hinted = undefined;
    opts.onChange?.(leader);
  });
  const url = () => {
    const m = current();
    hinted = undefined; // one attempt per hint
    return m ? `ws://${m.address.ip}:${m.address.port}${wsPath}` : undefined;
  };
  const hint = (leader: MasterInfo | undefined) => {
    if (!leader || sameMaster(leader, current())) return false;
    opts.logger?.info({ leader: leader.pid }, 'following the leader named by a master');
    hinted = leader;
    return true;
  };
  return { url, current, hint, detector, close: () => detector.close() };
}
