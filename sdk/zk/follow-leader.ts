/**
 * Where to connect, for anything that talks to the leading master (agents, the scheduler driver,
 * the CLI): `--master host:port` is fixed; `--master zk://host:2181/agora` follows the election.
 * `onChange` fires when the leader changes, so a connection to the old one can be dropped at once.
 */
import type { Logger } from 'pino';
import type { MasterInfo } from '../protocol/types.js';
import { createDetector, type MasterDetector } from './detector.js';

export interface LeaderEndpoint {
  /** The WebSocket URL of the leader now, or undefined while none is known. */
  url: () => string | undefined;
  current: () => MasterInfo | undefined;
  detector: MasterDetector;
  close(): Promise<void>;
}

export function followLeader(
  masterFlag: string,
  wsPath: string,
  opts: { logger?: Logger; onChange?: (leader: MasterInfo | undefined) => void; sessionTimeoutMs?: number } = {},
): LeaderEndpoint {
  const detector = createDetector(masterFlag, { logger: opts.logger, sessionTimeoutMs: opts.sessionTimeoutMs });
  detector.on('leader', (leader) => opts.onChange?.(leader));
  const url = () => {
    const m = detector.current();
    return m ? `ws://${m.address.ip}:${m.address.port}${wsPath}` : undefined;
  };
  return { url, current: () => detector.current(), detector, close: () => detector.close() };
}
