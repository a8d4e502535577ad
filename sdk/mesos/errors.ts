/**
 * The catalogue of the Mesos v1 JSON translator and RecordIO (sdk/mesos/): one class per failure,
 * each with a stable code, never reused. docs/errors.md lists them.
 */
import { defineError } from '../errors.js';

/** A Mesos v1 scheduler call that is not valid JSON of its kind, or that Agora cannot carry out. */
export const InvalidMesosCall = defineError('AGORA_MESOS_INVALID_CALL', 400, 'InvalidMesosCallError');
/** A Mesos call of a type Agora does not implement (ACCEPT_INVERSE_OFFERS, RECONCILE_OPERATIONS...). */
export const UnsupportedMesosCall = defineError('AGORA_MESOS_UNSUPPORTED_CALL', 400, 'UnsupportedMesosCallError');
/** A RecordIO stream that does not follow the format (a length that is not digits, a truncated record). */
export const RecordIoMalformed = defineError('AGORA_MESOS_RECORDIO_MALFORMED', 400, 'RecordIoMalformedError');
/** A RecordIO record longer than the reader's bound. */
export const RecordIoTooLarge = defineError('AGORA_MESOS_RECORDIO_TOO_LARGE', 413, 'RecordIoTooLargeError');
/** A Mesos v1 event that is not valid JSON of its kind (read by Agora's side of the translator). */
export const InvalidMesosEvent = defineError('AGORA_MESOS_INVALID_EVENT', 400, 'InvalidMesosEventError');
