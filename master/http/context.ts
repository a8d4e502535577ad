/** What the master's HTTP plugins are given: the Master (once built) and the leader as detected. */
import type { MasterInfo } from '../../sdk/protocol/types.js';
import { NoLeader } from '../errors.js';
import type { Master } from '../master.js';
import type { OperatorEventStream } from './operator-v1-stream.js';

export type MasterHttpOptions = {
  /** The Master, or undefined while the server is still starting (routes are declared first). */
  current: () => Master | undefined;
  /** The leading master as this one knows it. */
  leader: () => MasterInfo | undefined;
  /** The flags the master was started with, as given (`/master/state`, `/flags`, GET_FLAGS). */
  flags?: Record<string, string>;
  /** The v1 operator API's event stream (SUBSCRIBE); absent: SUBSCRIBE answers 503. */
  events?: OperatorEventStream;
  /** The master's logger's level, as GET_LOGGING_LEVEL answers it. */
  loggingLevel?: () => string;
};

/** The Master, or 503 while it is being built. */
export function ready(opts: MasterHttpOptions): Master {
  const m = opts.current();
  if (!m) throw new NoLeader('the master is starting; retry in a few seconds');
  return m;
}
