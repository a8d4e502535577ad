/**
 * How the driver reaches a master: a connection that keeps itself up. The default is the WebSocket
 * client following the leader (ZooKeeper or a fixed address); `agora/sdk/testing` plugs in an
 * in-memory one that talks to a real master's logic without sockets.
 */
import type pino from 'pino';
import { Direction, SCHEDULER_WS_PATH, type SchedulerCall, type SchedulerEvent } from '../protocol/messages.js';
import type { MasterInfo } from '../protocol/types.js';
import { type ClientSecurity, ReconnectingClient } from '../transport/index.js';
import type { Clock } from '../util/clock.js';
import type { Rng } from '../util/random.js';
import { followLeader, type LeaderEndpoint } from '../zk/follow-leader.js';

/** What a transport tells the driver. */
export interface TransportHandlers {
  /** A connection is open: the driver sends SUBSCRIBE. */
  onOpen(): void;
  onMessage(event: SchedulerEvent): void;
  /** A connection that had opened is closed (once per onOpen), with the close code and reason. */
  onClose(code: number, reason: string): void;
  /** The master refused the connection (HTTP status, `{code, message}` of its answer). */
  onRefused(status: number, code: string | undefined, message: string | undefined): void;
  /** The leading master changed (a new election result): the driver reconnects, with backoff. */
  onLeaderChange(): void;
  /** A connection attempt failed before it opened: why, and how many in a row have failed. */
  onUnreachable?(reason: string, failures: number): void;
}

export interface SchedulerTransport {
  start(): void;
  /** Closes the connection for good; resolves when it is closed. */
  stop(): Promise<void>;
  /** Sends a call on the open connection; false when there is none. */
  send(call: SchedulerCall): boolean;
  /** Drops the current connection (if any) and opens a new one at once (to the leader known now). */
  reconnectNow(): void;
  /** Takes a master's LEADER hint; true when it changes where to connect. */
  hint(leader: MasterInfo | undefined): boolean;
}

/** What a transport factory is given. */
export interface TransportContext extends ClientSecurity {
  clock: Clock;
  rng: Rng;
  logger: pino.Logger;
  /** The driver's re-subscription backoff (the in-memory link also uses it for failed attempts). */
  backoff: { initialMs: number; maxMs: number };
}

export type TransportFactory = (handlers: TransportHandlers, ctx: TransportContext) => SchedulerTransport;

/** Turns `host:port` into the scheduler WebSocket URL. */
export function schedulerUrl(hostPort: string): string {
  if (hostPort.startsWith('ws://') || hostPort.startsWith('wss://')) return hostPort;
  return `ws://${hostPort}${SCHEDULER_WS_PATH}`;
}

/**
 * The WebSocket transport: `host:port`, `zk://host:2181/agora` (follows the election), or a
 * function giving `host:port` on every attempt.
 */
export function webSocketTransport(
  master: string | (() => string | undefined | Promise<string | undefined>),
): TransportFactory {
  return (handlers, ctx) => {
    let endpoint: LeaderEndpoint | undefined;
    let url: () => string | undefined | Promise<string | undefined>;
    let lastUrl: string | undefined;
    if (typeof master === 'string') {
      endpoint = followLeader(master, SCHEDULER_WS_PATH, {
        logger: ctx.logger,
        onChange: (leader) => {
          // The detector names its first leader too: only a different one is a change.
          const next = leader ? `ws://${leader.address.ip}:${leader.address.port}${SCHEDULER_WS_PATH}` : undefined;
          if (lastUrl !== undefined && next !== lastUrl) handlers.onLeaderChange();
        },
      });
      const e = endpoint;
      url = () => {
        const u = e.url();
        if (u !== undefined) lastUrl = u;
        return u;
      };
    } else {
      url = async () => {
        const m = await master();
        return m ? schedulerUrl(m) : undefined;
      };
    }
    const client = new ReconnectingClient({
      url,
      inbound: Direction.MasterToScheduler,
      onOpen: () => handlers.onOpen(),
      onMessage: (e) => handlers.onMessage(e),
      onClose: (code, reason) => handlers.onClose(code, reason),
      onRefused: (status, code, message) => handlers.onRefused(status, code, message),
      onAttemptFailed: (reason, failures) => handlers.onUnreachable?.(reason, failures),
      logger: ctx.logger.child({ component: 'transport' }),
      clock: ctx.clock,
      rng: ctx.rng,
      // Its own reconnection backoff (200 ms to 10 s) for failed attempts; the driver's `backoff`
      // paces re-subscriptions it decides on (silence, leader change).
      credential: ctx.credential,
      tls: ctx.tls,
    });
    return {
      start: () => client.start(),
      stop: async () => {
        await client.stop();
        await endpoint?.close();
      },
      send: (call) => client.send(call),
      reconnectNow: () => client.reconnectNow(),
      hint: (leader) => endpoint?.hint(leader) ?? false,
    };
  };
}
