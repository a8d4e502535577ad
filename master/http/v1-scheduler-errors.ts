/**
 * The catalogue of Mesos's v1 scheduler HTTP API on the master (`POST /api/v1/scheduler`). Codes
 * are stable and never reused; docs/errors.md lists them. Unknown and torn-down frameworks reuse
 * the master's codes (AGORA_MASTER_UNKNOWN_FRAMEWORK, AGORA_MASTER_FRAMEWORK_REMOVED).
 */
import { defineError } from '../../sdk/errors.js';

/** A body that is not JSON (`application/x-protobuf` among them): Agora speaks Mesos's JSON only. */
export const UnsupportedMediaType = defineError(
  'AGORA_SCHEDULER_HTTP_UNSUPPORTED_MEDIA_TYPE',
  415,
  'UnsupportedMediaTypeError',
);
/** No Content-Type at all (Mesos: 400). */
export const MissingContentType = defineError('AGORA_SCHEDULER_HTTP_NO_CONTENT_TYPE', 400, 'MissingContentTypeError');
/** A SUBSCRIBE whose `Accept` allows no JSON. */
export const NotAcceptable = defineError('AGORA_SCHEDULER_HTTP_NOT_ACCEPTABLE', 406, 'NotAcceptableError');
/** `Mesos-Stream-Id` missing on a call, given on a SUBSCRIBE, or not the framework's current stream. */
export const BadStreamId = defineError('AGORA_SCHEDULER_HTTP_BAD_STREAM_ID', 400, 'BadStreamIdError');
/** A call for a framework that has no open subscription, or whose subscription is not an HTTP stream. */
export const NotSubscribedHttp = defineError('AGORA_SCHEDULER_HTTP_NOT_SUBSCRIBED', 403, 'NotSubscribedHttpError');
