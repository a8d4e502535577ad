/**
 * Marathon's error shapes on its routes: `{message, details?}` with the stable `code` beside them.
 * 400 `Invalid JSON`, 422 `Object is not valid` with details, 409 locked with the deployments,
 * 404 for unknown ids; anything else through the common mapping.
 */

import { AgoraError, mapError } from 'agora/sdk';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { LockedError } from '../core/service.js';
import { SpecError } from '../core/spec.js';
import { Internal, InvalidJson, InvalidObject } from '../errors.js';

export function marathonErrorHandler(
  err: FastifyError | Error,
  req: FastifyRequest,
  reply: FastifyReply,
): FastifyReply {
  if (err instanceof SpecError) {
    return reply.status(err.status).send({
      code: err.status === 422 ? InvalidObject.code : InvalidJson.code,
      message: err.message,
      details: err.details,
    });
  }
  if (err instanceof LockedError) {
    return reply
      .status(409)
      .send({ code: err.code, message: err.message, deployments: err.deploymentIds.map((id) => ({ id })) });
  }
  const code = (err as FastifyError).code;
  if (
    code === 'FST_ERR_CTP_INVALID_JSON_BODY' ||
    code === 'FST_ERR_CTP_EMPTY_JSON_BODY' ||
    err instanceof SyntaxError
  ) {
    return reply
      .status(400)
      .send({ code: InvalidJson.code, message: 'Invalid JSON', details: [{ path: '/', errors: [err.message] }] });
  }
  const validation = (err as FastifyError).validation;
  if (Array.isArray(validation)) {
    const m = mapError(err);
    return reply.status(400).send({
      code: m.body.code,
      message: m.body.message,
      details: [{ path: m.body.path ?? '/', errors: [m.body.message] }],
    });
  }
  const m = mapError(err, Internal);
  if (m.internal) req.log.error({ err }, 'marathon request failed');
  if (err instanceof AgoraError && err.statusCode === 401) void reply.header('www-authenticate', 'Basic realm="agora"');
  return reply.status(m.status).send({ code: m.body.code, message: m.body.message });
}
