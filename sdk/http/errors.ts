/**
 * The HTTP edge's error catalogue, shared by every Agora HTTP server (master, agent, and the
 * frameworks to come): what the common layer in `sdk/http` answers before or around a route.
 * docs/errors.md lists every code; never rename or reuse one. Add new entries at the end.
 */
import { defineError } from '../errors.js';

export const NotFound = defineError('AGORA_HTTP_NOT_FOUND', 404, 'NotFoundError');
export const MethodNotAllowed = defineError('AGORA_HTTP_METHOD_NOT_ALLOWED', 405, 'MethodNotAllowedError');
/** A request that does not match its route's schema (params, query, headers or body). */
export const InvalidRequest = defineError('AGORA_HTTP_INVALID_REQUEST', 400, 'InvalidRequestError');
export const MalformedJson = defineError('AGORA_HTTP_MALFORMED_JSON', 400, 'MalformedJsonError');
export const JsonTooDeep = defineError('AGORA_HTTP_JSON_TOO_DEEP', 400, 'JsonTooDeepError');
export const BodyTooLarge = defineError('AGORA_HTTP_BODY_TOO_LARGE', 413, 'BodyTooLargeError');
export const UnsupportedMediaType = defineError('AGORA_HTTP_UNSUPPORTED_MEDIA_TYPE', 415, 'UnsupportedMediaTypeError');
export const HeaderTooLarge = defineError('AGORA_HTTP_HEADER_TOO_LARGE', 431, 'HeaderTooLargeError');
/** A path that is not valid percent-encoding, or a path parameter over the length limit. */
export const BadUrl = defineError('AGORA_HTTP_BAD_URL', 400, 'BadUrlError');
/** Anything else the HTTP layer refuses: a malformed request line, bad Content-Length, ... */
export const BadRequest = defineError('AGORA_HTTP_BAD_REQUEST', 400, 'BadRequestError');
export const RequestTimeout = defineError('AGORA_HTTP_REQUEST_TIMEOUT', 408, 'RequestTimeoutError');
export const Unauthenticated = defineError('AGORA_HTTP_UNAUTHENTICATED', 401, 'UnauthenticatedError');
export const Forbidden = defineError('AGORA_HTTP_FORBIDDEN', 403, 'ForbiddenError');
/** An unexpected failure; details are in the server's log, never in the answer. */
export const Internal = defineError('AGORA_HTTP_INTERNAL', 500, 'InternalError');
export const JsonTooManyValues = defineError('AGORA_HTTP_JSON_TOO_MANY_VALUES', 400, 'JsonTooManyValuesError');
/** A caller over its rate limit (`--rate_limits`): the call was not carried out. */
export const RateLimited = defineError('AGORA_HTTP_RATE_LIMITED', 429, 'RateLimitedError');
/** A `?jsonp=` callback name that is not a plain (dotted) JavaScript identifier. */
export const BadJsonpCallback = defineError('AGORA_HTTP_BAD_JSONP_CALLBACK', 400, 'BadJsonpCallbackError');
