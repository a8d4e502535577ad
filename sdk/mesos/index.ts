/**
 * Mesos's v1 scheduler HTTP API in pure code: RecordIO framing and the translation between
 * Mesos's v1 JSON and Agora's wire messages, both ways. No I/O (master/http/v1-scheduler.ts serves it).
 */
export { callFromMesos, callToMesos, type FromMesosCall, frameworkFromMesos, SUPPORTED_MESOS_CALLS } from './calls.js';
export * as mesosErrors from './errors.js';
export {
  type AgentAddress,
  type EventContext,
  eventFromMesos,
  eventToMesos,
  masterInfoToMesos,
  offerToMesos,
  statusToMesos,
} from './events.js';
export {
  DEFAULT_MAX_RECORD_BYTES,
  decodeRecords,
  encodeJsonRecord,
  encodeRecord,
  RecordIoDecoder,
} from './recordio.js';
export * from './schema.js';
export { resourceFromMesos, resourceToMesos, taskFromMesos, taskToMesos, Untranslatable } from './tasks.js';
export { ipv4ToUint32, uint32ToIpv4, uuidFromBase64, uuidToBase64 } from './values.js';
