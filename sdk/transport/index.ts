export { type BacklogBounds, type BacklogChange, BacklogMeter, overBound } from './backlog-meter.js';
export {
  backoffDelayMs,
  basicAuthorization,
  type ClientOptions,
  type ClientSecurity,
  type Credential,
  ReconnectingClient,
  resolveBackoff,
  secureUrl,
} from './client.js';
export {
  type BackpressureOptions,
  CloseCode,
  DEFAULT_BACKPRESSURE_HIGH_WATER_BYTES,
  DEFAULT_BACKPRESSURE_MAX_BUFFERED_BYTES,
  DEFAULT_CLIENT_MAX_BUFFERED_BYTES,
  DEFAULT_HEARTBEAT_INTERVAL_MS,
  DEFAULT_MAX_BUFFERED_BYTES,
  MAX_CLOSE_REASON_BYTES,
  type Peer,
  type TransportOptions,
  truncateUtf8,
} from './peer.js';
export {
  attachWebSocketServer,
  type ConnectionHandlers,
  type WebSocketServerHandle,
  type WebSocketServerOptions,
  type WsRoute,
} from './server.js';
