/**
 * Every error answer in one shape, `{code, message}`: Agora's own errors as they are, Fastify's
 * (validation, body size, media type, bad URL) mapped to the HTTP catalogue, anything else a 500
 * whose details stay in the log. A 5xx message never carries a stack or a host path.
 */
import { STATUS_CODES } from 'node:http';
import { AgoraError, type ErrorClass } from '../errors.js';
import {
  BadRequest,
  BadUrl,
  BodyTooLarge,
  HeaderTooLarge,
  Internal,
  InvalidRequest,
  MalformedJson,
  RequestTimeout,
  UnsupportedMediaType,
} from './errors.js';

/** The body of every error answer; `path` only for schema failures (`/0/weight`). */
export interface ErrorBody {
  code: string;
  message: string;
  path?: string;
}

interface FastifyLikeError extends Error {
  code?: string;
  statusCode?: number;
  validation?: ValidationIssue[];
  validationContext?: string;
}

const FASTIFY_CODES: Record<string, ErrorClass> = {
  FST_ERR_CTP_BODY_TOO_LARGE: BodyTooLarge,
  FST_ERR_CTP_INVALID_MEDIA_TYPE: UnsupportedMediaType,
  FST_ERR_CTP_INVALID_TYPE: UnsupportedMediaType,
  FST_ERR_CTP_INVALID_JSON_BODY: MalformedJson,
  FST_ERR_CTP_EMPTY_JSON_BODY: MalformedJson,
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: BadRequest,
  FST_ERR_BAD_URL: BadUrl,
  FST_ERR_MAX_PARAM_LENGTH: BadUrl,
};

/** Absolute paths of two or more segments, as a host path would appear in a message. */
const HOST_PATH = /(?:\/[\w.@+~-]+){2,}/g;

export interface MappedError {
  status: number;
  body: ErrorBody;
  /** Server-side failure: log it (the answer tells the caller nothing more). */
  internal: boolean;
}

/** Maps any thrown value to the answer; `internal` is the component's 500 entry. */
export function mapError(err: unknown, internal: ErrorClass = Internal): MappedError {
  if (err instanceof AgoraError) {
    const status = err.statusCode;
    const message = status >= 500 ? err.message.replace(HOST_PATH, '<path>') : err.message;
    // A 503 is a state the caller can wait out (no leader yet, a feature not configured), not a fault.
    return { status, body: { code: err.code, message }, internal: status >= 500 && status !== 503 };
  }
  const e = (err ?? {}) as FastifyLikeError;
  if (Array.isArray(e.validation)) {
    const described = describeValidation(e.validation);
    // A path is made of the caller's own keys: cut each, so that an answer never echoes a huge key back.
    const path = cutPath(described.path);
    return {
      status: InvalidRequest.statusCode,
      body: {
        code: InvalidRequest.code,
        message: `${e.validationContext ?? 'request'}${path} ${described.message}`,
        path,
      },
      internal: false,
    };
  }
  const mapped = e.code ? FASTIFY_CODES[e.code] : undefined;
  if (mapped) return { status: mapped.statusCode, body: { code: mapped.code, message: e.message }, internal: false };
  if (typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) {
    return { status: BadRequest.statusCode, body: { code: BadRequest.code, message: e.message }, internal: false };
  }
  return {
    status: internal.statusCode,
    body: { code: internal.code, message: 'internal error; the details are in the server log' },
    internal: true,
  };
}

/** Longest path segment an error answer repeats; longer ones are cut with an ellipsis. */
const MAX_PATH_SEGMENT = 64;

function cutPath(path: string): string {
  if (path.length <= MAX_PATH_SEGMENT) return path;
  return path
    .split('/')
    .map((seg) => (seg.length > MAX_PATH_SEGMENT ? `${seg.slice(0, MAX_PATH_SEGMENT)}…` : seg))
    .join('/')
    .slice(0, 16 * (MAX_PATH_SEGMENT + 2));
}

type ValidationIssue = { instancePath?: string; message?: string; keyword?: string };

/** The most specific issue: the deepest path; a union that matched no form says so. */
export function describeValidation(issues: readonly ValidationIssue[]): { path: string; message: string } {
  const depth = (v: ValidationIssue) => (v.instancePath ?? '').split('/').length;
  let pick: ValidationIssue | undefined;
  for (const v of issues) if (v.keyword !== 'anyOf' && (!pick || depth(v) > depth(pick))) pick = v;
  pick ??= issues[0];
  const path = pick?.instancePath ?? '';
  if (!pick) return { path, message: 'is invalid' };
  if (pick.keyword === 'boolean') return { path, message: 'is not allowed here' };
  if (issues.some((v) => v.keyword === 'anyOf' && v.instancePath === path)) {
    return { path, message: 'matches none of the accepted forms' };
  }
  return { path, message: pick.message ?? 'is invalid' };
}

/** A raw HTTP/1.1 error answer, for sockets no request object owns (client errors, refused upgrades). */
export function rawErrorResponse(err: AgoraError, headers: Record<string, string> = {}): string {
  const body = JSON.stringify(err.toJSON());
  const extra = Object.entries(headers)
    .map(([k, v]) => `${k}: ${v.replace(/[\r\n]/g, ' ')}\r\n`)
    .join('');
  return (
    `HTTP/1.1 ${err.statusCode} ${STATUS_CODES[err.statusCode] ?? 'Error'}\r\n` +
    `Connection: close\r\nContent-Type: application/json; charset=utf-8\r\n${extra}` +
    `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`
  );
}

/** The answer to a malformed request the Node parser refused (HPE_* codes). */
export function clientErrorOf(code: string | undefined): AgoraError {
  if (code === 'HPE_HEADER_OVERFLOW') return new HeaderTooLarge('request headers are over the size limit');
  if (code === 'ERR_HTTP_REQUEST_TIMEOUT') return new RequestTimeout('the request took too long to arrive');
  return new BadRequest('malformed HTTP request');
}
