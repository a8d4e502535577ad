/** What the HTTP routes see of the service: the engine (on the leader, once loaded), the leader's address, the clock. */
import { Type } from 'typebox';
import type { Clock } from '../../../sdk/util/clock.js';
import type { Engine } from '../engine/engine.js';
import { JobInvalidError, NotReady } from '../errors.js';
import { type Checked, describeProblems } from '../model/index.js';

export interface ChronosHttpOptions extends Record<string, unknown> {
  /** The engine, when this instance leads and has loaded its state. */
  engine: () => Engine | undefined;
  /** `host:port` of the leader's HTTP API, when known. */
  leader: () => string | undefined;
  clock: Clock;
}

export function ready(opts: ChronosHttpOptions): Engine {
  const e = opts.engine();
  if (!e) throw new NotReady('this Chronos instance is not (yet) the leader with its state loaded; retry');
  return e;
}

/** The model's answer, or the catalogue's 400 naming every problem (path and what is wrong). */
export function checked<T>(c: Checked<T>): T {
  if (!c.ok) throw new JobInvalidError(describeProblems(c.problems));
  return c.value;
}

export const NameParams = Type.Object({ name: Type.String({ minLength: 1, maxLength: 200 }) });
export const IdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 200 }) });
export const AnyBody = Type.Unknown();
