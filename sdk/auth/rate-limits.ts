/**
 * Per-principal rate limits in Mesos's `--rate_limits` JSON:
 * `{"limits": [{"principal": "p", "qps": 10, "capacity": 20}], "aggregate_default_qps": 5,
 * "aggregate_default_capacity": 10}`. A listed principal with `qps` gets its own budget; listed
 * without `qps` it is not limited; every other caller (anonymous ones too) shares one aggregate
 * budget when `aggregate_default_qps` is set, else is not limited.
 *
 * Mesos queues up to `capacity` messages; an HTTP write is answered at once instead, so here a
 * budget is a token bucket refilled at `qps` that holds at most `capacity` calls (default: one
 * second's worth, at least 1). A call over budget is refused (429), not delayed.
 */
import { type Static, Type } from 'typebox';
import type { Clock } from '../util/clock.js';
import { BadRateLimits } from './errors.js';
import { schemaProblem } from './schema.js';

export const MAX_RATE_LIMITS = 10_000;
const Qps = Type.Number({ exclusiveMinimum: 0, maximum: 1e6 });
const Capacity = Type.Integer({ minimum: 1, maximum: 1e9 });

export const RateLimitsJson = Type.Object(
  {
    limits: Type.Optional(
      Type.Array(
        Type.Object(
          {
            principal: Type.String({ minLength: 1, maxLength: 256 }),
            qps: Type.Optional(Qps),
            capacity: Type.Optional(Capacity),
          },
          { additionalProperties: false },
        ),
        { maxItems: MAX_RATE_LIMITS },
      ),
    ),
    aggregate_default_qps: Type.Optional(Qps),
    aggregate_default_capacity: Type.Optional(Capacity),
  },
  { additionalProperties: false },
);
export type RateLimitsJson = Static<typeof RateLimitsJson>;

export function parseRateLimits(text: string): RateLimitsJson {
  if (Buffer.byteLength(text, 'utf8') > 1024 * 1024) throw new BadRateLimits('rate limits are over 1 MiB');
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new BadRateLimits('rate limits are not valid JSON');
  }
  const p = schemaProblem(RateLimitsJson, json);
  if (p) throw new BadRateLimits(`rate limits: ${p}`);
  const r = json as RateLimitsJson;
  const seen = new Set<string>();
  for (const l of r.limits ?? []) {
    if (seen.has(l.principal)) throw new BadRateLimits(`rate limits: principal '${l.principal}' is listed twice`);
    seen.add(l.principal);
  }
  return r;
}

interface Bucket {
  qps: number;
  capacity: number;
  tokens: number;
  at: number;
}

const bucket = (qps: number, capacity: number | undefined, now: number): Bucket => {
  const cap = capacity ?? Math.max(1, Math.ceil(qps));
  return { qps, capacity: cap, tokens: cap, at: now };
};

/** Decides, per call, whether a principal is within its budget (time from the Clock). */
export class RateLimiter {
  private readonly own = new Map<string, Bucket | 'unlimited'>();
  private readonly aggregate: Bucket | undefined;

  constructor(
    limits: RateLimitsJson,
    private readonly clock: Clock,
  ) {
    const now = clock.now();
    for (const l of limits.limits ?? []) {
      this.own.set(l.principal, l.qps === undefined ? 'unlimited' : bucket(l.qps, l.capacity, now));
    }
    if (limits.aggregate_default_qps !== undefined) {
      this.aggregate = bucket(limits.aggregate_default_qps, limits.aggregate_default_capacity, now);
    }
  }

  /** Takes one call from the principal's budget; false when there is none left. */
  take(principal: string | undefined): boolean {
    const b = (principal !== undefined ? this.own.get(principal) : undefined) ?? this.aggregate;
    if (!b || b === 'unlimited') return true;
    const now = this.clock.now();
    b.tokens = Math.min(b.capacity, b.tokens + (Math.max(0, now - b.at) * b.qps) / 1000);
    b.at = now;
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  }
}
