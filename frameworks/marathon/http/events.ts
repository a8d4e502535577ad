/**
 * `GET /v2/events`: Server-Sent Events (`Accept: text/event-stream`), `?event_type=` filters (may
 * repeat). Each event is `event: <type>` and `data: <json>`. A subscriber's socket buffer is its
 * bounded queue: one that holds more than `maxBufferedBytes` unsent is dropped, so a slow reader
 * never slows the scheduler.
 */

import type { AgoraPlugin } from 'agora/sdk';
import { Type } from 'typebox';
import { BadRequest } from '../errors.js';
import { type MarathonHttpContext, READ } from './context.js';

const Query = Type.Object({
  event_type: Type.Optional(
    Type.Union([Type.String({ maxLength: 100 }), Type.Array(Type.String({ maxLength: 100 }), { maxItems: 64 })]),
  ),
  plan_format: Type.Optional(Type.String({ maxLength: 10 })),
});

export const DEFAULT_MAX_BUFFERED_BYTES = 4 * 1024 * 1024;

export function eventRoutes(ctx: MarathonHttpContext, maxBufferedBytes = DEFAULT_MAX_BUFFERED_BYTES): AgoraPlugin {
  return async (app) => {
    app.get('/v2/events', { config: { action: READ }, schema: { querystring: Query } }, async (req, reply) => {
      const accept = String(req.headers.accept ?? '');
      if (!accept.includes('text/event-stream') && !accept.includes('*/*') && accept !== '') {
        throw new BadRequest('Accept: text/event-stream is required for /v2/events');
      }
      const s = ctx.service();
      const types = new Set(
        Array.isArray(req.query.event_type) ? req.query.event_type : req.query.event_type ? [req.query.event_type] : [],
      );
      reply.hijack();
      const res = reply.raw;
      res.writeHead(200, {
        'content-type': 'text/event-stream',
        'cache-control': 'no-cache, no-store',
        connection: 'keep-alive',
        'x-accel-buffering': 'no',
      });
      const attached = {
        eventType: 'event_stream_attached',
        timestamp: new Date(ctx.clock.now()).toISOString(),
        remoteAddress: req.ip,
      };
      res.write(`event: event_stream_attached\ndata: ${JSON.stringify(attached)}\n\n`);
      let closed = false;
      const unsubscribe = s.events.subscribe({
        types,
        write(event, text) {
          if (closed) return true;
          if (res.writableLength > maxBufferedBytes) return false;
          res.write(`event: ${event.eventType}\ndata: ${text}\n\n`);
          return true;
        },
        close(reason) {
          if (closed) return;
          closed = true;
          req.log.warn({ reason }, 'event subscriber dropped');
          res.destroy();
        },
      });
      // A comment line now and then keeps proxies from closing an idle stream.
      const keepAlive = setInterval(() => {
        if (!closed && res.writableLength <= maxBufferedBytes) res.write(':\n\n');
      }, 15_000);
      keepAlive.unref();
      res.on('close', () => {
        closed = true;
        clearInterval(keepAlive);
        unsubscribe();
      });
    });
  };
}
